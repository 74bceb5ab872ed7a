"""The HTML report: one self-contained file with scores, audio, figures and learning curves.

The loss per note the bundle recorded (training and held-out songs, at the epoch whose
weights it keeps) is shown in nats, and with ``bits`` in bits per note too (nats / ln 2).

Everything is inline: verovio SVG for the scores (wrong notes in red, the
primer in blue), the learning curves as matplotlib SVG, and the audio as
``data:audio/wav;base64`` URLs, so the file can be mailed or archived alone.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path

from melodynet.hookspecs import WriteOptions
from melodynet.songs.song import Song

WRONG = "#d62728"
PRIMER = "#1f77b4"
AUDIO_RATE = 22050  # half of CD rate keeps the report small; melodies lose nothing audible


@dataclass
class Comparison:
    """A training song and what the model made of it."""

    original: Song
    generated: Song
    primer_length: int
    compared: int
    """Notes after the primer compared with the original in position (0: none compared)."""
    mode: str = "full"

    @property
    def wrong(self) -> list[int]:
        """Positions of generated notes that differ from the original's note there."""
        end = min(self.primer_length + self.compared, len(self.generated.notes))
        return [
            i
            for i in range(self.primer_length, end)
            if i >= len(self.original.notes) or self.generated.notes[i] != self.original.notes[i]
        ]

    @property
    def matches(self) -> int:
        return self.compared - len(self.wrong)


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 960px; color: #222;
       padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.5rem 0; }
