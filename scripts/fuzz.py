"""Coverage-guided fuzzing (atheris/libFuzzer) of the song readers and bundle loading.

    python scripts/fuzz.py midi --seconds 60

Every input must either load or fail with melodynet's one-line error (a MelodynetError);
anything else is a crash, which libFuzzer reports with the input that caused it.
Targets: midi, musicxml, abc, text, bundle.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
SUFFIX = {"midi": ".mid", "musicxml": ".musicxml", "abc": ".abc", "text": ".txt"}


def _seeds(target: str, corpus: Path, bundle: Path | None) -> None:
    """Valid inputs to start from, so the fuzzer explores near real files."""
    from melodynet.songio import read_songs, write_song

    corpus.mkdir(parents=True, exist_ok=True)
    if target == "bundle":
        (corpus / "meta.json").write_bytes(b"J" + (bundle / "melodynet.json").read_bytes())
        (corpus / "model.keras").write_bytes(b"K" + (bundle / "model.keras").read_bytes())
        return
    song = read_songs([ROOT / "songs" / "butterfly.txt"])[0]
    if target == "abc":
        (corpus / "tune.abc").write_text("X:1\nT:t\nM:4/4\nL:1/8\nK:C\nGE E2 FD D2|CD EF GG G2|]\n")
    else:
        write_song(song, corpus / f"seed{SUFFIX[target]}")


def _make_bundle(workdir: Path) -> Path:
    from melodynet import bundle
    from melodynet.learn import LearnOptions, learn
    from melodynet.songio import read_songs

    songs = read_songs([ROOT / "songs" / "butterfly.txt"])
    trained, _ = learn(songs, LearnOptions(model="mlp", epochs=1, units=8))
    os.environ["MELODYNET_MODELS"] = str(workdir / "models")
    bundle.save(workdir / "bundle", trained.model, trained.meta)
    return workdir / "bundle"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("target", choices=[*SUFFIX, "bundle"])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--corpus", type=Path, default=None)
    args, rest = parser.parse_known_args()

    import atheris

    with atheris.instrument_imports(include=["melodynet", "mido"]):
        from melodynet.errors import MelodynetError
        from melodynet.songio import read_songs
        from melodynet.trained import load

    workdir = Path(tempfile.mkdtemp(prefix="melodynet-fuzz-"))
    corpus = args.corpus or workdir / "corpus"
    good = _make_bundle(workdir) if args.target == "bundle" else None
    _seeds(args.target, corpus, good)
    path = workdir / f"input{SUFFIX.get(args.target, '')}"

    def one_input(data: bytes) -> None:
        if args.target == "bundle":
            target = workdir / "fuzzed"
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(good, target)
            name = "melodynet.json" if data[:1] != b"K" else "model.keras"
            (target / name).write_bytes(data[1:])
            action = lambda: load(target)  # noqa: E731
        else:
            path.write_bytes(data)
            action = lambda: read_songs([path], warn=lambda _: None)  # noqa: E731
        with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(MelodynetError):
            action()

    atheris.Setup(
        [
            sys.argv[0],
            f"-max_total_time={args.seconds}",
            "-timeout=20",
            "-rss_limit_mb=4096",
            str(corpus),
            *rest,
        ],
        one_input,
    )
    try:
        atheris.Fuzz()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
