"""The Python API as docs/api.md shows it: read, train, load, generate, write, display."""

import json
import os
import subprocess
import sys
import warnings

import mido
import pytest

import melodynet
from tests.conftest import BUTTERFLY, ROOT, SONGS, butterfly_expected


def test_import_loads_neither_tensorflow_nor_music21():
    code = (
        "import sys, melodynet\n"
        "song = melodynet.Song.from_json({'notes': ['67:1/2']})\n"
        "heavy = [m for m in ('tensorflow', 'keras', 'music21') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_public_names():
    for name in ("read", "train", "load", "Model", "Song", "Note", "MelodynetError"):
        assert name in melodynet.__all__ and getattr(melodynet, name) is not None
    assert "read" in dir(melodynet)
    with pytest.raises(AttributeError):
        melodynet.nothing_here  # noqa: B018


def test_bundles_lists_pretrained_and_own_without_tensorflow(tmp_path):
    """melodynet.bundles() reads metadata only: the shipped pretrained bundles (where
    melodynet-folk is installed) and a bundle copied under $MELODYNET_MODELS."""
    import shutil

    assert {"bundles", "BundleInfo"} <= set(melodynet.__all__)
    shipped = ROOT / "plugins" / "melodynet-folk" / "melodynet_folk" / "bundles"
    shutil.copytree(shipped / "bach-chorales", tmp_path / "models" / "chorales")
    code = (
        "import json, sys, melodynet\n"
        "found = melodynet.bundles()\n"
        "heavy = [m for m in ('tensorflow', 'keras', 'music21') if m in sys.modules]\n"
        "print(json.dumps({'heavy': heavy, 'found': [b.to_json() for b in found]}))\n"
    )
    env = {**os.environ, "MELODYNET_MODELS": str(tmp_path / "models")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["heavy"] == []
    *pretrained, own = out["found"]
    assert own["name"] == str(tmp_path / "models" / "chorales") and own["source"] == "models"
    assert own["model"] == "stateful-lstm" and own["songs"] > 0 and own["error"] == ""
    assert all(b["source"] == "plugin" for b in pretrained)
    chorales = [b for b in pretrained if b["name"] == "bach-chorales"]
    if chorales:  # melodynet-folk installed: the same bundle, under its registered name
        assert chorales[0]["songs"] == own["songs"]
        assert chorales[0]["heldout_bits_per_note"] == own["heldout_bits_per_note"]


def test_read_a_file_and_a_directory():
    [song] = melodynet.read(BUTTERFLY)
    assert [(n.pitch, float(n.duration)) for n in song.notes] == butterfly_expected()
    assert song.name == "butterfly" and song.title
    every = melodynet.read(SONGS)
    assert "butterfly" in [s.name for s in every] and len(every) >= 5


def test_read_reports_skipped_songs_as_warnings(tmp_path):
    (tmp_path / "good.txt").write_text("g8 e8 e4 f8 d8 d4 c8 d8\n")
    (tmp_path / "short.txt").write_text("c4 d4\n")
    (tmp_path / "bad.txt").write_text("c4 zz4 e4\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        songs = melodynet.read(tmp_path, min_notes=5)
    assert [s.name for s in songs] == ["good"]
    said = "\n".join(str(w.message) for w in caught)
    assert all(issubclass(w.category, melodynet.MelodynetWarning) for w in caught)
    assert "skipped 2" in said and "too short" in said and "'zz4'" in said
    with pytest.raises(melodynet.SongError, match="bad.txt"):
        melodynet.read(tmp_path, strict=True)


def test_song_from_text_and_back(tmp_path):
    song = melodynet.Song.from_text("g8 e8 e4 f8 d8 d4", title="opening", tempo=90)
    assert song.title == "opening" and song.tempo == 90 and len(song) == 6
    assert song.tiny() == "g8 e8 e4 f8 d8 d4"
    song.write(tmp_path / "o.mid", tempo=120, instrument=73)
    midi = mido.MidiFile(tmp_path / "o.mid")
    assert [m.note for m in midi.tracks[0] if m.type == "note_on"] == [67, 64, 64, 65, 62, 62]
    assert [m.program for m in midi.tracks[0] if m.type == "program_change"] == [73]
    song.write(tmp_path / "o.musicxml")
    [back] = melodynet.read(tmp_path / "o.musicxml")
    assert back.notes == song.notes
    score = song.to_music21()
    assert [n.pitch.midi for n in score.flatten().notes] == [67, 64, 64, 65, 62, 62]


def test_song_shows_itself_in_a_notebook():
    html = melodynet.Song.from_text("g8 e8 e4 f8 d8 d4", title="opening")._repr_html_()
    assert "<svg" in html and 'src="data:audio/wav;base64,' in html and "opening" in html


def test_errors_are_melodynet_errors_in_api_terms(tmp_path):
    with pytest.raises(melodynet.SongError, match="zz4"):
        melodynet.Song.from_text("g8 zz4")
    with pytest.raises(melodynet.OptionError, match="^window must be at least 1, not 0") as info:
        melodynet.train([BUTTERFLY], window=0)
    assert info.value.option == "window"
    with pytest.raises(melodynet.OptionError, match="did you mean 'epochs'"):
        melodynet.train([BUTTERFLY], epocs=3)
    with pytest.raises(melodynet.ModelError, match="unknown model 'nonsense'"):
        melodynet.train([BUTTERFLY], model="nonsense")
    with pytest.raises(melodynet.BundleError, match="no such model bundle"):
        melodynet.load(tmp_path / "nothing")
    with pytest.raises(melodynet.OutputError, match="no writer for .xyz"):
        melodynet.Song.from_text("g8 e8").write(tmp_path / "song.xyz")
    with pytest.raises(melodynet.OptionError, match="^tempo must be a positive"):
        melodynet.Song.from_text("g8 e8").write(tmp_path / "song.mid", tempo=-1)
    for error in (melodynet.SongError, melodynet.OptionError, melodynet.BundleError):
        assert issubclass(error, melodynet.MelodynetError)


@pytest.mark.slow
def test_train_generate_save_load_in_a_new_process(tmp_path):
    events = []
    model = melodynet.train(
        [BUTTERFLY], model="stateful-lstm", out=tmp_path / "b", progress=events.append
    )
    assert isinstance(model, melodynet.Model) and model.directory == tmp_path / "b"
    epochs = [e for e in events if not e.message]
    assert epochs and epochs[-1].epoch == model.meta.epochs_run and "loss" in epochs[-1].logs
    assert any(e.message.startswith("Saved") for e in events)
    melody = model.generate(4)
    assert melody.notes == melodynet.read(BUTTERFLY)[0].notes
    assert melody.extra["matches"] == melody.extra["compared"] == "50"
    report = model.evaluate()
    assert report["songs"][0]["full_song_matches"] == 50
    three = model.generate("g8 e8 e4 f8", length=10, temperature=1.0, num_outputs=3)
    assert len(three) == 3 and all(len(s) == 14 for s in three)
    again = model.generate("g8 e8 e4 f8", length=10, temperature=1.0, num_outputs=3)
    assert [s.notes for s in three] == [s.notes for s in again]

    code = (
        "import melodynet, sys\n"
        f"model = melodynet.load({str(tmp_path / 'b')!r})\n"
        "song = model.generate(4)\n"
        f"song.write({str(tmp_path / 'again.mid')!r})\n"
        "print(song.tiny())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == melody.tiny()
    # No Python-level warning or log line from TensorFlow or Keras reaches the terminal (the
    # C++ runtime may still write a oneDNN notice straight to stderr on some CPUs).
    assert "Warning" not in done.stderr and "WARNING" not in done.stderr, done.stderr
    midi = mido.MidiFile(tmp_path / "again.mid")
    ons = [m.note for m in midi.tracks[0] if m.type == "note_on"]
    assert ons == [p for p, _ in butterfly_expected()]
