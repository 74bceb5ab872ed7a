from melodynet.cli import main

main()
