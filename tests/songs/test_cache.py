import json
import shutil
from fractions import Fraction
from pathlib import Path

import pytest

from melodynet.songs.cache import Entry, SongCache, default_dir
from melodynet.songs.song import Note, Song
from tests.conftest import BUTTERFLY
from tests.songs.test_corpus import BOOK

SONG = Song(
    [Note(67, Fraction(1, 2)), Note(None, 1), Note(64, Fraction(2, 3)), Note(60, 4)],
    title="Tïtle",
    tempo=96.0,
    time_signature="6/8",
    key="E minor",
    source="somewhere",
    extra={"tune": "3", "pickup": "1/2"},
)


def test_where_the_cache_lives(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("MELODYNET_CACHE", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert default_dir() == tmp_path / ".cache" / "melodynet"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_dir() == tmp_path / "xdg" / "melodynet"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    assert default_dir() == tmp_path / ".cache" / "melodynet"
    monkeypatch.setenv("MELODYNET_CACHE", str(tmp_path / "mine"))
    assert default_dir() == tmp_path / "mine"
    for off in ("off", "0", ""):
        monkeypatch.setenv("MELODYNET_CACHE", off)
        assert default_dir() is None
        assert not SongCache.default().enabled


def test_entries_round_trip(tmp_path):
    store = SongCache(tmp_path)
    entry = Entry([SONG], [("too short", "\x1f tune 2: 3 notes")], ["\x1f: a remark"])
    key = store.key(b"content", "abc", None)
    assert store.load(key) is None
    assert store.store(key, entry)
    again = SongCache(tmp_path).load(key)
    assert again == entry
    assert again.songs[0] == SONG
    files = list(tmp_path.rglob("*.json"))
    assert [f.name for f in files] == [f"{key}.json"] and files[0].parent.name == key[:2]


def test_keys_follow_content_reader_part_and_versions(monkeypatch):
    key = SongCache.key(b"content", "abc", None)
    assert key == SongCache.key(b"content", "abc", None)
    others = {
        SongCache.key(b"content!", "abc", None),
        SongCache.key(b"content", "musicxml", None),
        SongCache.key(b"content", "abc", 2),
    }
    monkeypatch.setattr("melodynet.__version__", "99.0")
    others.add(SongCache.key(b"content", "abc", None))
    assert key not in others and len(others) == 4


@pytest.mark.parametrize(
    "damage",
    [
        b"",
        b"\xff\xfe not utf-8",
        b'{"format": 1, "songs": [',
        b"[1, 2, 3]",
        b'{"format": 0, "songs": [], "problems": [], "warnings": []}',
        b'{"format": 1, "songs": [{"notes": "999:1"}], "problems": [], "warnings": []}',
        b'{"format": 1, "songs": [{"notes": "60:0"}], "problems": [], "warnings": []}',
        b'{"format": 1, "songs": [{"notes": ""}], "problems": [], "warnings": []}',
        b'{"format": 1, "songs": [{"notes": "60:1", "extra": 3}], "problems": [], "warnings": []}',
        b'{"format": 1, "songs": [], "problems": [["one"]], "warnings": []}',
    ],
)
def test_damaged_entries_are_misses_and_go(tmp_path, damage):
    store = SongCache(tmp_path)
    key = store.key(b"content", "abc", None)
    store.store(key, Entry([SONG]))
    [path] = tmp_path.rglob("*.json")
    path.write_bytes(damage)
    assert store.load(key) is None
    assert store.damaged == 1 and not path.exists()
    store.store(key, Entry([SONG]))
    assert store.load(key).songs == [SONG]


def test_a_cache_that_cannot_be_written_is_skipped(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("in the way")
    store = SongCache(blocker / "cache")
    assert not store.store(store.key(b"x", "abc", None), Entry([SONG]))
    assert str(blocker) in store.write_error


def _songs(result):
    return [(s.path, s.title, s.notes, s.key, s.extra) for s in result.songs]


def test_the_second_collect_parses_nothing(workdir, monkeypatch):
    from melodynet.songs import corpus

    monkeypatch.setenv("MELODYNET_CACHE", str(workdir / "cache"))
    Path("book.abc").write_text(BOOK)
    shutil.copy(BUTTERFLY, "butterfly.txt")
    said = []
    first = corpus.collect(["book.abc", "butterfly.txt"], say=said.append)
    assert first.cached == 0

    def no_parsing(*args):
        raise AssertionError("parsed again")

    monkeypatch.setattr(corpus, "read_file", no_parsing)
    said_again = []
    second = corpus.collect(["book.abc", "butterfly.txt"], say=said_again.append)
    assert second.cached == 2
    assert _songs(second) == _songs(first)
    assert [s.message for s in second.skips] == [s.message for s in first.skips]
    assert said_again[0] == said[0].replace("from 2 files", "from 2 files (2 from the cache)")
    assert said_again[1:] == said[1:]

    # a renamed copy is the same content: from the cache, under its new name
    Path("moved").mkdir()
    shutil.copy("book.abc", "moved/tunes.abc")
    moved = corpus.collect(["moved/tunes.abc"], say=lambda _: None)
    assert moved.cached == 1
    assert {s.path for s in moved.songs} == {"moved/tunes.abc"}
    assert moved.skips[0].message.startswith("moved/tunes.abc tune 2: ")


def test_an_edited_file_is_parsed_again(workdir, monkeypatch):
    from melodynet.songs import corpus

    monkeypatch.setenv("MELODYNET_CACHE", str(workdir / "cache"))
    Path("a.txt").write_text("c4 d4 e4 f4 g4")
    corpus.collect(["a.txt"], say=lambda _: None)
    Path("a.txt").write_text("c4 d4 e4 f4 g4 a4")
    again = corpus.collect(["a.txt"], say=lambda _: None)
    assert again.cached == 0 and len(again.songs[0]) == 6


def test_collect_says_when_the_cache_cannot_be_written(workdir, monkeypatch):
    from melodynet.songs import corpus

    Path("blocker").write_text("")
    monkeypatch.setenv("MELODYNET_CACHE", str(workdir / "blocker" / "cache"))
    said = []
    result = corpus.collect([BUTTERFLY], say=said.append)
    assert len(result.songs) == 1
    assert said[0].startswith("cache: cannot write ") and "reading without it" in said[0]


def test_cached_notes_are_shared(tmp_path):
    store = SongCache(tmp_path)
    key = store.key(b"x", "abc", None)
    store.store(key, Entry([SONG, SONG]))
    a, b = store.load(key).songs
    assert all(x is y for x, y in zip(a.notes, b.notes, strict=True))
    assert Song.from_json({"notes": ["67:1/2"]}).notes[0] is a.notes[0]


def test_entries_are_compact_json(tmp_path):
    store = SongCache(tmp_path)
    key = store.key(b"x", "abc", None)
    store.store(key, Entry([Song([Note(60, 1)] * 3)]))
    [path] = tmp_path.rglob("*.json")
    data = json.loads(path.read_text())
    assert data["songs"] == [{"notes": "60:1 60:1 60:1"}]
