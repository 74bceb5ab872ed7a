"""`melodynet models`, `melodynet plugins` and `melodynet bundles` (``melodynet.bundles()``):
what is installed, and from where."""

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


@click.command(cls=Command)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def bundles(as_json) -> None:
    """List trained bundles: the pretrained ones installed plugins ship, usable by name
    (--model-dir NAME), and your own under models/ ($MELODYNET_MODELS)."""
    import melodynet

    found = melodynet.bundles()
    if as_json:
        click.echo(json.dumps([b.to_json() for b in found], indent=1))
        return
    if not found:
        click.echo(
            "no bundles: install a package of pretrained ones (pip install melodynet-folk) "
            "or train one (melodynet train)"
        )
        return
    header = ("name", "model", "encoding", "songs", "notes", "bits/note", "size", "from")
    rows = [header]
    for b in found:
        bits = b.heldout_bits_per_note
        where = "models"
        if b.pretrained:
            where = f"{b.distribution} {b.version}".strip() or b.plugin
        rows.append(
            (
                b.name,
                b.model or "-",
                f"{b.encoding}{'+bars' * bool(b.bar_inputs)}" if b.encoding else "-",
                "-" if b.songs is None else str(b.songs),
                "-" if b.training_notes is None else str(b.training_notes),
                "-" if bits is None else f"{bits:.3f}",
                _size(b.size_bytes),
                where,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row, b in zip(rows, [None, *found], strict=True):
        if b is None:
            note = "description"
        elif b.error:
            note = f"BROKEN: {b.error}"
        else:
            note = b.description or ("" if b.status == "complete" else f"({b.status})")
        cells = [cell.ljust(w) for cell, w in zip(row, widths, strict=True)]
        click.echo("  ".join([*cells, note]).rstrip())


COMMANDS = [models, plugins, bundles]


def _size(count: int) -> str:
    for unit, scale in (("MB", 1e6), ("kB", 1e3)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} B"


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
