"""Many songs at once: files, directories, globs and music21's bundled corpus.

``collect`` expands its inputs into song files, reads each through the registered
readers (or the parsed-song cache), and keeps every tune it can. A tune or file it cannot
use is skipped with a reason, never dropped silently; ``strict`` makes the first skip an
error. Inputs:

- a file: read by the reader its suffix names (a suffix without one is an error);
- a directory: every file below it (recursively, hidden ones left out) whose suffix has
  a reader; other files are counted as ignored;
- a glob such as ``songs/**/*.abc`` (``glob.glob(recursive=True)``);
- ``corpus:NAME``: music21's bundled corpus, by collection (``corpus:essenFolksong``),
  file (``corpus:essenFolksong/kinder0``, suffix optional) or work name music21 can find
  (``corpus:bwv66.6``). Its files are read by the registered readers like any others;
  RomanText analyses (``.rntxt``) are not melodies and are ignored.

A reader that can read a file tune by tune (``ReaderSpec.read_tunes``: the built-in MIDI,
MusicXML, ABC and Humdrum readers can, and so can any plugin's) is used that way, so one
bad tune of a file that holds many (an ABC book, a MusicXML opus) costs only itself; a
tune is named ``FILE tune N`` (``song.extra['tune']``). Other readers keep or lose a
file whole.
"""

from __future__ import annotations

import functools
import glob
import os
import re
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from melodynet.errors import MelodynetError, SongError, one_line
from melodynet.songs.cache import WHERE, Entry, SongCache
from melodynet.songs.song import Song

if TYPE_CHECKING:
    from melodynet.hookspecs import ReaderSpec, ReadOptions

CORPUS_PREFIX = "corpus:"
CORPUS_SUFFIXES = (".abc", ".krn", ".mxl", ".xml", ".musicxml", ".mid", ".midi", ".rntxt")
"""Files of music21's corpus directory that are music (what ``corpus.getPaths`` lists)."""
_GLOB_CHARS = re.compile(r"[*?[]")
# Skip reasons, in the order the summary lists them.
KINDS = ("too short", "unreadable", "polyphonic", "no notes", "out of limits", "no such part")


@dataclass
class Skip:
    """A tune or file left out, and why (``message`` names it, as a one-line error would)."""

    where: str
    kind: str
    message: str


@dataclass
class Collection:
    songs: list[Song]
    skips: list[Skip] = field(default_factory=list)
    files: int = 0
    """Song files read (from the cache or parsed)."""
    cached: int = 0
    """Of those, files whose songs came from the cache."""
    ignored: Counter = field(default_factory=Counter)
    """Files found in directories or the corpus that are not songs, by suffix."""
    remarks: Counter = field(default_factory=Counter)
    """What readers did to tunes they kept (chords reduced, a part chosen), with counts."""
    window: int = 4

    def counts(self) -> Counter:
        return Counter(s.kind for s in self.skips)

    def to_json(self, limit: int = 100) -> dict:
        """What was read, for a bundle's metadata: counts, and the first ``limit`` skips."""
        return {
            "files": self.files,
            "from_cache": self.cached,
            "songs": len(self.songs),
            "skipped": dict(self.counts()),
            "skips": [
                {"where": s.where, "kind": s.kind, "message": s.message} for s in self.skips[:limit]
            ],
            "ignored": dict(self.ignored),
        }

    def summary(self) -> str:
        """'read 213 tunes from 1 file; skipped 3: 2 too short (< 5 notes), 1 unreadable'."""
        tunes = len(self.songs)
        text = (
            f"read {tunes} tune{'s' * (tunes != 1)} from {self.files} file{'s' * (self.files != 1)}"
        )
        if self.cached:
            text += f" ({self.cached} from the cache)"
        if self.skips:
            counts = self.counts()
            parts = []
            for kind in sorted(counts, key=lambda k: KINDS.index(k) if k in KINDS else 99):
                part = f"{counts[kind]} {kind}"
                if kind == "too short":
                    part += f" (< {self.window + 1} notes)"
                elif counts[kind] == 1:
                    part += f" ({next(s.message for s in self.skips if s.kind == kind)})"
                parts.append(part)
            text += f"; skipped {len(self.skips)}: {', '.join(parts)}"
        return text

    def details(self, limit: int = 5) -> list[str]:
        """Up to ``limit`` skipped tunes of each kind (beyond those the summary names), what
        readers did to the tunes they kept, and files that are not songs."""
        lines = []
        counts = self.counts()
        for kind in sorted(counts, key=lambda k: KINDS.index(k) if k in KINDS else 99):
            if counts[kind] == 1 and kind != "too short":
                continue  # the summary quotes it
            these = [s for s in self.skips if s.kind == kind]
            lines += [f"  skipped ({kind}): {s.message}" for s in these[:limit]]
            if len(these) > limit:
                lines.append(f"  ... and {len(these) - limit} more {kind}")
        for remark, count in self.remarks.most_common(limit):
            lines.append(f"  {remark} ({count} tune{'s' * (count != 1)})")
        if len(self.remarks) > limit:
            lines.append(f"  ... and {len(self.remarks) - limit} other remarks")
        if self.ignored:
            listed = ", ".join(
                f"{n} {suffix or 'without suffix'}" for suffix, n in sorted(self.ignored.items())
            )
            lines.append(f"  ignored files that are not songs: {listed}")
        return lines