th, td { padding: 0.25rem 0.8rem; text-align: left; border-bottom: 1px solid #eee; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1rem 0 1.5rem; }
figcaption { font-weight: 600; margin-bottom: 0.3rem; }
.score svg, .curves svg { width: 100%; height: auto; display: block; }
.score svg { max-width: 840px; }
audio { width: 100%; max-width: 840px; margin-top: 0.3rem; }
.legend span { display: inline-block; width: 0.8em; height: 0.8em; border-radius: 50%;
               margin: 0 0.3em 0 1em; vertical-align: middle; }
.bad { color: #d62728; } .good { color: #2a7a2a; }
"""


def _percent(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "-"


def _scores_table(scores: Sequence[Mapping]) -> str:
    rows = []
    for s in scores:
        one, one_total = s["one_step_correct"], s["one_step_total"]
        full, full_total = s["full_song_matches"], s["full_song_length"]
        rows.append(
            f"<tr><td>{escape(str(s['song']))}</td>"
            f'<td class="num">{one}/{one_total}</td><td class="num">{_percent(one, one_total)}</td>'
            f'<td class="num">{full}/{full_total}</td>'
            f'<td class="num">{_percent(full, full_total)}</td></tr>'
        )
    return (
        '<table class="scores"><thead><tr><th>song</th><th colspan="2">one step ahead</th>'
        '<th colspan="2">full song from the primer</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def loss_rows(meta) -> list[dict]:
    """The mean NLL per note (nats) the bundle recorded at the epoch whose weights it keeps
    (the best held-out epoch when training stopped early on a validation split, else the
    last): ``{"songs", "epoch", "nll"}`` for the training songs (the mean over that epoch's
    batches, while training) and, with a validation split, the held-out songs."""
    history = meta.history
    losses, held = list(history.get("loss") or []), list(history.get("val_loss") or [])
    if not losses:
        return []
    best = meta.metrics.get("best_epoch") or 0
    kept = best if held and meta.options.get("patience") is not None and best else len(losses)
    kept = min(kept, len(losses))
    rows = [{"songs": "training", "epoch": kept, "nll": float(losses[kept - 1])}]
    if len(held) >= kept:
        rows.append({"songs": "held out", "epoch": kept, "nll": float(held[kept - 1])})
    return rows


def _loss_table(rows: Sequence[Mapping], bits: bool) -> str:
    from melodynet.evaluation.scores import LN2

    if not rows:
        return ""
    unit = "nats per note" + (" and bits per note (nats / ln 2)" if bits else "")
    head = "<th>songs</th><th>epoch</th><th>NLL (nats/note)</th>"
    head += "<th>bits/note</th>" if bits else ""
    body = []
    for r in rows:
        cells = (
            f'<td>{escape(r["songs"])}</td><td class="num">{r["epoch"]}</td>'
            f'<td class="num nats">{r["nll"]:.4f}</td>'
        )
        if bits:
            cells += f'<td class="num bits">{r["nll"] / LN2:.4f}</td>'
        body.append(f"<tr>{cells}</tr>")
    return (
        f"<p>Loss: the mean negative log-likelihood of each note, in {unit}, at the epoch "
        "whose weights the bundle keeps.</p>"
        f'<table class="losses"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _curves_svg(history: Mapping[str, Sequence[float]], bits: bool) -> str:
    """The learning curves as inline SVG; with ``bits`` the loss panel has a second axis on
    the right in bits per note (its left axis stays in nats)."""
    from melodynet.render.curves import curves_svg, figure

    if not bits:
        return curves_svg(history)
    import io

    import matplotlib

    from melodynet.evaluation.scores import LN2

    fig = figure(history)
    for ax in fig.axes:
        if ax.get_ylabel() == "loss":
            ax.set_ylabel("loss (nats/note)")
            right = ax.secondary_yaxis("right", functions=(lambda n: n / LN2, lambda b: b * LN2))
            right.set_ylabel("bits/note")
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "melodynet", "svg.fonttype": "path"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _facts_table(facts: Sequence[tuple[str, str]]) -> str:
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in facts)
    return f'<table class="facts">{rows}</table>'


def _audio(song: Song, options: WriteOptions) -> str:
    from melodynet.render.audio import wav_bytes

    data = base64.b64encode(wav_bytes(song, options, AUDIO_RATE)).decode("ascii")
    return f'<audio controls preload="metadata" src="data:audio/wav;base64,{data}"></audio>'


def _figure(kind: str, caption: str, svg: str, audio: str) -> str:
    return (
        f'<figure class="score {kind}"><figcaption>{escape(caption)}</figcaption>'
        f"{svg}{audio}</figure>"
    )


def _comparison(number: int, c: Comparison, options: WriteOptions) -> str:
    from melodynet.render.svg import render_svg

    tempo = options.tempo
    primer = {i: PRIMER for i in range(min(c.primer_length, len(c.original.notes)))}
    wrong = c.wrong
    generated_colors = {i: PRIMER for i in range(c.primer_length)}
    generated_colors.update({i: WRONG for i in wrong})
    name = c.original.name
    original_svg = render_svg(c.original, tempo, primer, f"s{number}-orig-n")
    generated_svg = render_svg(c.generated, tempo, generated_colors, f"s{number}-gen-n")
    if c.compared:
        verdict = (
            f"{c.matches}/{c.compared} generated notes match the original in position "
            f"({_percent(c.matches, c.compared)})"
        )
        css = "good" if not wrong else "bad"
        summary = f'<p class="{css}">{escape(verdict)}.</p>'
    else:
        summary = "<p>The primer is not the opening of this song, so nothing is compared.</p>"
    mode = (
        "one step ahead: each note predicted from the song's true notes before it"
        if c.mode == "one-step"
        else "full song: each note predicted from the primer and the notes generated so far"
    )
    return (
        f'<section class="comparison" id="song-{number}" data-song="{escape(name)}" '
        f'data-primer="{c.primer_length}" data-compared="{c.compared}" '
        f'data-wrong="{" ".join(str(i) for i in wrong)}">'
        f"<h2>{escape(c.original.title or name)}</h2>"
        f"<p>Primer: the first {c.primer_length} notes; mode: {escape(mode)}.</p>"
        f"{summary}"
        f'<p class="legend"><span style="background:{PRIMER}"></span>primer'
        f'<span style="background:{WRONG}"></span>generated note that differs from the original'
        "</p>"
        + _figure("original", f"Original: {name}", original_svg, _audio(c.original, options))
        + _figure(
            "generated",
            f"Generated by the model ({len(c.generated)} notes)",
            generated_svg,
            _audio(c.generated, options),
        )
        + "</section>"
    )


def build_report(
    title: str,
    facts: Sequence[tuple[str, str]],
    scores: Sequence[Mapping],
    history: Mapping[str, Sequence[float]],
    comparisons: Sequence[Comparison],
    options: WriteOptions | None = None,
    losses: Sequence[Mapping] = (),
    bits: bool = False,
) -> str:
    """The whole report as one HTML document; ``losses`` (``loss_rows``) in nats per note,
    and with ``bits`` in bits per note beside them."""
    options = options or WriteOptions()
    if any(len(v) for v in history.values()):
        curves = f'<div class="curves">{_curves_svg(history, bits)}</div>'
    else:
        curves = "<p>This bundle records no training history.</p>"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        _facts_table(facts),
        "<h2>How well it learned</h2>",
        _scores_table(scores),
        _loss_table(losses, bits),
        '<h2 id="curves">Learning curves</h2>',
        curves,
        *(_comparison(n, c, options) for n, c in enumerate(comparisons)),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _facts(model, options: WriteOptions) -> list[tuple[str, str]]:
    from melodynet.render import audio

    meta = model.meta
    stopped = " (stopped early)" if meta.metrics.get("stopped_early") else ""
    if audio.engine() == "fluidsynth":
        sound = f"FluidSynth with {audio.soundfont()}"
    else:
        sound = "the built-in synthesizer"
    tempo = f", {options.tempo:g} bpm" if options.tempo else ""
    return [
        (
            "model",
            f"{meta.model} ({meta.encoding} encoding, window {meta.window}, {meta.units} units)",
        ),
        (
            "parameters",
            ", ".join(f"{k}={v}" for k, v in meta.model_options.items()) or "none declared",
        ),
        ("bundle", str(model.directory or "in memory")),
        ("trained on", ", ".join(f"{s.name} ({len(s)} notes)" for s in model.songs)),
        (
            "training",
            f"{meta.epochs_run} of {meta.epochs} epochs{stopped}, batch size {meta.batch_size}, "
            f"learning rate {meta.learning_rate:g}, random seed {meta.random_seed}",
        ),
        ("created", f"{meta.created or 'unknown'} by melodynet {meta.melodynet_version or '?'}"),
        ("audio", f"{sound}, General MIDI program {options.instrument}{tempo}"),
    ]


def check_report_path(path: Path) -> None:
    from melodynet.atomic import check_target
    from melodynet.errors import OutputError

    if path.suffix.lower() not in (".html", ".htm"):
        raise OutputError(f"{path}: the report is HTML; name it with .html")
    check_target(path)


def write_report(
    model,
    path: Path,
    primer,
    length: int | None,
    mode: str,
    song_names: Sequence[str] | None,
    options: WriteOptions,
    constraints=None,
    bits: bool = False,
) -> list[Song]:
    """Generate from each chosen training song and write the report to ``path``; with
    ``bits`` every loss per note is shown in bits per note beside the nats."""
    from melodynet.atomic import write_text
    from melodynet.evaluation.scores import score_all
    from melodynet.generation.generate import generate_songs, pick_song
    from melodynet.render import audio
    from melodynet.songs.files import check_write_options

    check_report_path(path)
    check_write_options(options)
    audio.engine()
    names = list(song_names or []) or [s.name for s in model.songs]
    comparisons, made = [], []
    for name in names:
        original = pick_song(model.songs, name)
        [generated] = generate_songs(model, primer, length, mode, name, constraints=constraints)
        compared = int(generated.extra.get("compared", 0))
        primer_length = int(generated.extra["primer"])
        comparisons.append(Comparison(original, generated, primer_length, compared, mode))
        made.append(generated)
    scores = [s.to_json() for s in score_all(model)]
    songs = ", ".join(s.name for s in model.songs)
    html = build_report(
        f"melodynet report: {model.meta.model} on {songs}",
        _facts(model, options),
        scores,
        model.meta.history,
        comparisons,
        options,
        loss_rows(model.meta),
        bits,
    )
    write_text(path, html)
    return made


def song_html(song: Song, options: WriteOptions | None = None) -> str:
    """The song engraved (verovio SVG) above an audio player: how a notebook shows it."""
    from melodynet.render.svg import render_svg

    options = options or WriteOptions()
    return _figure(
        "song", song.title or song.name, render_svg(song, options.tempo), _audio(song, options)
    )
