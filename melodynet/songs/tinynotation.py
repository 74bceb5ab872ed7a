"""Reading and writing songs in music21's tinyNotation, with '#' metadata lines."""

from __future__ import annotations

import re
from pathlib import Path

from melodynet.errors import SongError
from melodynet.songs.meters import meter_problem
from melodynet.songs.song import Note, Song

_META_RE = re.compile(r"^#\s*([A-Za-z_][\w -]*?)\s*:\s*(.*?)\s*$")
_TOKEN_RE = re.compile(r"\S+")


def parse_notes(text: str, where: str = "notes") -> tuple[list[Note], str | None]:
    """Parse tinyNotation (no metadata lines) into notes and the time signature, if any.

    Errors name ``where`` with the line, column and token that failed.
    """
    lines = text.splitlines() or [""]
    return _parse_body([(n, line) for n, line in enumerate(lines, 1)], where)


def _parse_body(lines: list[tuple[int, str]], where: str) -> tuple[list[Note], str | None]:
    from music21 import tinyNotation

    from melodynet.songs.scores import notes_from_stream

    positions = [
        (number, match.start() + 1, match.group())
        for number, line in lines
        for match in _TOKEN_RE.finditer(line)
    ]
    if not positions:
        raise SongError(f"{where}: no notes found (expected tinyNotation such as 'g8 e8 e4')")
    for line, column, token in positions:
        meter = re.fullmatch(r"(\d+)/(\d+)", token)
        problem = meter and meter_problem(int(meter.group(1)), int(meter.group(2)))
        if problem:
            raise SongError(f"{where}:{line}:{column}: {problem}")

    class Converter(tinyNotation.Converter):
        def parseOne(self, i: int, t: str) -> None:  # noqa: N802 (music21's name)
            try:
                super().parseOne(i, t)
            except Exception as exc:
                line, column, token = positions[i]
                raise SongError(
                    f"{where}:{line}:{column}: cannot read token {token!r} "
                    "(expected tinyNotation such as g8, c'4., f#8, b-4, r4 or 3/4)"
                ) from exc

    converter = Converter(raiseExceptions=True)
    converter.load("\n".join(token for _, _, token in positions))
    try:
        part = converter.parse().stream
    except SongError:
        raise
    except Exception as exc:  # music21 fails late on some malformed groups
        raise SongError(f"{where}: cannot read tinyNotation ({exc})") from exc
    notes = notes_from_stream(part, where)
    if not notes:
        raise SongError(f"{where}: no notes found (expected tinyNotation such as 'g8 e8 e4')")
    # music21 gives every tinyNotation stream a time signature (4/4 by default): only one
    # the text wrote counts, so a '# time:' header is not overridden by the default
    written = any(re.fullmatch(r"\d+/\d+", token) for _, _, token in positions)
    signatures = part.flatten().getElementsByClass("TimeSignature")
    return notes, (signatures[0].ratioString if signatures and written else None)


def read_song(path: Path) -> Song:
    """Read a .txt song: '# key: value' metadata lines, then tinyNotation."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SongError(f"{path}: cannot read ({exc.strerror})") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SongError(
            f"{path}: not UTF-8 text (byte {exc.start}); expected tinyNotation"
        ) from exc
    if "\x00" in text:
        raise SongError(f"{path}: binary data, expected tinyNotation text")

    meta: dict[str, str] = {}
    body: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("#"):
            match = _META_RE.match(stripped)
            if match:
                meta[match.group(1).strip().lower()] = match.group(2)
            continue
        body.append((number, line))
    notes, time_signature = _parse_body(body, str(path))

    tempo = 120.0
    if "tempo" in meta:
        try:
            tempo = float(meta["tempo"].split()[0])
            assert 1 <= tempo <= 1000
        except (ValueError, IndexError, AssertionError):
            raise SongError(
                f"{path}: tempo {meta['tempo']!r} is not a number of beats per minute"
            ) from None
    known = {"title", "tempo", "source", "key", "time"}
    return Song(
        notes=notes,
        title=meta.get("title", ""),
        tempo=tempo,
        time_signature=time_signature or meta.get("time", "4/4"),
        key=meta.get("key", ""),
        source=meta.get("source", ""),
        path=str(path),
        extra={k: v for k, v in meta.items() if k not in known},
    )


def format_song(song: Song, width: int = 64) -> str:
    """tinyNotation text with metadata, readable back by read_song."""
    lines = [f"# title: {song.title or song.name}", f"# tempo: {song.tempo:g}"]
    lines += [
        f"# {key}: {value}" for key, value in (("key", song.key), ("source", song.source)) if value
    ]
    line = song.time_signature if song.time_signature != "4/4" else ""
    for note in song.notes:
        token = note.tiny
        if line and len(line) + 1 + len(token) > width:
            lines.append(line)
            line = token
        else:
            line = f"{line} {token}" if line else token
    lines.append(line)
    return "\n".join(lines) + "\n"