@dataclass(frozen=True)
class Source:
    """One song file to read: where it is, and how messages name it."""

    path: Path
    label: str
    reader: str
    """Identifies the reader in cache keys."""


# ---------------------------------------------------------------- expanding the inputs


def _readable() -> str:
    from melodynet.plugins import registry

    return ", ".join(sorted(registry().readers))


def _source(path: Path, label: str) -> Source | None:
    """How to read ``path``, or None if no reader takes its suffix."""
    from melodynet.plugins import registry

    reg = registry()
    provided = reg.readers.get(path.suffix.lower())
    if provided is None:
        return None
    spec = provided.spec
    info = next((p for p in reg.plugins if p.name == provided.plugin), None)
    reader = f"{spec.name}:{provided.plugin}:{info.version if info else ''}"
    return Source(path, label, reader)


def _walk(directory: Path, ignored: Counter) -> list[Source]:
    found = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = Path(root) / name
            source = _source(path, str(path))
            if source is None:
                ignored[path.suffix.lower()] += 1
            else:
                found.append(source)
    return found


def corpus_root() -> Path:
    """music21's bundled corpus directory, found without importing music21 (slow)."""
    import importlib.util

    spec = importlib.util.find_spec("music21")
    if spec is None or not spec.submodule_search_locations:
        raise MelodynetError("corpus: music21 is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "corpus"


@functools.cache
def _corpus_files() -> tuple[tuple[Path, str], ...]:
    """Every music file of the bundled corpus and its path inside it, in sorted order."""
    root = corpus_root()
    found = []
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(("_", ".")))
        for name in sorted(files):
            if name.lower().endswith(CORPUS_SUFFIXES):
                path = Path(directory) / name
                found.append((path, path.relative_to(root).as_posix()))
    return tuple(found)


def corpus_collections() -> list[str]:
    """The top-level collections of music21's corpus: 'airdsAirs', 'bach', 'essenFolksong'..."""
    names = {rel.split("/", 1)[0] for _, rel in _corpus_files() if "/" in rel}
    return sorted(names, key=str.lower)


def _search_music21(wanted: str) -> list[tuple[Path, str]]:
    """What music21's own search finds by work name (and in a user's local corpus)."""
    from music21 import corpus

    root = corpus_root().resolve()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            work = corpus.getWork(wanted)
    except Exception:  # music21 raises CorpusException and others for unknown names
        return []
    works = work if isinstance(work, list) else [work] if work else []
    found = []
    for raw in works:
        path = Path(raw).resolve()
        try:
            rel = path.relative_to(root).as_posix()
        except ValueError:
            rel = path.as_posix()
        found.append((path, CORPUS_PREFIX + rel))
    return found


