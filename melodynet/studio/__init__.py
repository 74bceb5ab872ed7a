"""melodynet studio: a local web app to train, steer, see and hear melodies (docs/studio.md).

Built on the public API: the studio reads, trains, loads and generates through
``melodynet`` and engraves and plays through its renderers. The modules, one job each:

- ``config``: the settings (data directory, token, bound address) and their defaults
- ``security``: the guard every request passes (Host header, token, body size, origin)
- ``storage``: the data directory and the only way from a client's id to a file
- ``messages``: errors as the page shows them (the command line's line, in the page's terms)
- ``library``: the songs (bundled, uploaded, music21's corpus) and references to them
  (compressed songs are checked by ``melodynet.songs.archive`` before they expand)
- ``renders``: scores (verovio SVG), audio (WAV) and downloads, cached on disk
- ``models``: the bundles (the person's own and the pretrained ones plugins ship) and a
  small cache of loaded models
- ``generation``: the page's request as ``Model.generate``'s, the melodies kept on disk
- ``surprise``: each note's information content under the model, as colours
- ``jobs``: the training queue (one at a time) and its records on disk; ``events``: what
  it publishes for the pages listening
- ``api_*``, ``pages``: the HTTP routes; ``app`` puts them together; ``server`` runs it
"""
