from pathlib import Path

import pytest

from melodynet.errors import MelodynetError, SongError
from melodynet.songs.cache import SongCache
from melodynet.songs.corpus import collect, expand, resolve_corpus
from tests.conftest import BUTTERFLY

BOOK = """X:1
T:Good
M:4/4
L:1/8
K:G
GABc d2 B2 | c2 A2 G4 |]

X:2
T:Short
M:4/4
L:1/8
K:G
G2 A2 B4 |]

X:3
T:Flick
M:4/4
L:1/8
K:G
G2 A/32 B2 c2 d2 e2 |]

X:4
T:Silent
M:4/4
L:1/8
K:G
z8 |]

X:5
T:Chords
M:4/4
L:1/8
K:Am
E | [CEA]2 [DFA]2 [EGc]2 [FAd]2 | [GBd]4 c4 |]
"""


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MELODYNET_CACHE", str(tmp_path / "cache"))


def _collect(inputs, **kw):
    said = []
    return collect([str(i) for i in inputs], say=said.append, **kw), said


def test_a_book_of_tunes_keeps_the_good_ones_and_says_why_the_rest_went(workdir):
    Path("book.abc").write_text(BOOK)
    result, said = _collect(["book.abc"])
    assert [s.title for s in result.songs] == ["Good", "Chords"]
    assert said[0] == (
        "read 2 tunes from 1 file; skipped 3: 1 too short (< 5 notes), 1 no notes "
        "(book.abc tune 4: no notes found), 1 out of limits (book.abc tune 3: note 2 lasts "
        "1/64 quarter notes; melodynet takes notes from a 128th note to sixteen whole notes)"
    )
    assert (
        "  skipped (too short): book.abc tune 2: 3 notes is too short; a window of 4 needs "
        "at least 5" in said
    )
    assert "  chords or voices reduced to their top note (1 tune)" in said
    assert [(s.where, s.kind) for s in result.skips] == [
        ("book.abc tune 2", "too short"),
        ("book.abc tune 3", "out of limits"),
        ("book.abc tune 4", "no notes"),
    ]
    good, chords = result.songs
    assert good.tiny() == "g8 a8 b8 c'8 d'4 b4 c'4 a4 g2"
    assert good.path == "book.abc" and good.extra["tune"] == "1"
    assert good.name == "book#1"  # tunes of one file are told apart
    assert good.key == "G major" and good.time_signature == "4/4"
    # the mode survives (music21's KeySignature.asKey() would say C major)
    assert chords.key == "A minor"
    assert chords.extra["pickup"] == "1/2"
    data = result.to_json()
    assert data["songs"] == 2 and data["files"] == 1
    assert data["skipped"] == {"too short": 1, "out of limits": 1, "no notes": 1}
    assert data["skips"][0]["where"] == "book.abc tune 2"
    assert [n.pitch for n in chords.notes] == [64, 69, 69, 72, 74, 74, 72]


def test_a_longer_window_skips_more(workdir):
    Path("book.abc").write_text(BOOK)
    result, said = _collect(["book.abc"], window=8)
    assert [s.title for s in result.songs] == ["Good"]
    assert said[0].startswith("read 1 tune from 1 file; skipped 4: 2 too short (< 9 notes)")


def test_strict_makes_the_first_skip_an_error(workdir):
    Path("book.abc").write_text(BOOK)
    with pytest.raises(SongError) as info:
        _collect(["book.abc"], strict=True)
    assert info.value.message == (
        "book.abc tune 2: 3 notes is too short; a window of 4 needs at least 5 (strict)"
    )


def test_directories_recursively_and_only_song_files(workdir):
    (workdir / "d" / "sub").mkdir(parents=True)
    (workdir / "d" / ".hidden").mkdir()
    Path("d/sub/a.txt").write_text("c4 d4 e4 f4 g4 a4")
    Path("d/b.abc").write_text(BOOK)
    Path("d/.hidden/c.txt").write_text("c4 d4 e4 f4 g4 a4")
    Path("d/README.md").write_text("not a song")
    Path("d/notes.json").write_text("{}")
    result, said = _collect(["d"])
    assert [Path(s.path).name for s in result.songs] == ["b.abc", "b.abc", "a.txt"]
    assert result.files == 2
    assert dict(result.ignored) == {".md": 1, ".json": 1}
    assert "  ignored files that are not songs: 1 .json, 1 .md" in said


