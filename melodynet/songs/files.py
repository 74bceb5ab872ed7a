"""Reading songs from paths and writing them by suffix, through the registered plugins."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path

from melodynet.atomic import atomic_file, check_target
from melodynet.errors import OptionError, OutputError, SongError, warn
from melodynet.hookspecs import ReadOptions, WriteOptions
from melodynet.plugins import registry
from melodynet.songs.song import Song

MAX_FILE_BYTES = 2_000_000  # far beyond any melody; keeps parsing time bounded


def read_songs(
    paths: Iterable[str | Path], part: int | None = None, warn: Callable[[str], None] = warn
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


def check_write_options(options: WriteOptions) -> None:
    tempo, instrument = options.tempo, options.instrument
    if tempo is not None and not (isinstance(tempo, int | float) and tempo > 0):
        raise OptionError(
            f"tempo must be a positive number of beats per minute, not {tempo}", option="tempo"
        )
    if not isinstance(instrument, int) or not 0 <= instrument <= 127:
        raise OptionError(
            f"instrument must be a General MIDI program from 0 to 127, not {instrument}",
            option="instrument",
        )


def check_writable(outputs: Iterable[str | Path]) -> None:
    """Fail before any work is done if an output has no writer, no directory, or a writer
    that says it cannot write there."""
    for raw in outputs:
        path = Path(raw)
        writer = registry().writer(path.suffix)
        if writer is None:
            raise OutputError(
                f"{path}: no writer for {path.suffix or 'files without a suffix'} "
                f"(writable: {', '.join(sorted(registry().writers))})"
            )
        check_target(path)
        if writer.check is not None:
            writer.check(path)


def write_song(
    song: Song, path: str | Path, options: WriteOptions | None = None, **write_options
) -> Path:
    """Write ``song`` with the writer ``path``'s suffix names, whole or not at all.
    ``write_options`` are WriteOptions fields (``tempo``, ``instrument``)."""
    path = Path(path)
    if options is None:
        try:
            options = WriteOptions(**write_options)
        except TypeError:
            known = ", ".join(WriteOptions.__dataclass_fields__)
            raise OptionError(
                f"write options are {known}; got {', '.join(sorted(write_options))}",
                option="write_options",
            ) from None
    check_write_options(options)
    check_writable([path])
    writer = registry().writer(path.suffix)
    assert writer is not None
    with atomic_file(path) as tmp:
        writer.write(song, tmp, options)
    return path


def read(
    source: str | Path | Iterable[str | Path],
    *,
    part: int | None = None,
    strict: bool = False,
    jobs: int = 1,
    min_notes: int = 1,
) -> list[Song]:
    """Every song in ``source``: a file, a directory, a glob, a ``corpus:`` reference, or a
    list of those. Tunes that cannot be used are skipped and reported as
    ``MelodynetWarning``s (``strict=True`` raises ``SongError`` instead), as are shorter
    ones than ``min_notes``; parsed files are cached by content. ``part`` picks a part of
    multi-part scores (1 = top; default the top line); ``jobs`` parses in that many
    processes."""
    from melodynet.songs.corpus import collect

    sources = [source] if isinstance(source, str | Path) else list(source)
    if not isinstance(min_notes, int) or min_notes < 1:
        raise OptionError(f"min_notes must be at least 1, not {min_notes}", option="min_notes")
    if not isinstance(jobs, int) or jobs < 1:
        raise OptionError(f"jobs must be at least 1, not {jobs}", option="jobs")
    lines: list[str] = []
    found = collect(
        [str(s) for s in sources],
        part=part,
        strict=strict,
        window=min_notes - 1,
        say=lines.append,
        jobs=jobs,
    )
    if found.skips or found.remarks or found.ignored:
        for line in lines:
            warn(line)
    else:  # nothing to warn about: the summary is for those who ask (logging, the CLI)
        for line in lines:
            logging.getLogger("melodynet").info(line)
    return found.songs
