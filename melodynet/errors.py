"""Errors a user can cause: each prints as one line and exits non-zero."""

import click


class MelodynetError(click.ClickException):
    """A problem with the user's input, files or options."""


class SongError(MelodynetError):
    """A song file that cannot be read; the message names the file and position."""


class BundleError(MelodynetError):
    """A model bundle that is missing, incomplete or incompatible."""
