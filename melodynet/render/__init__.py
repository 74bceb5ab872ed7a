"""Showing and playing songs: engraving, audio, learning curves and the HTML report.

One job per module, each importing its heavy library (music21, verovio,
numpy, matplotlib) only when called:

- ``notation``: a song as a music21 score and MusicXML, ready to engrave.
- ``svg``: engraved sheet music as one SVG, through verovio.
- ``lilypond``: PDF and PNG through the ``lilypond`` program.
- ``synth``: the built-in synthesizer (numpy).
- ``audio``: WAV files, through FluidSynth when installed, else ``synth``.
- ``curves``: learning curves with matplotlib.
- ``report``: the self-contained HTML report.
"""
