"""Compressed songs read with a limit on what they expand to (zip bombs refused early).

A compressed MusicXML file (``.mxl``) is a zip archive. One of 1 MB can expand to 1 GB,
and reading it whole (music21 does, and so does a member read before slicing) takes
memory many times that. ``check_archive`` refuses such a file with one line before anything
decompresses it whole: first by the sizes the archive declares (free to read), then by
streaming each member through the decompressor in small chunks, counting what really comes
out, since declared sizes can lie.

``songs.meters.check_meters`` calls it for every ``.mxl`` before music21 (or anything
else) opens the archive, so every reader path, the command line and the studio alike, is
protected.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from melodynet.errors import SongError

ARCHIVE_SUFFIXES = (".mxl",)
"""Song files that are zip archives."""

MAX_EXPANDED_BYTES = 20_000_000
"""What an archive may expand to in all: ten times the plain-file limit (2 MB), far beyond
any melody's MusicXML."""

MAX_MEMBERS = 1_000
"""Entries an archive may hold (a MusicXML archive has two or three)."""

_CHUNK = 64 * 1024


def _declared(members: list[zipfile.ZipInfo]) -> int:
    """What the archive's directory says its files expand to."""
    return sum(m.file_size for m in members)


def is_archive(path: str | Path) -> bool:
    return Path(path).suffix.lower() in ARCHIVE_SUFFIXES


def check_archive(
    path: str | Path,
    *,
    label: str | None = None,
    limit: int = MAX_EXPANDED_BYTES,
    max_members: int = MAX_MEMBERS,
) -> None:
    """Raise SongError (one line, naming ``label`` or the path) unless the zip archive at
    ``path`` is readable and expands to at most ``limit`` bytes in all. Memory stays at a
    chunk's worth whatever the archive holds; time stops at the limit."""
    where = label or str(path)
    mb = f"{limit / 1e6:.0f} MB"
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if len(members) > max_members:
                raise SongError(
                    f"{where}: the archive holds {len(members)} files (limit {max_members})"
                )
            declared = _declared(members)
            if declared > limit:
                raise SongError(
                    f"{where}: the archive expands to {declared / 1e6:.0f} MB "
                    f"(limit {mb} for a compressed song)"
                )
            expanded = 0
            for member in members:
                if member.is_dir():
                    continue
                with archive.open(member) as stream:
                    while chunk := stream.read(_CHUNK):
                        expanded += len(chunk)
                        if expanded > limit:
                            raise SongError(
                                f"{where}: the archive expands to more than {mb} "
                                "(the limit for a compressed song)"
                            )
    except SongError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError) as exc:
        raise SongError(
            f"{where}: not a readable compressed MusicXML (.mxl) archive ({exc})"
        ) from None
    except (OSError, ValueError, RuntimeError) as exc:  # encrypted, truncated, bad CRC...
        raise SongError(
            f"{where}: not a readable compressed MusicXML (.mxl) archive "
            f"({' '.join(str(exc).split())[:120] or type(exc).__name__})"
        ) from None
