"""The built-in encodings, models, readers and writers: plugins like any other."""