def resolve_corpus(name: str) -> list[tuple[Path, str]]:
    """``corpus:NAME`` -> (file, 'corpus:collection/file.abc') for every file it names."""
    wanted = name.strip().strip("/")
    files = _corpus_files()
    if wanted:
        exact = [(p, r) for p, r in files if wanted in (r, r.rsplit(".", 1)[0])]
        if exact:
            return [(p, CORPUS_PREFIX + r) for p, r in exact[:1]]
        below = [(p, CORPUS_PREFIX + r) for p, r in files if r.startswith(wanted + "/")]
        if below:
            return below
        found = _search_music21(wanted)
        if found:
            return found
    raise MelodynetError(
        f"{CORPUS_PREFIX}{name}: not in music21's corpus (collections: "
        f"{', '.join(corpus_collections())}; for example corpus:essenFolksong or "
        "corpus:essenFolksong/kinder0)"
    )


def expand(inputs: Sequence[str], ignored: Counter | None = None) -> list[Source]:
    """The song files the inputs name, in order, each once."""
    ignored = Counter() if ignored is None else ignored
    sources: list[Source] = []
    seen: set[Path] = set()

    def add(found: list[Source]) -> None:
        for source in found:
            key = source.path.resolve()
            if key not in seen:
                seen.add(key)
                sources.append(source)

    for raw in inputs:
        raw = str(raw)
        if raw.startswith(CORPUS_PREFIX):
            found = []
            for path, label in resolve_corpus(raw[len(CORPUS_PREFIX) :]):
                source = _source(path, label)
                if source is None:
                    ignored[path.suffix.lower()] += 1
                else:
                    found.append(source)
            if not found:
                raise MelodynetError(f"{raw}: no melodies in it (only {_ignored_text(ignored)})")
            add(found)
            continue
        path = Path(raw)
        if path.is_dir():
            found = _walk(path, ignored)
            if not found:
                raise SongError(f"{raw}: no song files found (readable: {_readable()})")
            add(found)
        elif path.exists():
            source = _source(path, raw)
            if source is None:
                raise SongError(
                    f"{raw}: no reader for {path.suffix or 'files without a suffix'} "
                    f"(readable: {_readable()})"
                )
            add([source])
        elif _GLOB_CHARS.search(raw):
            found = []
            matches = sorted(glob.glob(raw, recursive=True))
            for match in matches:
                match_path = Path(match)
                if match_path.is_dir():
                    found += _walk(match_path, ignored)
                    continue
                source = _source(match_path, match)
                if source is None:
                    ignored[match_path.suffix.lower()] += 1
                else:
                    found.append(source)
            if not found:
                what = "no files match" if not matches else "no song files match"
                raise SongError(f"{raw}: {what} (readable: {_readable()})")
            add(found)
        else:
            raise SongError(f"{raw}: no such file")
    return sources


def _ignored_text(ignored: Counter) -> str:
    return ", ".join(f"{n} {suffix}" for suffix, n in sorted(ignored.items())) or "nothing"


# ---------------------------------------------------------------- reading one file


def classify(message: str, remarks: Sequence[str] = ()) -> str:
    """The skip kind of a reader's error message."""
    text = message.lower()
    if "no notes found" in text or "only drums" in text:
        return "no notes"
    if "part" in text and "asked for" in text:
        return "no such part"
    if (
        ("lasts" in text and "quarter notes" in text)
        or "midi range" in text
        or "melodynet reads songs of up to" in text
        or "is not one melodynet reads" in text
    ):
        return "out of limits"
    if any("chords or voices" in r for r in remarks):
        return "polyphonic"
    return "unreadable"


def _reader_failed(path: Path, spec: ReaderSpec, exc: BaseException) -> str:
    """A reader plugin's bug, as a skip message that names the reader."""
    return f"{path}: reader {spec.name!r} failed ({type(exc).__name__}: {one_line(exc)})"


