"""Learning curves: loss and accuracy per epoch, from a bundle's history, drawn with matplotlib.

matplotlib is used through its object API with the Agg and SVG canvases
only, so no display or GUI toolkit is needed.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path

from melodynet.atomic import atomic_file, check_target
from melodynet.errors import MelodynetError

FORMATS = (".png", ".svg", ".pdf")
DPI = 120


def check_path(path: Path) -> None:
    """Fail before training when the curves cannot be written to ``path``."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise MelodynetError(
            f"{path}: learning curves are written as {', '.join(FORMATS)}, not "
            f"{path.suffix or 'a file without a suffix'}"
        )
    check_target(path)


def figure(history: Mapping[str, Sequence[float]], title: str = ""):
    """A matplotlib Figure: losses on the left, accuracies (0 to 1) on the right."""
    from matplotlib.figure import Figure

    losses = {k: v for k, v in history.items() if "loss" in k and len(v)}
    others = {k: v for k, v in history.items() if "loss" not in k and len(v)}
    if not losses and not others:
        raise MelodynetError("no training history to plot (the bundle records no epochs)")
    fig = Figure(figsize=(9, 3.4), dpi=DPI, layout="constrained")
    panels = [(losses, "loss"), (others, "accuracy")]
    panels = [(series, label) for series, label in panels if series]
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (series, label) in zip(axes, panels, strict=True):
        for name, values in series.items():
            epochs = range(1, len(values) + 1)
            ax.plot(
                epochs, values, label=name, linewidth=1.6, marker="." if len(values) < 40 else ""
            )
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
        if label == "accuracy":
            ax.set_ylim(-0.02, 1.02)
        else:
            ax.set_ylim(bottom=0)
        if len(series) > 1:
            ax.legend()
        ax.set_title(f"{label} per epoch")
    if title:
        fig.suptitle(title)
    return fig


def _save(fig, target, fmt: str) -> None:
    import matplotlib

    with matplotlib.rc_context({"svg.hashsalt": "melodynet", "svg.fonttype": "path"}):
        metadata = {"Date": None} if fmt in ("svg", "pdf") else None
        fig.savefig(target, format=fmt, metadata=metadata)


def write_curves(history: Mapping[str, Sequence[float]], path: Path, title: str = "") -> None:
    """Write the learning curves to ``path`` (.png, .svg or .pdf), whole or not at all."""
    path = Path(path)
    check_path(path)
    fig = figure(history, title)
    with atomic_file(path) as tmp:
        _save(fig, str(tmp), path.suffix.lower().lstrip("."))


def curves_svg(history: Mapping[str, Sequence[float]], title: str = "") -> str:
    """The learning curves as SVG text, to put inline in HTML."""
    buffer = io.StringIO()
    _save(figure(history, title), buffer, "svg")
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # drop the XML declaration and doctype