def test_globs_and_each_file_once(workdir):
    (workdir / "d" / "sub").mkdir(parents=True)
    for name in ("d/x.txt", "d/sub/y.txt", "d/sub/z.txt"):
        Path(name).write_text("c4 d4 e4 f4 g4 a4\n# title: " + name)
    result, _ = _collect(["d/**/*.txt", "d/sub/y.txt", "d/sub"])
    assert [s.path for s in result.songs] == ["d/sub/y.txt", "d/sub/z.txt", "d/x.txt"]


def test_one_bad_file_among_good_ones_is_skipped(workdir):
    Path("bad.txt").write_text("# title: t\ng8 e8 e4\nf8 d8 zz4 d4\n")
    result, said = _collect([BUTTERFLY, "bad.txt"])
    assert len(result.songs) == 1
    assert said[0] == (
        "read 1 tune from 2 files; skipped 1: 1 unreadable (bad.txt:3:7: cannot read token "
        "'zz4' (expected tinyNotation such as g8, c'4., f#8, b-4, r4 or 3/4))"
    )


def test_nothing_left_is_an_error_that_says_why(workdir):
    Path("bad.txt").write_text("# title: t\ng8 e8 e4\nf8 d8 zz4 d4\n")
    Path("short.txt").write_text("c4 d4 e4 f4")
    with pytest.raises(SongError) as info:
        _collect(["bad.txt"])
    assert info.value.message.startswith("bad.txt:3:7: cannot read token 'zz4'")
    with pytest.raises(SongError) as info:
        _collect(["short.txt"])
    assert info.value.message == "short.txt: 4 notes is too short; a window of 4 needs at least 5"
    with pytest.raises(SongError) as info:
        _collect(["bad.txt", "short.txt"])
    # (both files come from the cache now: their skips are cached too)
    assert info.value.message.startswith(
        "no songs to use: read 0 tunes from 2 files (2 from the cache); skipped 2: "
        "1 too short (< 5 notes), 1 unreadable (bad.txt:3:7: cannot read token 'zz4'"
    )


def test_too_large_files_are_skipped_unread(workdir):
    Path("huge.txt").write_text("c4 " * 700_000)
    with pytest.raises(SongError, match=r"^huge.txt: 2.1 MB is too large for a song file"):
        _collect(["huge.txt"])


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Path("somedir").mkdir(), "somedir: no song files found (readable: .abc, "),
        (lambda: None, "nope.txt: no such file"),
        (lambda: None, "*.nothing: no files match (readable: "),
        (lambda: Path("song.xyz").write_text("c4"), "song.xyz: no reader for .xyz (readable: "),
    ],
)
def test_inputs_that_name_nothing(workdir, make, message):
    make()
    name = message.split(":")[0]
    with pytest.raises(SongError) as info:
        _collect([name])
    assert info.value.message.startswith(message)


def test_read_refuses_a_minimum_below_one_note():
    import melodynet

    with pytest.raises(melodynet.OptionError, match="min_notes must be at least 1, not 0"):
        melodynet.read(BUTTERFLY, min_notes=0)


def test_a_part_that_is_not_there(workdir):
    Path("book.abc").write_text(BOOK)
    with pytest.raises(SongError, match="no songs to use: .* 4 no such part"):
        _collect(["book.abc"], part=2)


def test_music21_corpus_by_name():
    files = resolve_corpus("essenFolksong")
    assert len(files) == 31
    assert all(label.startswith("corpus:essenFolksong/") for _, label in files)
    [(path, label)] = resolve_corpus("essenFolksong/kinder0")
    assert label == "corpus:essenFolksong/kinder0.abc" and path.is_file()
    assert resolve_corpus("essenFolksong/kinder0.abc") == [(path, label)]
    [(path, label)] = resolve_corpus("bwv66.6")
    assert label == "corpus:bach/bwv66.6.mxl"
    with pytest.raises(
        MelodynetError,
        match=r"corpus:nonesuch: not in music21's corpus \(collections: airdsAirs, bach, ",
    ):
        resolve_corpus("nonesuch")


