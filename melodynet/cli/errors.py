"""How the command line speaks: MelodynetErrors as one line naming the flag, melodynet's
warnings as plain lines, other libraries' output only with --verbose."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import warnings
from collections.abc import Iterator

import click

from melodynet.errors import MelodynetError, MelodynetWarning, PluginWarning

FLAGS = {"primer": "--seed", "songs": "SONGS", "no_copy": "--no-copy"}
"""API option names whose command-line flag is not simply ``--name-with-dashes``."""


def flag(option: str) -> str:
    return FLAGS.get(option, "--" + option.replace("_", "-"))


def cli_message(exc: MelodynetError) -> str:
    """The error in command-line terms: the option at fault becomes its flag wherever the
    message names it as an option (not "30 epochs"), and so does every API name with an
    underscore (``top_k``)."""
    message = exc.message
    if exc.option:
        name = re.escape(exc.option)
        message = re.sub(
            rf"(?<![\w/.-])(?<!\d )(?<!the ){name}(?![\w/-])", flag(exc.option), message
        )
    return re.sub(r"(?<![\w/.-])[a-z]+(?:_[a-z]+)+(?![\w/.-])", lambda m: flag(m[0]), message)


def show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    text = str(message)
    if issubclass(category, PluginWarning):
        text = f"melodynet: warning: {text}"
    click.echo(text, err=True)


@contextlib.contextmanager
def quiet_libraries(verbose: bool) -> Iterator[None]:
    """melodynet's warnings as plain lines; other libraries' only with --verbose."""
    shown = warnings.showwarning
    with warnings.catch_warnings():
        if not verbose:
            warnings.simplefilter("ignore")
        elif "tensorflow" not in sys.modules:
            os.environ["TF_CPP_MIN_LOG_LEVEL"] = "0"
        warnings.simplefilter("always", MelodynetWarning)

        def show(message, category, *args, **kwargs):
            if issubclass(category, MelodynetWarning):
                show_warning(message, category, *args, **kwargs)
            else:
                shown(message, category, *args, **kwargs)

        warnings.showwarning = show
        try:
            yield
        finally:
            warnings.showwarning = shown


class _Lines(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        click.echo(record.getMessage(), err=True)


@contextlib.contextmanager
def melodynet_log() -> Iterator[None]:
    """What the API logs for those who ask (``read``'s summary) as lines on stderr."""
    logger, handler = logging.getLogger("melodynet"), _Lines()
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


@contextlib.contextmanager
def command_line_terms(ctx: click.Context) -> Iterator[None]:
    """Library noise hidden and MelodynetErrors as click's one-line errors, flags named."""
    if ctx.meta.get("melodynet.terms"):  # a command inside the group: set up once
        yield
        return
    ctx.meta["melodynet.terms"] = True
    with quiet_libraries(ctx.find_root().meta.get("melodynet.verbose", False)), melodynet_log():
        try:
            yield
        except MelodynetError as exc:
            raise click.ClickException(cli_message(exc)) from None


class Command(click.Command):
    """A melodynet command: see ``command_line_terms``."""

    def invoke(self, ctx: click.Context):
        with command_line_terms(ctx):
            return super().invoke(ctx)


class Group(click.Group):
    """The melodynet group: plugins' commands get ``command_line_terms`` too."""

    def invoke(self, ctx: click.Context):
        with command_line_terms(ctx):
            return super().invoke(ctx)
