"""PDF and PNG sheet music through LilyPond, when the ``lilypond`` program is installed.

The song goes to LilyPond as MusicXML (see ``notation``), converted by
``musicxml2ly``, which ships with LilyPond. A PDF has A4 pages; a PNG is one
image as tall as the music (LilyPond's one-page breaking) at 150 dpi.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from melodynet.errors import MelodynetError
from melodynet.render import notation
from melodynet.songs.song import Song

RESOLUTION = 150  # dots per inch for PNG
TIMEOUT = 300  # seconds for each program


def missing_message(path: Path) -> str:
    return (
        f"{path}: {path.suffix.lower()} needs LilyPond: apt-get install lilypond "
        "(or write .svg, which needs nothing)"
    )


def programs(path: Path) -> tuple[str, str]:
    """The ``lilypond`` and ``musicxml2ly`` programs, or a MelodynetError saying how to get them."""
    lilypond = shutil.which("lilypond")
    if lilypond is None:
        raise MelodynetError(missing_message(path))
    converter = shutil.which("musicxml2ly") or shutil.which(
        "musicxml2ly", path=str(Path(lilypond).parent)
    )
    if converter is None:
        raise MelodynetError(
            f"{path}: LilyPond is installed without musicxml2ly; reinstall it: "
            "apt-get install --reinstall lilypond"
        )
    return lilypond, converter


def _ly_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _settings(song: Song, one_page: bool) -> str:
    """Appended to musicxml2ly's output; later top-level blocks override earlier ones."""
    subtitle = notation.key_name(song)
    lines = [
        "\\header {",
        f"  title = {_ly_string(song.title or song.name)}",
        f"  subtitle = {_ly_string(subtitle) if subtitle else '##f'}",
        "  composer = ##f",
        "  tagline = ##f",
        "}",
    ]
    if one_page:
        lines += ["\\paper {", "  page-breaking = #ly:one-page-breaking", "}"]
    return "\n".join(lines) + "\n"


def _run(command: list[str], path: Path, cwd: Path) -> None:
    name = Path(command[0]).name
    try:
        done = subprocess.run(
            command, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        raise MelodynetError(f"{path}: {name} took longer than {TIMEOUT} s") from None
    except OSError as exc:
        raise MelodynetError(f"{path}: cannot run {name} ({exc.strerror})") from exc
    if done.returncode != 0:
        lines = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()]
        reason = lines[-1].strip() if lines else f"exit status {done.returncode}"
        raise MelodynetError(f"{path}: {name} failed: {reason}")


def write_engraving(song: Song, path: Path, tempo: float | None = None) -> None:
    """Write ``path`` (.pdf or .png) with LilyPond."""
    path = Path(path)
    kind = path.suffix.lower().lstrip(".")
    if kind not in ("pdf", "png"):
        raise MelodynetError(f"{path}: LilyPond writes .pdf or .png, not {path.suffix}")
    lilypond, converter = programs(path)
    with tempfile.TemporaryDirectory(prefix="melodynet-lilypond-") as tmp:
        work = Path(tmp)
        source = work / "song.musicxml"
        source.write_text(notation.musicxml(song, tempo), encoding="utf-8")
        _run([converter, "--output=song.ly", "song.musicxml"], path, work)
        ly = work / "song.ly"
        with ly.open("a", encoding="utf-8") as out:
            out.write(_settings(song, one_page=kind == "png"))
        command = [lilypond, "--loglevel=ERROR", "-dno-point-and-click"]
        if kind == "png":
            command += ["--png", f"-dresolution={RESOLUTION}"]
        else:
            command += ["--pdf"]
        _run([*command, "--output=engraved", "song.ly"], path, work)
        made = work / f"engraved.{kind}"
        if not made.is_file():
            pages = sorted(work.glob(f"engraved-page*.{kind}"))
            if not pages:
                raise MelodynetError(f"{path}: lilypond wrote no {kind.upper()}")
            made = pages[0]
        shutil.copyfile(made, path)
