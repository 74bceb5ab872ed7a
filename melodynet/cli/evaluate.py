"""`melodynet evaluate`: how well a bundle predicts its songs, and held-out songs."""

from __future__ import annotations

import json

import click

from melodynet.cli.errors import Command
from melodynet.cli.options import load_model, model_dir_option


@click.command(cls=Command)
@model_dir_option
@click.option(
    "--stats",
    type=int,
    default=0,
    help="Also sample N melodies (temperature 1) and compare their musical statistics "
    "with the training songs.",
)
@click.option(
    "--bits",
    "show_bits",
    is_flag=True,
    help="Show each held-out NLL in bits per note (nats / ln 2) beside the nats "
    "(--json always has both: nll and bits_per_note).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def evaluate(model_dir, as_json, stats, show_bits) -> None:
    """One-step accuracy and full-song matches on each training song; on held-out songs
    (--validation-split), NLL per note (nats; --bits: and bits) and accuracy against two
    baselines."""
    from melodynet.evaluation.scores import heldout_line
    from melodynet.evaluation.stats import format_comparison

    model = load_model(model_dir)
    report = model.evaluate(stats=stats)
    if as_json:
        click.echo(json.dumps(report, indent=1))
        return
    settings = ", ".join(f"{k}={v}" for k, v in report["params"].items())
    click.echo(
        f"{report['model']} ({report['encoding']} encoding, window {report['window']}, "
        f"{report['units']} units{'; ' + settings if settings else ''})"
    )
    scores = report["songs"]
    for s in scores:
        click.echo(
            f"{s['song']}: one-step {s['one_step_correct']}/{s['one_step_total']} "
            f"({s['one_step_accuracy']:.1%}), full song {s['full_song_matches']}/"
            f"{s['full_song_length']}"
        )
    if len(scores) > 1:
        right = sum(s["one_step_correct"] for s in scores)
        total = sum(s["one_step_total"] for s in scores)
        matched = sum(s["full_song_matches"] for s in scores)
        click.echo(
            f"all {len(scores)} training songs: one-step {right}/{total} "
            f"({right / max(total, 1):.1%}), full song {matched}/{total}"
        )
    if report.get("heldout"):
        click.echo(f"held out ({len(model.meta.validation_songs)} songs):")
        for c in report["heldout"]:
            click.echo(f"  {heldout_line(c, show_bits)}")
    elif show_bits:
        from melodynet.cli import info

        info("no held-out songs (trained without --validation-split): no NLL to show in bits")
    if report.get("stats"):
        click.echo(f"musical statistics of {stats} sampled melodies vs the training songs:")
        click.echo(format_comparison(report["stats"]))


COMMANDS = [evaluate]