def _read_whole(spec: ReaderSpec, path: Path, options: ReadOptions, said: list[str]) -> Entry:
    """Read with ``spec.read``: the file's songs, or one problem for the whole file."""
    entry = Entry(warnings=said)
    try:
        entry.songs = list(spec.read(path, options))
    except SongError as exc:
        entry.problems.append((classify(exc.message, said), exc.message))
    except Exception as exc:  # a reader plugin's bug: skip the file, say which reader
        entry.problems.append(("unreadable", _reader_failed(path, spec, exc)))
    if len(entry.songs) > 1:
        for number, song in enumerate(entry.songs, 1):
            song.extra["tune"] = str(number)
    return entry


def _read_tune_by_tune(
    spec: ReaderSpec, path: Path, options: ReadOptions, said: list[str]
) -> Entry:
    """Read with ``spec.read_tunes``: each tune is kept or skipped on its own.

    A tune's remarks are those ``options.warn`` heard while it was produced; a failure
    after some tunes keeps them and skips the rest of the file with its reason.
    """
    entry = Entry(warnings=said)
    items = heard = 0
    numbered: list[tuple[int, Song]] = []
    try:
        tunes = iter(spec.read_tunes(path, options))
        while True:
            heard = len(said)
            try:
                tune = next(tunes)
            except StopIteration:
                break
            items += 1
            if isinstance(tune, Song):
                numbered.append((items, tune))
            elif isinstance(tune, SongError):
                entry.problems.append((classify(tune.message, said[heard:]), tune.message))
            else:
                what = f"a {type(tune).__name__}, not a Song or SongError"
                entry.problems.append(
                    ("unreadable", f"{path} tune {items}: reader {spec.name!r} gave {what}")
                )
    except SongError as exc:
        entry.problems.append((classify(exc.message, said[heard:]), exc.message))
    except Exception as exc:  # a reader plugin's bug: skip the rest, say which reader
        entry.problems.append(("unreadable", _reader_failed(path, spec, exc)))
    for number, song in numbered:
        if items > 1:
            song.extra["tune"] = str(number)
        entry.songs.append(song)
    return entry


def read_file(path: Path, part: int | None) -> Entry:
    """Read one song file with the reader its suffix names, tune by tune where the reader
    can; messages name the file as ``cache.WHERE``."""
    from melodynet.hookspecs import ReadOptions
    from melodynet.plugins import registry

    spec = registry().reader(path.suffix)
    if spec is None:
        return Entry(problems=[("unreadable", f"{WHERE}: no reader for {path.suffix}")])
    said: list[str] = []
    options = ReadOptions(part=part, warn=said.append)
    if spec.read_tunes is not None:
        entry = _read_tune_by_tune(spec, path, options, said)
    else:
        entry = _read_whole(spec, path, options, said)
    for song in entry.songs:
        song.path = ""
    name = str(path)
    entry.problems = [(kind, m.replace(name, WHERE)) for kind, m in entry.problems]
    entry.warnings = [w.replace(name, WHERE) for w in entry.warnings]
    return entry


def _read_job(job: tuple[str, int | None]) -> Entry:
    path, part = job
    return read_file(Path(path), part)


# ---------------------------------------------------------------- collecting


_REMARK_PREFIX = re.compile(re.escape(WHERE) + r"(?: tune \d+)?: ")
_TUNE = re.compile(r" tune (\d+)$")


def _tune_number(found: Skip) -> int:
    match = _TUNE.search(found.where)
    return int(match.group(1)) if match else 0


