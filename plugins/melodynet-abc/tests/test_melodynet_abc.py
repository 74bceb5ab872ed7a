"""melodynet-abc: every song round-trips through ABC and music21; accidentals follow ABC 2.1."""

import json
import random
import re
from fractions import Fraction
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest

from melodynet import Note, Song, WriteOptions
from melodynet.testing import assert_one_line_error

ROOT = Path(__file__).resolve().parents[3]
SONGS = sorted((ROOT / "songs").glob("*.txt"))
BUTTERFLY = ROOT / "songs" / "butterfly.txt"


@pytest.fixture(scope="module", autouse=True)
def installed():
    try:
        distribution("melodynet-abc")
    except PackageNotFoundError:
        pytest.fail("melodynet-abc is not installed: pip install -e plugins/melodynet-abc")


def _trimmed(notes):
    """melodynet's music21 reader drops silence before and after the melody."""
    notes = list(notes)
    while notes and notes[0].pitch is None:
        notes.pop(0)
    while notes and notes[-1].pitch is None:
        notes.pop()
    return notes


def _merged_rests(notes):
    """Silence as one rest: a rest across a bar line is written (and read) as two."""
    merged = []
    for note in notes:
        if merged and note.pitch is None and merged[-1].pitch is None:
            merged[-1] = Note(None, merged[-1].duration + note.duration)
        else:
            merged.append(note)
    return merged


def _round_trip(song, path):
    from melodynet.songs.files import read_songs, write_song

    write_song(song, path)  # through the registry: the plugin's writer for .abc
    [back] = read_songs([path], warn=lambda message: None)
    return back


# An independent reading of ABC 2.1 bodies: key signature, accidentals carried through
# the bar (per octave as the standard says, or per letter as some programs do), ties.
_SIGNATURES = {
    "C": {},
    "Am": {},
    "Ddor": {},
    "G": {"F": 1},
    "D": {"F": 1, "C": 1},
    "E": {"F": 1, "C": 1, "G": 1, "D": 1},
    "F": {"B": -1},
    "Bb": {"B": -1, "E": -1},
    "Eb": {"B": -1, "E": -1, "A": -1},
}
_STEP = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_TOKEN = re.compile(r"(\|\]|\|)|(\^|_|=)?([A-Ga-gz])([,']*)(\d*)(/?)(\d*)(-?)")


def _length(digits, slash, denominator):
    value = Fraction(int(digits) if digits else 1)
    if slash:
        value /= int(denominator) if denominator else 2
    return value


def _read_abc(text, per_octave=True):
    header = dict(line.split(":", 1) for line in text.splitlines() if re.match(r"^[A-Z]:", line))
    unit = Fraction(header["L"]) * 4  # quarter notes per unit
    signature = _SIGNATURES[header["K"]]
    body = "\n".join(line for line in text.splitlines() if not re.match(r"^([A-Z]:|%)", line))
    notes, carried, tied = [], {}, False
    for bar, accidental, letter, marks, digits, slash, denominator, tie in _TOKEN.findall(body):
        if bar:
            carried = {}
            continue
        duration = _length(digits, slash, denominator) * unit
        if letter == "z":
            notes.append(Note(None, duration))
            continue
        octave = (5 if letter.islower() else 4) + marks.count("'") - marks.count(",")
        step = letter.upper()
        slot = (step, octave) if per_octave else step
        if accidental:
            carried[slot] = {"^": 1, "_": -1, "=": 0}[accidental]
        alter = carried.get(slot, signature.get(step, 0))
        pitch = 12 * (octave + 1) + _STEP[step] + alter
        if tied:
            assert notes[-1].pitch == pitch, "a tie joins notes of one pitch"
            notes[-1] = Note(pitch, notes[-1].duration + duration)
        else:
            notes.append(Note(pitch, duration))
        tied = bool(tie)
    return notes


PLAIN = ("1/4", "1/2", "3/4", "1", "3/2", "2", "5/4", "3", "7/2", "6")
TRIPLETS = ("1/3", "2/3", "1/6", "4/3", "1/2", "1")


def _random_song(seed, key, time_signature, lengths=PLAIN):
    rng = random.Random(seed)
    durations = [Fraction(x) for x in lengths]
    notes = []
    for i in range(120):
        rest = 0 < i < 119 and rng.random() < 0.12
        notes.append(Note(None if rest else rng.randint(36, 96), rng.choice(durations)))
    return Song(notes, title=f"random {seed}", key=key, time_signature=time_signature)


@pytest.mark.parametrize("path", SONGS, ids=[p.stem for p in SONGS])
def test_every_song_reads_back_with_the_same_notes(path, tmp_path):
    from melodynet.songs.files import read_songs

    [song] = read_songs([path])
    back = _round_trip(song, tmp_path / f"{path.stem}.abc")
    assert back.notes == _trimmed(song.notes)
    assert back.time_signature == song.time_signature
    assert back.tempo == pytest.approx(song.tempo)
    assert back.title == song.title
    text = (tmp_path / f"{path.stem}.abc").read_text(encoding="utf-8")
    assert _read_abc(text) == song.notes
    assert _read_abc(text, per_octave=False) == song.notes


