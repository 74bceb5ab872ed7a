"""Refuse absurd time signatures before music21 sees them: it spends minutes on '811/6'."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from melodynet.errors import SongError

_DENOMINATORS = {1, 2, 4, 8, 16, 32, 64}
_PATTERNS = {
    ".abc": re.compile(rb"(?:^|\[)\s*M:\s*(\d+)\s*/\s*(\d+)", re.MULTILINE),
    ".xml": re.compile(rb"<beats>\s*(\d+)\s*</beats>\s*<beat-type>\s*(\d+)\s*</beat-type>"),
}
_PATTERNS[".musicxml"] = _PATTERNS[".xml"]


def meter_problem(numerator: int, denominator: int) -> str:
    if 1 <= numerator <= 64 and denominator in _DENOMINATORS:
        return ""
    return (
        f"time signature {numerator}/{denominator} is not one melodynet reads "
        "(1 to 64 beats of a whole, half, quarter ... 64th note)"
    )


def check_meters(path: Path, data: bytes | None = None) -> None:
    """Raise SongError if a text, ABC or MusicXML file declares an absurd meter."""
    suffix = path.suffix.lower()
    if suffix == ".mxl":
        try:
            with zipfile.ZipFile(path) as archive:
                for name in archive.namelist():
                    if name.lower().endswith((".xml", ".musicxml")):
                        check_meters(Path(name), archive.read(name)[:20_000_000])
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise SongError(f"{path}: not a readable .mxl archive ({exc})") from exc
        return
    pattern = _PATTERNS.get(suffix)
    if pattern is None:
        return
    data = path.read_bytes() if data is None else data
    for match in pattern.finditer(data):
        problem = meter_problem(int(match.group(1)), int(match.group(2)))
        if problem:
            raise SongError(f"{path}: {problem}")
