"""Training: options, data, the loop, and `melodynet.train` around them."""
