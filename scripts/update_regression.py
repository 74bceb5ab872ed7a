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
    import melodynet

    songs = melodynet.read(ROOT / "songs" / "butterfly.txt")
    trained = melodynet.train(songs, model=model, encoding=encoding, random_seed=seed)
    return tuple(trained.generate(4, mode=mode) for mode in ("one-step", "full"))


def path_for(model: str, encoding: str, mode: str, seed: int = 0) -> Path:
    return OUT / f"{model}-{encoding}-seed{seed}.{mode}.txt"


def main() -> None:
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
                song.write(path)  # .txt: tinyNotation with the title, tempo, key and source
                print(path.relative_to(ROOT))


if __name__ == "__main__":
    main()
