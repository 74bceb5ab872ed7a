"""Every bad input in docs/errors.md, tried through the command line.

Each case makes its input in a fresh directory, runs melodynet, and checks for one line
that starts with 'Error:', contains the message the doc promises, and no traceback.
"""

import re
from pathlib import Path

import mido
import pytest

from tests.conftest import BUTTERFLY
from tests.conftest import one_line_error as _one_line_error

DOC = Path(__file__).resolve().parents[2] / "docs" / "errors.md"


def _midi(path, channel=0, notes=(60, 62, 64, 65, 67, 69)):
    track = mido.MidiTrack()
    length = 480 if len(notes) < 100 else 480 * 20  # 2000 notes of 20 beats: 40,000 beats
    for p in notes:
        track.append(mido.Message("note_on", note=p, velocity=90, channel=channel, time=0))
        track.append(mido.Message("note_off", note=p, velocity=0, channel=channel, time=length))
    midi = mido.MidiFile()
    midi.tracks.append(track)
    midi.save(path)


def _truncated_midi(path):
    _midi(path)
    data = Path(path).read_bytes()
    Path(path).write_bytes(data[: len(data) - 10])


def _zip_bomb(path):
    """A .mxl whose one member, 200 MB of spaces, compresses to well under 1 MB."""
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("META-INF/container.xml", "<container/>")
        with archive.open("score.xml", "w", force_zip64=True) as member:
            for _ in range(200):
                member.write(b" " * 1_000_000)
    return path


def _write(name, content):
    def make():
        data = content() if callable(content) else content
        if isinstance(data, bytes):
            Path(name).write_bytes(data)
        else:
            Path(name).write_text(data, encoding="utf-8")
        return name

    return make


# case id -> (make the input, return the song argument), extra CLI args
CASES = {
    "missing-file": (lambda: "nope.txt", []),
    "unknown-token": (_write("bad.txt", "# title: t\ng8 e8 e4\nf8 d8 zz4 d4\n"), []),
    "empty-file": (_write("empty.txt", ""), []),
    "too-short": (_write("short.txt", "c4 d4 e4 f4"), []),
    "non-utf8": (_write("latin1.txt", "# title: Caf\xe9\nc4 d4".encode("latin-1")), []),
    "binary-txt": (_write("binary.txt", b"\x00\x01\x02\x03" * 256), []),
    "huge-file": (_write("huge.txt", "c4 " * 3_500_000), []),
    "tiny-duration": (_write("tiny.txt", "c4 d256 e4 f4 g4 a4"), []),
    "huge-duration": (_write("long.txt", "c1~ " * 64 + "c1 d4 e4 f4 g4"), []),
    "garbage-midi": (_write("garbage.mid", b"this is not a MIDI file at all"), []),
    "truncated-midi": (lambda: _truncated_midi("cut.mid") or "cut.mid", []),
    "drums-only-midi": (lambda: _midi("drums.mid", channel=9) or "drums.mid", []),
    "no-notes-midi": (lambda: _midi("silent.mid", notes=()) or "silent.mid", []),
    "endless-midi": (lambda: _midi("endless.mid", notes=(60,) * 2000) or "endless.mid", []),
    "absurd-meter": (_write("meter.abc", "X:1\nM:811/6\nL:1/8\nK:C\nGE E2 FD D2|\n"), []),
    "garbled-meter": (_write("garbled.abc", "X:1\nT:t\nM:4E2 FD D|2CD EF:4/4\n:L0/\n"), []),
    "garbage-musicxml": (_write("garbage.musicxml", "<score-partwise><part"), []),
    "zip-bomb": (lambda: _zip_bomb("bomb.mxl"), []),
    "directory": (lambda: Path("somedir").mkdir() or "somedir", []),
    "unknown-suffix": (_write("song.xyz", "c4 d4"), []),
    "transposed-out-of-range": (
        _write("high.txt", "c''4 d''4 e''4 f''4 g''4 a''4"),
        ["--transpose", "40"],
    ),
    "unknown-model": (lambda: str(BUTTERFLY), ["--model", "nonsense"]),
    "unknown-encoding": (lambda: str(BUTTERFLY), ["--encoding", "nonsense"]),
    "bad-window": (lambda: str(BUTTERFLY), ["--window", "0"]),
}


def _doc_rows():
    """(case, message, test) from the tables in docs/errors.md (test only in 4-column rows)."""
    rows = []
    for line in DOC.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        match = re.fullmatch(r"`([a-z0-9-]+)`", cells[0]) if len(cells) in (3, 4) else None
        if match:
            test = cells[2].strip("`") if len(cells) == 4 else ""
            rows.append((match.group(1), cells[-1].strip("`"), test))
    return rows


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input(workdir, runner, case):
    make, extra = CASES[case]
    song = make()
    before = sorted(p.name for p in workdir.iterdir())
    line = _one_line_error(runner("train", song, *extra))
    [message] = [m for c, m, _ in _doc_rows() if c == case]
    for fragment in message.split(" … "):
        assert fragment in line, (fragment, line)
    assert sorted(p.name for p in workdir.iterdir()) == before  # nothing written


def test_every_documented_case_has_a_test():
    import tests.test_bundle as bundle_tests

    for case, _, test in _doc_rows():
        if test.startswith("test_bundle.py::"):
            assert hasattr(bundle_tests, test.split("::")[1]), test
        else:
            assert case in CASES, case
    assert set(CASES) <= {c for c, _, _ in _doc_rows()}


def test_chords_become_the_top_line_with_a_warning(workdir, runner):
    from music21 import chord, stream

    part = stream.Part()
    for pitches in ([60, 64, 67], [62, 65, 69], [64, 67, 72], [65, 69, 74], [67, 71, 74]):
        part.append(chord.Chord(pitches, quarterLength=1))
    part.write("musicxml", fp="chords.musicxml")
    result = runner("render", "chords.musicxml", "--out", "top.txt")
    assert result.exit_code == 0, result.output
    assert "chords or voices reduced to their top note" in result.output
    assert Path("top.txt").read_text().splitlines()[-1] == "g4 a4 c'4 d'4 d'4"
