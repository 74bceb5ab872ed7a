"""Coverage-guided fuzzing (atheris/libFuzzer) of the song readers and bundle loading.

    python scripts/fuzz.py midi --seconds 60

Inputs go through the public API, as a user's files do: ``melodynet.read`` for songs
(uncached), ``melodynet.load`` for bundles. Every input must either load or fail with
melodynet's one-line error (a MelodynetError); anything else is a crash, which libFuzzer
reports with the input that caused it. ``melodynet.read`` never lets a reader's exception
out: it skips the file with ``reader 'NAME' failed (...)`` (or ``gave ...`` for a wrong
item), so such a skip is a crash here too (``ReaderCrash``).
Targets: midi, musicxml, abc, text, bundle.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
SUFFIX = {"midi": ".mid", "musicxml": ".musicxml", "abc": ".abc", "text": ".txt"}
READER_BUG = re.compile(r"reader '[^']*' (?:failed \(|gave )")
"""How ``melodynet.read`` reports a reader that raised something other than a SongError,
or produced something other than a Song (tests/test_fuzz.py checks it still does)."""


class ReaderCrash(Exception):
    """A reader raised an exception that is not a SongError: a bug, not bad input."""


def reader_bug(messages) -> str | None:
    """The first of ``messages`` (skip reports, error text) that reports a reader's bug."""
    return next((m for m in messages if READER_BUG.search(m)), None)


def read_checked(path: Path) -> None:
    """Read ``path`` with ``melodynet.read``: bad input is a MelodynetError (or skipped
    with a warning); a reader's bug raises ReaderCrash."""
    import melodynet

    messages: list[str] = []
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        try:
            melodynet.read(path)
        except melodynet.MelodynetError as exc:
            messages.append(str(exc))
    found = reader_bug([*messages, *(str(w.message) for w in said)])
    if found:
        raise ReaderCrash(found)


def _seeds(target: str, corpus: Path, bundle: Path | None) -> None:
    """Valid inputs to start from, so the fuzzer explores near real files."""
    import melodynet

    corpus.mkdir(parents=True, exist_ok=True)
    if target == "bundle":
        (corpus / "meta.json").write_bytes(b"J" + (bundle / "melodynet.json").read_bytes())
        (corpus / "model.keras").write_bytes(b"K" + (bundle / "model.keras").read_bytes())
        return
    song = melodynet.read(ROOT / "songs" / "butterfly.txt")[0]
    if target == "abc":
        (corpus / "tune.abc").write_text("X:1\nT:t\nM:4/4\nL:1/8\nK:C\nGE E2 FD D2|CD EF GG G2|]\n")
    else:
        song.write(corpus / f"seed{SUFFIX[target]}")


def _make_bundle(workdir: Path) -> Path:
    import melodynet

    os.environ["MELODYNET_MODELS"] = str(workdir / "models")
    songs = melodynet.read(ROOT / "songs" / "butterfly.txt")
    melodynet.train(songs, model="mlp", epochs=1, units=8, out=workdir / "bundle")
    return workdir / "bundle"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("target", choices=[*SUFFIX, "bundle"])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--corpus", type=Path, default=None)
    args, rest = parser.parse_known_args()
    # Fuzzed files must be parsed every time, and must not fill the user's song cache.
    os.environ["MELODYNET_CACHE"] = "off"

    import atheris

    with atheris.instrument_imports(include=["melodynet", "mido"]):
        import melodynet

        # Import (and so instrument) what read and load run: the reading machinery, the
        # registered readers, bundles.
        melodynet.read(ROOT / "songs" / "butterfly.txt")
        load = melodynet.load
        MelodynetError = melodynet.MelodynetError

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
            action = lambda: read_checked(path)  # noqa: E731
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
