"""Reading songs from paths and writing them by suffix, through the registered plugins."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from melodynet.atomic import atomic_file, check_target
from melodynet.errors import MelodynetError, SongError
from melodynet.hookspecs import ReadOptions, WriteOptions
from melodynet.plugins import registry
from melodynet.song import Song

MAX_FILE_BYTES = 2_000_000  # far beyond any melody; keeps parsing time bounded


def read_songs(
    paths: Iterable[str | Path], part: int | None = None, warn: Callable[[str], None] = print
) -> list[Song]:
    songs: list[Song] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise SongError(f"{path}: no such file")
        if path.is_dir():
            raise SongError(f"{path}: is a directory, expected a song file")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SongError(
                f"{path}: {size / 1e6:.1f} MB is too large for a song file "
                f"(limit {MAX_FILE_BYTES / 1e6:.0f} MB)"
            )
        reader = registry().reader(path.suffix)
        if reader is None:
            raise SongError(
                f"{path}: no reader for {path.suffix or 'files without a suffix'} "
                f"(readable: {', '.join(sorted(registry().readers))})"
            )
        songs.extend(reader.read(path, ReadOptions(part=part, warn=warn)))
    return songs


def check_writable(outputs: Iterable[str | Path]) -> None:
    """Fail before any work is done if an output has no writer, no directory, or a writer
    that says it cannot write there."""
    for raw in outputs:
        path = Path(raw)
        writer = registry().writer(path.suffix)
        if writer is None:
            raise MelodynetError(
                f"{path}: no writer for {path.suffix or 'files without a suffix'} "
                f"(writable: {', '.join(sorted(registry().writers))})"
            )
        check_target(path)
        if writer.check is not None:
            writer.check(path)


def write_song(song: Song, path: str | Path, options: WriteOptions | None = None) -> None:
    path = Path(path)
    check_writable([path])
    writer = registry().writer(path.suffix)
    assert writer is not None
    with atomic_file(path) as tmp:
        writer.write(song, tmp, options or WriteOptions())
