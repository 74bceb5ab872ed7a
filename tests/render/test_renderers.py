"""Sheet music, audio and curves: every output read back and checked against the song."""

import re
import shutil
import struct
import subprocess
import sys
import wave
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import pytest

from tests.conftest import BUTTERFLY, SONGS, butterfly_expected, one_line_error

RENDERERS = "melodynet.default_plugins.renderers"
SVG = "{http://www.w3.org/2000/svg}"
STEPS = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}
ALTER = {"s": 1, "f": -1, "n": 0, "ss": 2, "x": 2, "ff": -2}


@pytest.fixture
def renderers(monkeypatch):
    """The renderer plugin registered (until melodynet registers it by default)."""
    from melodynet import plugins

    if RENDERERS not in plugins.DEFAULT_PLUGINS:
        monkeypatch.setattr(plugins, "DEFAULT_PLUGINS", (*plugins.DEFAULT_PLUGINS, RENDERERS))
        monkeypatch.setattr(plugins, "_loaded", None)


@pytest.fixture
def render_cli(renderers):
    """Run `melodynet render ARGS...` (the command object itself, wherever it is wired)."""
    from click.testing import CliRunner

    from melodynet.cli.render import render

    def invoke(*args, **kwargs):
        return CliRunner().invoke(render, [str(a) for a in args], **kwargs)

    return invoke


def song(name):
    from melodynet.songs.files import read_songs

    return read_songs([SONGS / f"{name}.txt"])[0]


def svg_notes(svg: str) -> tuple[list[int], int, int]:
    """(MIDI pitch of each note in order, noteheads, tied continuations) in a verovio SVG.

    A note split at a barline is written as tied pieces: the first keeps the note's
    id ``n7``, the others are ``n7-2``, ``n7-3``...
    """
    root = ET.fromstring(svg)
    pitches = []
    heads = continuations = 0
    for g in root.iter(f"{SVG}g"):
        if g.get("class") != "note":
            continue
        heads += sum(1 for h in g.iter(f"{SVG}g") if h.get("class") == "notehead")
        if re.search(r"-\d+$", g.get("id", "")):
            continuations += 1
            continue
        alter = 0
        for accid in g.iter(f"{SVG}g"):
            if accid.get("class") == "accid":
                code = accid.get("data-accid") or accid.get("data-accid.ges") or "n"
                alter = ALTER[code]
        midi = 12 * (int(g.get("data-oct")) + 1) + STEPS[g.get("data-pname")] + alter
        pitches.append(midi)
    return pitches, heads, continuations


def svg_text(svg: str) -> str:
    return " ".join(" ".join(e.itertext()) for e in ET.fromstring(svg).iter(f"{SVG}text"))


@pytest.mark.parametrize(
    "name", ["butterfly", "minuet-in-g", "frere-jacques", "greensleeves", "row-your-boat"]
)
def test_svg_has_one_notehead_per_note_at_the_right_pitch(name):
    from melodynet.render.svg import render_svg

    melody = song(name)
    svg = render_svg(melody)
    pitches, heads, tied = svg_notes(svg)
    assert pitches == [n.pitch for n in melody.notes if n.pitch is not None]
    assert heads == len(pitches) + tied  # one notehead per note, more only where tied
    assert svg.count('class="tie"') == tied
    if name in ("butterfly", "minuet-in-g", "frere-jacques"):
        assert tied == 0
    root = ET.fromstring(svg)
    assert root.get("width") and root.get("viewBox")


def test_svg_shows_title_key_tempo_and_time_signature():
    from melodynet.render.svg import render_svg

    minuet = song("minuet-in-g")  # G major, 3/4, 120 bpm
    svg = render_svg(minuet, tempo=96)
    text = svg_text(svg)
    assert "Minuet in G" in text and "G major" in text
    assert "= 96" in text  # the metronome mark, at the tempo asked for
    classes = re.findall(r'class="(keySig|meterSig|tempo)"', svg)
    assert {"keySig", "meterSig", "tempo"} <= set(classes)
    # the key signature has one sharp: the F# of G major is not written as an accidental
    assert svg.count('data-accid="s"') == sum(1 for n in minuet.notes if n.pitch in (61, 73))