def collect(
    inputs: Sequence[str],
    part: int | None = None,
    strict: bool = False,
    window: int = 4,
    say: Callable[[str], None] = print,
    *,
    cache: SongCache | None = None,
    jobs: int = 1,
    progress: Callable[[int, int, str], None] | None = None,
    detail: int = 5,
) -> Collection:
    """Every usable song the inputs name, and every skip with its reason.

    ``say`` hears one summary line and up to ``detail`` examples of each kind of skip.
    Songs shorter than ``window + 1`` notes are skipped. ``strict`` raises the first
    skip as an error instead. ``cache`` defaults to the user's cache (``SongCache.default``);
    ``jobs`` > 1 parses uncached files in that many processes; ``progress(done, total,
    label)`` is called after each file. No songs at all is an error.
    """
    from melodynet.songs.files import MAX_FILE_BYTES

    if not inputs:
        raise MelodynetError("no songs given")
    cache = SongCache.default() if cache is None else cache
    result = Collection([], window=window)
    sources = expand(inputs, result.ignored)

    def skip(found: Skip) -> None:
        if strict:
            raise SongError(f"{found.message} (strict)")
        result.skips.append(found)

    # What each file needs: its entry from the cache, or a parse (keyed for storing).
    pending: list[tuple[int, Source, str]] = []
    entries: dict[int, Entry] = {}
    for index, source in enumerate(sources):
        try:
            size = source.path.stat().st_size
            if size > MAX_FILE_BYTES:
                message = (
                    f"{source.label}: {size / 1e6:.1f} MB is too large for a song file "
                    f"(limit {MAX_FILE_BYTES / 1e6:.0f} MB)"
                )
                entries[index] = Entry(
                    problems=[("unreadable", message.replace(source.label, WHERE, 1))]
                )
                continue
            data = source.path.read_bytes()
        except OSError as exc:
            message = f"{WHERE}: cannot read ({exc.strerror or type(exc).__name__})"
            entries[index] = Entry(problems=[("unreadable", message)])
            continue
        key = cache.key(data, source.reader, part)
        found = cache.load(key)
        if found is not None:
            entries[index] = found
            result.cached += 1
        else:
            pending.append((index, source, key))

    done = 0

    def finish(index: int) -> None:
        nonlocal done
        source, entry = sources[index], entries[index]
        result.files += 1
        found: list[Skip] = []
        for kind, message in entry.problems:
            text = message.replace(WHERE, source.label)
            found.append(Skip(text.split(": ", 1)[0], kind, text))
        for remark in entry.warnings:
            result.remarks[_REMARK_PREFIX.sub("", remark).replace(WHERE, source.label)] += 1
        for song in entry.songs:
            song.path = str(source.path)
            where = source.label + (f" tune {song.extra['tune']}" if "tune" in song.extra else "")
            if len(song) < window + 1:
                message = (
                    f"{where}: {len(song)} notes is too short; a window of {window} needs at "
                    f"least {window + 1}"
                )
                found.append(Skip(where, "too short", message))
                continue
            result.songs.append(song)
        for found_skip in sorted(found, key=_tune_number):
            skip(found_skip)
        done += 1
        if progress is not None:
            progress(done, len(sources), source.label)

    keys = {index: key for index, _, key in pending}
    warned = False

    def store(index: int, entry: Entry) -> None:
        nonlocal warned
        entries[index] = entry
        if not cache.store(keys[index], entry) and cache.enabled and not warned:
            say(f"cache: cannot write {cache.write_error}; reading without it")
            warned = True

    next_index = 0

    def finish_ready() -> None:
        nonlocal next_index
        while next_index < len(sources) and next_index in entries:
            finish(next_index)
            next_index += 1

    finish_ready()
    jobs_list = [(str(s.path), part) for _, s, _ in pending]
    if jobs > 1 and len(pending) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context("spawn")  # no fork: TensorFlow may be loaded
        with ProcessPoolExecutor(min(jobs, len(pending)), mp_context=context) as pool:
            try:
                for (index, _, _), entry in zip(
                    pending, pool.map(_read_job, jobs_list), strict=True
                ):
                    store(index, entry)
                    finish_ready()
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
    else:
        for (index, _, _), job in zip(pending, jobs_list, strict=True):
            store(index, _read_job(job))
            finish_ready()
    finish_ready()

    if not result.songs:
        if len(result.skips) == 1:
            raise SongError(result.skips[0].message)
        first = result.skips[0].message if result.skips else "no songs"
        raise SongError(f"no songs to use: {result.summary()}; the first: {first}")
    say(result.summary())
    for line in result.details(detail):
        say(line)
    return result
