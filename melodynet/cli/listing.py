"""`melodynet models` and `melodynet plugins`: what is installed, and from where."""

from __future__ import annotations

import json

import click

from melodynet.cli.errors import Command


@click.command(cls=Command)
def models() -> None:
    """List the available models and the plugin that provides each."""
    from melodynet.plugins import registry

    reg = registry()
    rows = []
    for name, provided in sorted(reg.models.items()):
        spec = provided.spec
        info = next(p for p in reg.plugins if p.name == provided.plugin)
        source = "built-in" if info.builtin else f"{info.distribution} {info.version}"
        kind = "sequence" if spec.sequence else "window"
        aliases = f" (alias: {', '.join(spec.aliases)})" if spec.aliases else ""
        rows.append((name, kind, source, spec.description + aliases))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        click.echo(
            "  ".join(cell.ljust(w) for cell, w in zip(row, [*widths, 0], strict=True)).rstrip()
        )


@click.command(cls=Command)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def plugins(as_json) -> None:
    """List installed plugins: distribution, version, hooks and status."""
    from melodynet.plugins import registry

    reg = registry()
    if as_json:
        click.echo(json.dumps([p.to_json() for p in reg.plugins], indent=1))
        return
    for p in reg.plugins:
        line = f"{p.name:36} {p.distribution or '-'} {p.version}  hooks: {', '.join(p.hooks)}"
        if p.error:
            line += f"  FAILED: {p.error}"
        click.echo(line)


COMMANDS = [models, plugins]