def test_svg_ties_notes_across_barlines():
    from melodynet.render.svg import render_svg
    from melodynet.songs.song import Note, Song

    tied = Song([Note(60, Fraction(3)), Note(62, Fraction(2)), Note(64, Fraction(3))], "Ties")
    svg = render_svg(tied)
    pitches, heads, tied = svg_notes(svg)
    assert pitches == [60, 62, 64]
    assert heads == 4 and tied == 1  # the D crosses the barline: two tied noteheads
    assert 'id="n1"' in svg and 'id="n1-2"' in svg and 'class="tie"' in svg


def test_long_song_stacks_pages_in_one_svg():
    from melodynet.render.svg import render_svg

    minuet = song("minuet-in-g")
    svg = render_svg(minuet, page_height=800)  # forces several pages
    root = ET.fromstring(svg)
    pages = root.findall(f"{SVG}svg")
    assert len(pages) >= 2
    offsets = [float(p.get("y")) for p in pages]
    assert offsets == sorted(offsets) and offsets[0] == 0
    assert float(root.get("height")) == pytest.approx(sum(float(p.get("height")) for p in pages))
    ids = [d.get("id") for d in root.find(f"{SVG}defs")]
    assert len(ids) == len(set(ids))
    pitches, heads, tied = svg_notes(svg)
    assert pitches == [n.pitch for n in minuet.notes] and heads == len(minuet.notes)


def test_render_command_writes_svg_and_musicxml(workdir, render_cli):
    from melodynet.songs.files import read_songs

    result = render_cli(BUTTERFLY, "--out", "b.svg", "--out", "b.musicxml")
    assert result.exit_code == 0, result.output
    assert "Wrote b.svg" in result.output
    pitches, heads, _ = svg_notes((workdir / "b.svg").read_text())
    assert pitches == [p for p, _ in butterfly_expected()] and heads == 54
    back = read_songs([workdir / "b.musicxml"])[0]
    assert [(n.pitch, float(n.duration)) for n in back.notes] == butterfly_expected()
    assert not list(workdir.glob(".*part*"))  # no temporary files left


def wav_facts(path: Path):
    import numpy as np

    with wave.open(str(path), "rb") as w:
        facts = (w.getnchannels(), w.getsampwidth(), w.getframerate())
        frames = w.getnframes()
        data = np.frombuffer(w.readframes(frames), dtype="<i2") / 32768.0
    return facts, frames / facts[2], data


def dominant_frequency(data, start: float, rate: int = 44100) -> float:
    import numpy as np

    segment = data[int(start * rate) : int(start * rate) + 8192] * np.hanning(8192)
    return float(np.argmax(np.abs(np.fft.rfft(segment))) * rate / 8192)


