"""Rewrite tests/regression/: the notes each built-in model and encoding produce on butterfly.

Run after a change that is meant to change training results, and say why in the commit.
The tests check these files against the original song, not only against the code.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "regression"
MODELS = ("mlp", "lstm", "stateful-lstm", "cnn")
ENCODINGS = ("single", "split")


def regression_songs(model: str, encoding: str, seed: int = 0):
    """(one-step song, full song) for butterfly from a 4-note primer."""
    from melodynet.generation import generate_song
    from melodynet.learn import LearnOptions, learn
    from melodynet.songio import read_songs

    songs = read_songs([ROOT / "songs" / "butterfly.txt"])
    trained, _ = learn(songs, LearnOptions(model=model, encoding=encoding, seed=seed))
    return tuple(
        generate_song(trained, "4", None, mode, None).song for mode in ("one-step", "full")
    )


def path_for(model: str, encoding: str, mode: str, seed: int = 0) -> Path:
    return OUT / f"{model}-{encoding}-seed{seed}.{mode}.txt"


def main() -> None:
    from melodynet.tinynotation import format_song

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", choices=MODELS, action="append")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    for model in args.model or MODELS:
        for encoding in ENCODINGS:
            for mode, song in zip(
                ("one-step", "full"), regression_songs(model, encoding), strict=True
            ):
                path = path_for(model, encoding, mode)
                song.source = f"melodynet {model} --encoding {encoding} --random-seed 0, {mode}"
                path.write_text(format_song(song), encoding="utf-8")
                print(path.relative_to(ROOT))


if __name__ == "__main__":
    main()
