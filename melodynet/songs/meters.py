"""Refuse absurd time signatures before music21 sees them: it spends minutes on '811/6'."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from melodynet.errors import SongError

_DENOMINATORS = {1, 2, 4, 8, 16, 32, 64}
_ABC_FIELD = re.compile(rb"(?:^|\[)[ \t]*M:([^\]\r\n]*)", re.MULTILINE)
_XML = re.compile(rb"<beats>\s*(\d+)\s*</beats>\s*<beat-type>\s*(\d+)\s*</beat-type>")
_NON_DIGITS = re.compile(rb"\D")


def _abc_meters(data: bytes):
    """(numerator, denominator) of every ABC meter field, read as music21 reads it: the
    digits on each side of the slash run together ('M:4E2 F|2/4' is 422/4)."""
    for match in _ABC_FIELD.finditer(data):
        sides = match.group(1).strip().split(b"/")
        if len(sides) == 2:
            digits = [_NON_DIGITS.sub(b"", side) for side in sides]
            if all(digits):
                yield int(digits[0]), int(digits[1])


def _xml_meters(data: bytes):
    for match in _XML.finditer(data):
        yield int(match.group(1)), int(match.group(2))


_READERS = {".abc": _abc_meters, ".xml": _xml_meters, ".musicxml": _xml_meters}


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
        from melodynet.songs.archive import check_archive

        check_archive(path)  # a zip bomb is refused before anything expands it whole
        try:
            with zipfile.ZipFile(path) as archive:
                for name in archive.namelist():
                    if name.lower().endswith((".xml", ".musicxml")):
                        check_meters(Path(name), archive.read(name)[:20_000_000])
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise SongError(f"{path}: not a readable .mxl archive ({exc})") from exc
        return
    meters = _READERS.get(suffix)
    if meters is None:
        return
    data = path.read_bytes() if data is None else data
    for numerator, denominator in meters(data):
        problem = meter_problem(numerator, denominator)
        if problem:
            raise SongError(f"{path}: {problem}")