@pytest.mark.parametrize("engine", ["builtin", "fluidsynth"])
def test_wav_lasts_as_long_as_the_song_and_is_not_silent(workdir, render_cli, monkeypatch, engine):
    import numpy as np

    if engine == "fluidsynth":
        from melodynet.render.audio import soundfont

        if shutil.which("fluidsynth") is None or soundfont() is None:
            pytest.skip(
                "FluidSynth or a GM SoundFont is not installed (apt-get install "
                "fluidsynth fluid-soundfont-gm)"
            )
    monkeypatch.setenv("MELODYNET_SYNTH", engine)
    result = render_cli(BUTTERFLY, "--out", "b.wav")
    assert result.exit_code == 0, result.output
    facts, seconds, data = wav_facts(workdir / "b.wav")
    assert facts == (1, 2, 44100)
    assert seconds == pytest.approx(16.0, abs=0.001)  # 32 quarter notes at 120 bpm
    assert np.max(np.abs(data)) == pytest.approx(0.891, abs=0.01)  # peak at -1 dBFS
    rms = [np.sqrt(np.mean(data[i : i + 22050] ** 2)) for i in range(0, len(data) - 22050, 22050)]
    assert min(rms) > 0.01  # sounding all the way through (the song has no rests)
    assert dominant_frequency(data, 0.05) == pytest.approx(392, rel=0.02)  # starts on G4

    slow = render_cli(BUTTERFLY, "--out", "slow.wav", "--tempo", "60", "--instrument", "73")
    assert slow.exit_code == 0, slow.output
    _, slow_seconds, slow_data = wav_facts(workdir / "slow.wav")
    assert slow_seconds == pytest.approx(32.0, abs=0.001)
    assert not np.array_equal(slow_data[: len(data) // 4], data[: len(data) // 4])


def test_builtin_synth_instruments_sound_different():
    import numpy as np

    from melodynet.render.synth import synthesize

    melody = song("twinkle")
    piano, flute = synthesize(melody, program=0), synthesize(melody, program=73)
    assert len(piano) == len(flute) == round(melody.quarter_length * 60 / melody.tempo * 44100)
    assert not np.allclose(piano, flute)


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


@pytest.mark.skipif(shutil.which("lilypond") is None, reason="LilyPond is not installed")
def test_lilypond_writes_png_and_pdf(workdir, render_cli):
    from PIL import Image

    result = render_cli(SONGS / "minuet-in-g.txt", "--out", "m.png", "--out", "m.pdf")
    assert result.exit_code == 0, result.output
    width, height = png_size(workdir / "m.png")
    assert width > 1000 and height > 300  # one image, as tall as the music
    pixels = Image.open(workdir / "m.png").convert("L")
    dark = sum(pixels.histogram()[:128])
    assert dark > 0.01 * width * height  # ink on the page
    assert (workdir / "m.pdf").read_bytes()[:5] == b"%PDF-"


def test_lilypond_missing_says_how_to_install(workdir, render_cli, monkeypatch):
    from melodynet.render import lilypond

    monkeypatch.setattr(lilypond.shutil, "which", lambda *a, **k: None)
    result = render_cli(BUTTERFLY, "--out", "b.svg", "--out", "b.pdf")
    one_line_error(result, "b.pdf", "needs LilyPond", "apt-get install lilypond", ".svg")
    assert not (workdir / "b.svg").exists()  # checked before anything is written


def test_bad_render_options_are_one_line_errors(workdir, render_cli, monkeypatch):
    one_line_error(render_cli(BUTTERFLY, "--out", "b.wav", "--instrument", "200"), "0 to 127")
    one_line_error(render_cli(BUTTERFLY, "--out", "b.wav", "--tempo", "0"), "--tempo")
    one_line_error(render_cli("nope.txt", "--out", "b.svg"), "nope.txt", "no such file")
    one_line_error(render_cli(BUTTERFLY, "--out", "b.xyz"), "no writer for .xyz")
    monkeypatch.setenv("MELODYNET_SYNTH", "bogus")
    one_line_error(render_cli(BUTTERFLY, "--out", "b.wav"), "MELODYNET_SYNTH")


def test_learning_curves_png_and_svg(workdir):
    from melodynet.errors import MelodynetError
    from melodynet.render.curves import check_path as check_plot_path
    from melodynet.render.curves import write_curves

    history = {"loss": [2.0, 1.2, 0.7, 0.3], "accuracy": [0.2, 0.5, 0.8, 1.0]}
    write_curves(history, workdir / "curves.png")
    width, height = png_size(workdir / "curves.png")
    assert width > 600 and height > 200
    write_curves(history, workdir / "curves.svg")
    svg = (workdir / "curves.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    with pytest.raises(MelodynetError, match="curves.jpg"):
        check_plot_path(workdir / "curves.jpg")
    with pytest.raises(MelodynetError, match="no training history"):
        write_curves({"loss": []}, workdir / "empty.png")
    assert sorted(p.name for p in workdir.iterdir()) == ["curves.png", "curves.svg"]


def test_command_line_stays_light():
    """`melodynet --help` must not pay for verovio, matplotlib, music21 or numpy."""
    code = (
        "import sys, melodynet.cli, melodynet.cli.render, " + RENDERERS + "\n"
        "from melodynet.plugins import registry\n"
        "registry()\n"
        "heavy = {'verovio', 'matplotlib', 'music21', 'numpy', 'tensorflow'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
