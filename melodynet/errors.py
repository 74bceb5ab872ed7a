"""Errors a user can cause, in the terms of the Python API.

Each carries one line of text that says what went wrong and what was expected. The
command line prints it as ``Error: ...`` and exits non-zero, naming the flag where the
API names an option (``window must be at least 1`` becomes ``--window must be ...``).
Anything else that escapes is a bug, not the user's fault.
"""

from __future__ import annotations


class MelodynetError(Exception):
    """A problem with the user's input, files or options."""

    def __init__(self, message: str, *, option: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.option = option
        """The API option at fault (``"window"``), if one is."""

    def __str__(self) -> str:
        return self.message


class SongError(MelodynetError):
    """A song that cannot be read or used; the message names the file and position."""


class BundleError(MelodynetError):
    """A model bundle that is missing, incomplete or incompatible."""


class ModelError(MelodynetError):
    """A model or encoding that is not installed, or cannot do what was asked."""


class OptionError(MelodynetError):
    """An option value out of range, of the wrong type, or in a combination that cannot work.

    The message starts with the option's API name: ``OptionError("window must be at least
    1, not 0", option="window")``.
    """

    def __init__(self, message: str, option: str) -> None:
        super().__init__(message, option=option)


class OutputError(MelodynetError):
    """A file that cannot be written: no writer for its suffix, no directory, no program."""


def one_line(exc: BaseException, limit: int = 200) -> str:
    """An exception's text on one line, at most ``limit`` characters, or its type's name."""
    return " ".join(str(exc).split())[:limit] or type(exc).__name__


class TrainingInterrupted(MelodynetError):
    """Training was asked to stop (Ctrl-C, SIGTERM, a ``stop`` callback) before it ended.

    ``directory`` holds the bundle as it stood (None if training had nowhere to save), and
    ``epochs`` the complete epochs in it; training resumes from it exactly.
    """

    def __init__(self, message: str, directory=None, epochs: int = 0) -> None:
        super().__init__(message)
        self.directory = directory
        self.epochs = epochs


class MelodynetWarning(UserWarning):
    """A report worth a line to the user: a song skipped, a choice made for them."""


class PluginWarning(MelodynetWarning):
    """A plugin that failed to load or register; everything else keeps working."""


def warn(message: str, category: type[MelodynetWarning] = MelodynetWarning) -> None:
    """Report ``message`` as a warning a caller can capture (the command line prints it)."""
    import warnings

    warnings.warn(category(message), stacklevel=3)
