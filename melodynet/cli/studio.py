"""`melodynet studio`: the local web app to train, steer, see and hear melodies."""

from __future__ import annotations

from pathlib import Path

import click

from melodynet.cli.errors import Command


@click.command(cls=Command)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. Anything but a loopback address lets other machines "
    "reach the studio (with the token): a warning is printed.",
)
@click.option("--port", default=8765, show_default=True, type=click.IntRange(1, 65535))
@click.option("--no-browser", is_flag=True, help="Print the address; do not open a browser.")
@click.option(
    "--data",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Directory for the studio's bundles, uploads and results [default: "
    "$MELODYNET_STUDIO_DATA, else melodynet-studio in your data directory, e.g. "
    "~/.local/share/melodynet-studio].",
)
def studio(host, port, no_browser, data) -> None:
    """Open melodynet studio in the browser: pick songs or upload your own, train with
    live progress, generate under constraints, see the scores and hear them.

    Only requests carrying the printed token are served; stop with Ctrl-C.
    """
    import os
    import secrets

    from melodynet.cli import info
    from melodynet.errors import MelodynetError

    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise MelodynetError(
            f"the studio needs {exc.name}: pip install starlette uvicorn"
        ) from None
    from melodynet.studio.config import Settings, default_data_dir, is_loopback
    from melodynet.studio.server import serve

    data = Path(data) if data is not None else default_data_dir()
    try:
        data.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MelodynetError(f"data {data}: cannot create it ({exc.strerror})") from None
    settings = Settings(data=data, token=secrets.token_hex(24), host=host, port=port)
    os.environ["MELODYNET_MODELS"] = str(settings.data / "models")
    if not is_loopback(host):
        info(
            f"Warning: listening on {host}: other machines on the network can reach the "
            "studio (they still need the token). Use --host 127.0.0.1 to keep it to this one."
        )
    try:
        serve(settings, open_browser=not no_browser, say=click.echo)
    except OSError as exc:
        raise MelodynetError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from None


COMMANDS = [studio]
