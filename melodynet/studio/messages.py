"""Errors as the page shows them: the one line the command line prints for the same
mistake (``--window must be at least 1, not 0``), except where the command line names
something the page does not have.

The command line's words come from ``melodynet.cli.errors.cli_message`` (options become
their flags); the page keeps the API's name for the options in ``PAGE_NAMES``: the primer
is ``--seed`` on the command line, but in the page it is the Primer field (and ``--seed``
would read as its Random seed field); the songs are the command's ``SONGS`` argument,
but in the page they are the songs ticked in the list. An API setting the page has as a
control of its own (``PAGE_CONTROLS``) is named by its label: ``quantize=True`` (the
command line's ``--quantize``) is the 'quantize the primer' checkbox. The library's
messages are not changed: the command line keeps its own.

melodynet's warnings (what the page shows as remarks) are caught one block at a time
(``WARNINGS``): ``warnings.catch_warnings`` changes them for the whole process.
"""

from __future__ import annotations

import threading

from melodynet.errors import MelodynetError, one_line

PAGE_NAMES = frozenset({"primer", "songs"})
"""API options the page names as the API does (its fields carry these names)."""
PAGE_CONTROLS = {"quantize=True": "'quantize the primer'"}
"""API settings the messages name, as the page's controls for them are labelled."""
WARNINGS = threading.Lock()
"""Held while melodynet's warnings are caught (reading songs, generating)."""


def page_message(exc: MelodynetError) -> str:
    """``exc`` in the page's terms: the command line's line, with the options in
    PAGE_NAMES left as the API names them and the settings in PAGE_CONTROLS named as the
    page's controls."""
    from melodynet.cli.errors import cli_message

    message = exc.message
    for setting, control in PAGE_CONTROLS.items():
        message = message.replace(setting, control)
    if exc.option in PAGE_NAMES:
        # the same message with no option to turn into a flag (names with an underscore,
        # such as top_k, still become their flags, as in the command line's line)
        return cli_message(MelodynetError(message))
    return cli_message(MelodynetError(message, option=exc.option))


def error_line(exc: BaseException) -> str:
    """The one line the page shows for an exception: a MelodynetError's message, or an
    internal error named as such."""
    if isinstance(exc, MelodynetError):
        return page_message(exc)
    return f"internal error: {type(exc).__name__}: {one_line(exc, 300)}"
