"""The `melodynet` command line: a thin layer over the Python API, one module per command.

TensorFlow and music21 are imported inside commands only, so `--help` stays fast. Errors
the user can cause (``MelodynetError``) become one ``Error:`` line naming the flag;
warnings melodynet reports (songs skipped, a plugin that failed) become lines on stderr;
anything a third-party library prints or warns is hidden unless ``--verbose``.
"""

from __future__ import annotations

import os
import sys
import warnings

import click

from melodynet import __version__
from melodynet.cli.errors import Group, cli_message, show_warning
from melodynet.errors import MelodynetError, MelodynetWarning, one_line


def info(message: str) -> None:
    click.echo(message, err=True)


def _verbose(ctx: click.Context, _param, value: bool) -> bool:
    ctx.meta["melodynet.verbose"] = value
    return value


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="melodynet")
@click.option(
    "--verbose",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_verbose,
    help="Also show what TensorFlow, Keras and music21 print and warn.",
)
def cli() -> None:
    """Learn melodies and write new ones.

    \b
    melodynet train songs/butterfly.txt --model stateful-lstm
    melodynet generate --seed 4 --out song.mid
    """


def _add_commands() -> None:
    from melodynet.cli import crossval, evaluate, generate, listing, render, studio, train, tune

    for module in (train, tune, generate, evaluate, render, listing, crossval, studio):
        for command in module.COMMANDS:
            cli.add_command(command)


_add_commands()


def load_plugins() -> None:
    """Load the plugins (which may add commands) with their warnings shown as lines."""
    from melodynet.plugins import registry

    with warnings.catch_warnings():
        warnings.simplefilter("always", MelodynetWarning)
        warnings.showwarning = show_warning
        registry(cli)


def main() -> None:
    load_plugins()
    _exit(_run())


def _run() -> int:
    """Run the command line; every outcome becomes an exit code and at most one line."""
    try:
        result = cli.main(prog_name="melodynet", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except MelodynetError as exc:  # raised outside a command, e.g. by a plugin's group
        click.echo(f"Error: {cli_message(exc)}", err=True)
        return 1
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    except Exception as exc:  # a bug, not the user's fault: one line unless debugging
        if os.environ.get("MELODYNET_DEBUG"):
            raise
        click.echo(
            f"Error: internal error: {type(exc).__name__}: {one_line(exc, 300)} "
            "(set MELODYNET_DEBUG=1 to see the traceback)",
            err=True,
        )
        return 1
    return result if isinstance(result, int) else 0


def _exit(code: int) -> None:
    """Exit without TensorFlow's interpreter-shutdown teardown, which costs ~0.8 s.

    Every file melodynet writes is complete (written and renamed) before this point.
    """
    if "tensorflow" not in sys.modules:
        sys.exit(code)
    import atexit

    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