def test_corpus_collection_leaves_out_analyses():
    from collections import Counter

    ignored = Counter()
    sources = expand(["corpus:bach"], ignored)
    assert ignored[".rntxt"] > 0
    assert {s.path.suffix for s in sources} <= {".mxl", ".xml", ".krn", ".musicxml"}


def test_reading_from_the_corpus():
    result, said = _collect(["corpus:essenFolksong/teste", "corpus:palestrina/Credo_67_c"])
    assert said[0] == "read 9 tunes from 2 files"
    first = result.songs[0]
    assert first.title.startswith("Ich hab die Nacht getr")
    assert first.key == "E major" and first.time_signature == "6/8"
    assert first.extra == {"tune": "1", "number": "1", "pickup": "1/2"}
    assert first.path.endswith("essenFolksong/teste.abc")
    krn = result.songs[-1]  # Humdrum: no melodynet reader, read through music21
    assert krn.path.endswith("Credo_67_c.krn") and len(krn) == 9
    assert any("parts; using part 1" in line for line in said)


def test_parsing_in_two_processes_gives_the_same_songs(workdir):
    Path("book.abc").write_text(BOOK)
    one, _ = _collect(["book.abc", BUTTERFLY], cache=_no_cache())
    two, _ = _collect(["book.abc", BUTTERFLY], cache=_no_cache(), jobs=2)
    assert [(s.path, s.notes, s.extra) for s in one.songs] == [
        (s.path, s.notes, s.extra) for s in two.songs
    ]
    assert [s.message for s in one.skips] == [s.message for s in two.skips]


def test_progress_is_reported_per_file(workdir):
    Path("book.abc").write_text(BOOK)
    seen = []
    _collect(["book.abc", BUTTERFLY], progress=lambda *a: seen.append(a))
    assert seen == [(1, 2, "book.abc"), (2, 2, str(BUTTERFLY))]


def _no_cache():
    from melodynet.songs.cache import SongCache

    return SongCache(None)


# Readers that read a file tune by tune (ReaderSpec.read_tunes)


def test_a_reader_that_fails_midway_keeps_the_tunes_before(workdir, monkeypatch):
    from melodynet import plugins
    from melodynet.hookspecs import ReaderSpec
    from melodynet.songs.song import Note, Song

    def read(path, options):
        raise AssertionError("read_tunes is used when a reader has it")

    def read_tunes(path, options):
        yield Song([Note(60 + i, 1) for i in range(6)], title="first")
        options.warn(f"{path} tune 2: chords or voices reduced to their top note")
        yield SongError(f"{path} tune 2: cannot take a melody")
        yield "not a song"
        raise RuntimeError("the reader broke")

    reader = ReaderSpec("odd", (".odd",), read, read_tunes=read_tunes)
    fake = plugins.Registry(readers={".odd": plugins.Provided(reader, "odd-plugin")})
    monkeypatch.setattr(plugins, "_loaded", fake)
    Path("tunes.odd").write_text("anything")
    result, said = _collect(["tunes.odd"], cache=SongCache(None))
    [song] = result.songs
    assert song.title == "first" and song.name == "tunes#1" and song.path == "tunes.odd"
    # in tune order, the file's own problems first
    assert [(s.where, s.kind, s.message) for s in result.skips] == [
        (
            "tunes.odd",
            "unreadable",
            "tunes.odd: reader 'odd' failed (RuntimeError: the reader broke)",
        ),
        ("tunes.odd tune 2", "polyphonic", "tunes.odd tune 2: cannot take a melody"),
        (
            "tunes.odd tune 3",
            "unreadable",
            "tunes.odd tune 3: reader 'odd' gave a str, not a Song or SongError",
        ),
    ]
    assert "  chords or voices reduced to their top note (1 tune)" in said


def test_humdrum_files_have_a_reader(workdir):
    import shutil

    from melodynet.songs.corpus import corpus_root

    [krn] = corpus_root().glob("palestrina/Credo_67_c.krn")
    shutil.copy(krn, "credo.krn")
    result, said = _collect(["credo.krn"])
    [song] = result.songs
    assert len(song) == 9 and song.path == "credo.krn"
    assert any("parts; using part 1" in line for line in said)