def test_butterfly_as_abc():
    from melodynet_abc import format_song

    from melodynet.songs.files import read_songs

    [song] = read_songs([BUTTERFLY])
    assert format_song(song, WriteOptions(tempo=90)).splitlines() == [
        "%abc-2.1",
        "X:1",
        "T:Butterfly",
        "S:" + song.source,
        "M:4/4",
        "L:1/8",
        "Q:1/4=90",
        "K:C",
        "G E E2 F D D2 | C D E F G G G2 | G E E E F D D2 | C E G G E E E2 |",
        "D D D D D E F2 | E E E E E F G2 | G E E2 F D D2 | C E G G E E E2 |]",
    ]


@pytest.mark.parametrize(
    ("key", "time_signature", "seed", "lengths"),
    [
        ("C major", "4/4", 1, PLAIN),
        ("E major", "3/4", 2, PLAIN),
        ("B- major", "6/8", 3, PLAIN),
        ("D dorian", "2/4", 4, PLAIN),
        ("E- major", "4/4", 5, TRIPLETS),
    ],
)
def test_accidentals_octaves_ties_and_rests(key, time_signature, seed, lengths, tmp_path):
    song = _random_song(seed, key, time_signature, lengths)
    path = tmp_path / "random.abc"
    back = _round_trip(song, path)
    assert _merged_rests(back.notes) == _merged_rests(song.notes)
    text = path.read_text(encoding="utf-8")
    assert _merged_rests(_read_abc(text)) == _merged_rests(song.notes)
    assert _merged_rests(_read_abc(text, per_octave=False)) == _merged_rests(song.notes)
    assert text.rstrip().endswith("|]") and text.count("|") > 20


def test_spelling_and_keys():
    from melodynet_abc import format_song, parse_key, pitch_text

    assert [pitch_text("C", o) for o in (2, 3, 4, 5, 6, 7)] == ["C,,", "C,", "C", "c", "c'", "c''"]
    assert parse_key("G major") == ("G", 1)
    assert parse_key("f# minor") == ("F#m", 3)
    assert parse_key("B- major") == ("Bb", -2)
    assert parse_key("D dorian") == ("Ddor", 0)
    assert parse_key("") == parse_key("nonsense") == ("C", 0)
    # C4 C#4 D4 Eb4 | F#4 B-flat C5 C6 C3 in C; sharps in E major; flats in F major
    notes = [Note(p, Fraction(1)) for p in (60, 61, 62, 63, 66, 70, 72, 84, 48)]
    assert format_song(Song(notes, title="t")).splitlines()[-2:] == [
        "K:C",
        "C2 ^C2 D2 _E2 | ^F2 _B2 c2 c'2 | C,2 |]",
    ]
    assert format_song(Song(notes, title="t", key="E major")).splitlines()[-2:] == [
        "K:E",
        "=C2 ^C2 =D2 ^D2 | F2 ^A2 =c2 =c'2 | =C,2 |]",
    ]
    # A sharp earlier in the bar is cancelled with a natural, which every tied piece repeats.
    tied = [Note(p, Fraction(q)) for p, q in ((66, 1), (65, 1), (77, 3), (60, 1), (62, 3))]
    assert format_song(Song(tied, title="t", time_signature="3/4")).splitlines()[-4:] == [
        "L:1/8",
        "Q:1/4=120",
        "K:C",
        "^F2 =F2 =f2- | =f4 C2 | D6 |]",
    ]


def test_render_writes_abc_and_lists_it_among_the_writers(melodynet_cli):
    from melodynet.songs.files import read_songs

    listed = json.loads(melodynet_cli("plugins", "--json").stdout)
    [abc] = [p for p in listed if p["name"] == "abc"]
    assert abc["status"] == "ok" and abc["distribution"] == "melodynet-abc"
    assert abc["hooks"] == ["register_writers"] and abc["provides"] == ["writer:abc .abc"]

    assert melodynet_cli("render", BUTTERFLY, "--out", "b.abc").stderr == "Wrote b.abc\n"
    [song], [back] = read_songs([BUTTERFLY]), read_songs(["b.abc"])
    assert back.notes == song.notes and back.title == "Butterfly"
    wrong = melodynet_cli("render", BUTTERFLY, "--out", "b.abcd", check=False)
    assert_one_line_error(wrong, "no writer for .abcd", ".abc,")


@pytest.mark.slow
def test_generate_writes_abc(melodynet_cli):
    from melodynet.songs.files import read_songs

    melodynet_cli("train", BUTTERFLY, "--model", "mlp", "--epochs", "1", "--out", "b")
    made = melodynet_cli("generate", "--model-dir", "b", "--out", "tune.abc")
    [song] = read_songs(["tune.abc"])
    assert [n.tiny for n in song.notes] == made.stdout.split()
    header = Path("tune.abc").read_text(encoding="utf-8").splitlines()[:3]
    assert header[:2] == ["%abc-2.1", "X:1"] and header[2].startswith("T:Butterfly")
