"""`melodynet models` and `melodynet plugins`: what is installed, and from where."""

from __future__ import annotations

import json

import click

from melodynet.cli.errors import Command
from melodynet.cli.options import param_option


@click.command(cls=Command)
@click.option(
    "--describe",
    metavar="MODEL",
    default=None,
    help="Show MODEL's parameters and the network it builds (layers, shapes, weights).",
)
@param_option
@click.option("--encoding", default="single", show_default=True, help="With --describe.")
@click.option("--window", default=4, show_default=True, help="With --describe.")
@click.option("--units", default=128, show_default=True, help="With --describe.")
@click.option(
    "--classes",
    default=32,
    show_default=True,
    help="With --describe: labels per encoding head in the example vocabulary.",
)
@click.option("--json", "as_json", is_flag=True, help="With --describe: print JSON.")
def models(describe, params, encoding, window, units, classes, as_json) -> None:
    """List the available models and the plugin that provides each; --describe MODEL shows
    one model's parameters and the Keras network it builds, before any training."""
    from melodynet.plugins import registry

    if describe is not None:
        _describe(describe, params, encoding, window, units, classes, as_json)
        return
    if params or as_json:
        from melodynet.errors import OptionError

        raise OptionError("param and json go with describe MODEL", option="describe")

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


def _describe(name, params, encoding, window, units, classes, as_json) -> None:
    import melodynet
    from melodynet.params import parse_assignments

    found = melodynet.describe_model(
        name,
        params=parse_assignments(params),
        encoding=encoding,
        window=window,
        units=units,
        classes=classes,
    )
    if as_json:
        click.echo(json.dumps(found, indent=1))
        return
    kind = "sequence model" if found["sequence"] else "window model"
    click.echo(f"{found['model']}: {found['description']} ({kind}, from {found['plugin']})")
    if found["params"]:
        click.echo("parameters (--param NAME=VALUE):")
        width = max(len(p["name"]) for p in found["params"])
        for p in found["params"]:
            now = "" if p["value"] == p["default"] else f", now {p['value']}"
            click.echo(
                f"  {p['name']:{width}}  {p['help']} [default {p['default']}{now}; {p['allowed']}]"
            )
    else:
        click.echo("parameters: none declared")
    vocabulary = ", ".join(f"{h} {n}" for h, n in found["example_vocabulary"].items())
    click.echo(
        f"network for window {found['window']}, units {found['units']}, "
        f"{found['encoding']} encoding and an example vocabulary of {vocabulary} labels:"
    )
    click.echo(found["summary"])
