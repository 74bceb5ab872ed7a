"""The HTML report: scores one above the other, wrong notes in red, audio, curves; in a browser."""

import base64
import io
import re
import shutil
import struct
import subprocess
import wave
from fractions import Fraction

import pytest

from tests.conftest import BUTTERFLY, one_line_error

WRONG_FILL = 'fill="#D62728"'
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def invoke(command, *args):
    from click.testing import CliRunner

    return CliRunner().invoke(command, [str(a) for a in args])


@pytest.fixture(scope="module")
def weak_bundle(tmp_path_factory):
    """A stateful LSTM trained for 8 epochs only: it gets many butterfly notes wrong."""
    from melodynet.cli import cli
    from melodynet.plugins import registry

    registry(cli)
    out = tmp_path_factory.mktemp("weak") / "butterfly-weak"
    result = invoke(cli, "train", BUTTERFLY, "--epochs", 8, "--all-epochs", "--out", out)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def report_html(weak_bundle, tmp_path_factory):
    from melodynet.cli.render import report

    out = tmp_path_factory.mktemp("report") / "report.html"
    result = invoke(report, "--model-dir", weak_bundle, "--out", out)
    assert result.exit_code == 0, result.output
    assert f"Wrote {out}" in result.output
    return out


def colored_ids(html: str, prefix: str, fill: str = WRONG_FILL) -> set[int]:
    """Indices of the song's notes and rests drawn with ``fill`` (tied pieces count once)."""
    found = set()
    for tag in re.findall(r"<g\b[^>]*>", html):
        if fill not in tag or not re.search(r'class="(note|rest)"', tag):
            continue
        match = re.search(rf'id="{re.escape(prefix)}(\d+)(?:-\d+)?"', tag)
        if match:
            found.add(int(match.group(1)))
    return found


def check_report_dom(html: str) -> dict:
    """What the user must see: both scores, the wrong notes in red, two audio players, curves."""
    sections = re.findall(r'<section class="comparison"[^>]*>', html)
    assert len(sections) == 1
    wrong = [int(i) for i in re.search(r'data-wrong="([\d ]*)"', sections[0]).group(1).split()]
    compared = int(re.search(r'data-compared="(\d+)"', sections[0]).group(1))
    assert compared == 50 and 0 < len(wrong) < 50  # an undertrained model errs, not always
    original = html.index('<figure class="score original">')
    generated = html.index('<figure class="score generated">')
    assert original < generated  # one above the other
    for start in (original, generated):
        figure = html[start : html.index("</figure>", start)]
        assert figure.count('class="notehead"') >= 54
        assert re.search(r'<audio[^>]*controls[^>]*src="data:audio/wav;base64,', figure)
    assert colored_ids(html, "s0-gen-n") == set(wrong)
    assert colored_ids(html, "s0-orig-n") == set()  # the original is never marked wrong
    assert colored_ids(html, "s0-gen-n", 'fill="#1F77B4"') == {0, 1, 2, 3}  # the primer
    assert re.search(r'<div class="curves"><svg', html)
    assert "butterfly" in html and "one step ahead" in html
    return {"wrong": wrong}


def test_report_file_has_scores_audio_and_curves(report_html):
    html = report_html.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert not re.search(r'(src|href)="(https?:|//)', html)  # self-contained
    check_report_dom(html)
    # the audio is real WAV: 32 quarter notes at 120 bpm last 16 seconds
    clips = re.findall(r'src="data:audio/wav;base64,([^"]+)"', html)
    assert len(clips) == 2
    with wave.open(io.BytesIO(base64.b64decode(clips[0]))) as w:
        assert w.getnframes() / w.getframerate() == pytest.approx(16.0, abs=0.001)


def test_report_agrees_with_generate(report_html, weak_bundle, workdir):
    from melodynet.cli import cli

    html = report_html.read_text(encoding="utf-8")
    made = invoke(cli, "generate", "--model-dir", weak_bundle)
    assert made.exit_code == 0, made.output
    matched = int(re.search(r"(\d+)/50 generated notes match", made.output).group(1))
    wrong = re.search(r'data-wrong="([\d ]*)"', html).group(1).split()
    assert len(wrong) == 50 - matched
    assert f"{matched}/50 generated notes match" in html


def _browser() -> str | None:
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


def test_report_in_headless_chromium(report_html, tmp_path):
    browser = _browser()
    if browser is None:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    url = report_html.resolve().as_uri()
    dom = subprocess.run(
        [browser, *flags, "--dump-dom", url], capture_output=True, text=True, timeout=180
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    check_report_dom(dom.stdout)
    assert len(re.findall(r"<audio\b", dom.stdout)) == 2

    screenshot = tmp_path / "report.png"  # kept under the pytest temp dir for people to look at
    shot = subprocess.run(
        [browser, *flags, f"--screenshot={screenshot}", "--window-size=1200,2000", url],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert shot.returncode == 0, shot.stderr[-2000:]
    header = screenshot.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", header[16:24]) == (1200, 2000)
    from PIL import Image

    image = Image.open(screenshot).convert("RGB")
    reds = sum(
        count for count, (r, g, b) in image.getcolors(1200 * 2000) if r > 180 and g < 90 and b < 90
    )
    assert reds > 100  # the wrong notes are visibly red on the page


def test_only_differing_notes_are_marked():
    from melodynet.hookspecs import WriteOptions
    from melodynet.render.report import Comparison, build_report
    from melodynet.songs.song import Note, Song

    notes = [Note(p, Fraction(1, 2)) for p in (67, 64, 64, 65, 62, 62, 60, 62)]
    original = Song(notes, "Tune", tempo=100)
    changed = list(notes)
    changed[5] = Note(None, Fraction(1, 2))  # a rest instead of D
    changed[6] = Note(60, Fraction(1))  # right pitch, wrong length
    generated = Song(changed + [Note(67, Fraction(1))], "Tune (generated)", tempo=100)
    history = {"loss": [1.0, 0.5], "accuracy": [0.5, 0.9]}
    perfect = Comparison(original, Song(list(notes), "Same", tempo=100), 2, 6)
    flawed = Comparison(original, generated, 2, 6)
    assert perfect.wrong == [] and flawed.wrong == [5, 6] and flawed.matches == 4
    html = build_report(
        "t", [("model", "m")], [], history, [perfect, flawed], WriteOptions(instrument=73)
    )
    assert colored_ids(html, "s0-gen-n") == set()
    assert colored_ids(html, "s1-gen-n") == {5, 6}  # the extra ninth note is not compared
    assert 'data-wrong="5 6"' in html and "4/6 generated notes match" in html
    assert html.count("data:audio/wav;base64,") == 4


def test_report_errors_are_one_line(weak_bundle, workdir):
    from melodynet.cli.render import report

    one_line_error(invoke(report, "--model-dir", weak_bundle, "--out", "r.txt"), ".html")
    one_line_error(invoke(report, "--model-dir", workdir / "none"), "no such model bundle")
    one_line_error(
        invoke(report, "--model-dir", weak_bundle, "--song", "nope", "--out", "r.html"),
        "nope",
        "butterfly",
    )
    assert not (workdir / "r.html").exists()
