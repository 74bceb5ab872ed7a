"""Testing helpers for melodynet plugins, and the pytest plugin that provides them.

Installing melodynet registers this module with pytest (the ``pytest11`` entry point), so
in any project where melodynet is installed a test can use, with no import or conftest:

- the ``melodynet_cli`` fixture: ``melodynet_cli("train", "song.txt", "--model", "gru")``
  runs the command line in this process, in the test's temporary directory, and returns
  a ``CliResult`` (``exit_code``, ``stdout``, ``stderr``, ``output``);
- the ``notes_snapshot`` fixture: ``notes_snapshot(melody)`` compares the notes with
  ``snapshots/<test module>/<test name>.txt`` next to the test file, writing it on the
  first run and when pytest runs with ``--melodynet-update``;

and import the assertions::

    from melodynet.testing import assert_learns, assert_one_line_error

pytest imports this module in every test session of every such project, so it imports
nothing heavy itself: TensorFlow, music21 and click load inside the helpers that need them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from melodynet.model import Model
    from melodynet.songs.song import Note, Song

__all__ = [
    "CliResult",
    "MelodynetCli",
    "NotesSnapshot",
    "assert_learns",
    "assert_notes_match_snapshot",
    "assert_one_line_error",
    "melodynet_cli",
    "notes_snapshot",
]

UPDATE_OPTION = "--melodynet-update"
SNAPSHOT_DIR = "snapshots"
_DIFF_LINES = 10  # differing notes listed in a snapshot failure; the rest are counted


# The pytest plugin


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("melodynet", "melodynet testing helpers")
    group.addoption(
        UPDATE_OPTION,
        action="store_true",
        default=False,
        dest="melodynet_update",
        help="rewrite melodynet notes snapshots (snapshots/ next to each test file) "
        "with the notes the tests produce now",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: trains a model (deselect with -m 'not slow'; melodynet.testing)"
    )
    config.stash[_WRITTEN] = []


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    written = config.stash.get(_WRITTEN, [])
    if not written:
        return
    terminalreporter.write_sep("-", "melodynet notes snapshots")
    for what, path in written:
        terminalreporter.write_line(f"{what} snapshot {_shown(path, config.rootpath)}")


_WRITTEN = pytest.StashKey[list]()


# Running the command line


@dataclass
class CliResult:
    """What one ``melodynet ARGS`` run printed and how it ended."""

    args: list[str]
    exit_code: int
    stdout: str
    stderr: str
    output: str
    """stdout and stderr together, as a terminal shows them."""
    exception: BaseException | None = None
    """What the command raised (SystemExit for an ordinary exit), else None."""
    exc_info: Any = field(default=None, repr=False)

    @property
    def command(self) -> str:
        return " ".join(["melodynet", *self.args])

    def traceback(self) -> str:
        """The traceback of an exception the command raised (not an exit), else ''."""
        if self.exception is None or isinstance(self.exception, SystemExit):
            return ""
        import traceback

        return "".join(traceback.format_exception(*self.exc_info))


class MelodynetCli:
    """The ``melodynet_cli`` fixture: call it with ``melodynet``'s arguments."""

    def __init__(self, path: Path, models: Path) -> None:
        self.path = path
        """The working directory of the test (its ``tmp_path``)."""
        self.models = models
        """``$MELODYNET_MODELS``: where bundles and the latest-bundle pointer go."""

    def __call__(
        self,
        *args: object,
        input: str | None = None,
        env: dict[str, str | None] | None = None,
        check: bool = True,
    ) -> CliResult:
        """Run ``melodynet ARGS`` (each argument passed through ``str``) in this process.

        ``check``: fail the test, showing the output, unless the command exits with 0;
        pass ``check=False`` to look at a failure (``assert_one_line_error``).
        """
        __tracebackhide__ = True
        cli, runner, mixed = _cli(), *_runner()
        words = [str(arg) for arg in args]
        raw = runner.invoke(cli, words, input=input, env=env, prog_name="melodynet")
        stderr = raw.stderr
        result = CliResult(
            args=words,
            exit_code=raw.exit_code,
            stdout=raw.stdout,
            stderr=stderr,
            output=raw.output if mixed else raw.stdout + stderr,
            exception=raw.exception,
            exc_info=raw.exc_info,
        )
        if check and result.exit_code != 0:
            raise AssertionError(
                f"`{result.command}` exited with {result.exit_code}:\n{result.output}"
                + result.traceback()
            )
        return result


def _cli():
    """melodynet's click group with every plugin's commands on it."""
    from melodynet.cli import cli
    from melodynet.plugins import registry

    registry(cli)  # adds the plugins' commands, even when the API loaded them first
    return cli


def _runner():
    """A CliRunner keeping stderr apart, and whether its ``output`` holds both streams."""
    from click.testing import CliRunner

    try:
        return CliRunner(mix_stderr=False), False  # click 8.1
    except TypeError:
        return CliRunner(), True  # click >= 8.2 keeps the streams apart by itself


@pytest.fixture
def melodynet_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MelodynetCli:
    """Run ``melodynet ARGS`` in-process, in ``tmp_path`` (the test's working directory
    while it runs) with ``MELODYNET_MODELS`` at ``tmp_path/models``; installed plugins are
    loaded as the real command line loads them."""
    models = tmp_path / "models"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MELODYNET_MODELS", str(models))
    return MelodynetCli(tmp_path, models)


def assert_one_line_error(result: Any, *fragments: str) -> str:
    """Assert that a command failed the way melodynet fails for users: a non-zero exit, one
    line starting with ``Error:`` that holds every one of ``fragments``, and no traceback.
    Returns that line.

    ``result``: a ``melodynet_cli`` result, a click ``Result``, or a
    ``subprocess.CompletedProcess`` run with ``text=True``."""
    __tracebackhide__ = True
    code = getattr(result, "exit_code", None)
    if code is None:
        code = result.returncode
    output = getattr(result, "output", None)
    if output is None:
        output = (result.stdout or "") + (result.stderr or "")
    exception = getattr(result, "exception", None)
    if exception is not None and not isinstance(exception, SystemExit):
        import traceback

        trace = "".join(traceback.format_exception(exception))
        raise AssertionError(
            f"expected a one-line error, but the command raised "
            f"{type(exception).__name__}: {exception}\n{trace}"
        )
    if code == 0:
        raise AssertionError(f"expected a one-line error, but the command succeeded:\n{output}")
    if "Traceback (most recent call last)" in output:
        raise AssertionError(f"expected a one-line error, got a traceback:\n{output}")
    lines = [line for line in output.splitlines() if line.startswith("Error:")]
    if len(lines) != 1:
        raise AssertionError(
            f"expected exactly one line starting with 'Error:', got {len(lines)}:\n{output}"
        )
    missing = [fragment for fragment in fragments if fragment not in lines[0]]
    if missing:
        raise AssertionError(f"the error does not say {', '.join(map(repr, missing))}:\n{lines[0]}")
    return lines[0]


# Does a model learn a song?


def assert_learns(
    song: Song | str | Path | list,
    *,
    model: str,
    encoding: str = "single",
    one_step_at_least: float | str | None = None,
    full_song: int | bool | None = None,
    **train_options: Any,
) -> Model:
    """Train ``model`` on ``song`` through ``melodynet.train`` and assert what it learned.

    ``song``: a ``Song``, tinyNotation text (anything with a space in it), a path or any
    other source ``melodynet.read`` takes, or a list of those.
    ``one_step_at_least``: the least one-step accuracy (the next note predicted from the
    true notes before it, from note ``window`` on): a fraction such as ``0.9``, or
    ``"46/50"``, or ``"92%"``.
    ``full_song``: how many notes the melody generated from the song's first ``window``
    notes must share with the song, position by position (at least that many); ``True``:
    every one. ``train_options``: ``melodynet.train``'s (``epochs``, ``window``,
    ``units``, ``out``...). Every training song is checked. Returns the trained Model.
    """
    __tracebackhide__ = True
    import melodynet

    at_least = _accuracy(one_step_at_least)
    if full_song is None or full_song is False:
        full_song = None
    elif not isinstance(full_song, int) or full_song < 0:
        raise TypeError(f"full_song is a count of notes or True, not {full_song!r}")
    if at_least is None and full_song is None:
        raise TypeError("assert_learns needs one_step_at_least, full_song or both")
    songs = song if isinstance(song, list | tuple) else [song]
    trained = melodynet.train(
        [_source(s) for s in songs], model=model, encoding=encoding, **train_options
    )
    reached, failed = [], False
    for score in trained.evaluate()["songs"]:
        lines = []
        if at_least is not None:
            correct, total = score["one_step_correct"], score["one_step_total"]
            ok = total > 0 and Fraction(correct, total) >= at_least[0]
            failed |= not ok
            lines.append(
                f"one-step: {correct}/{total} notes right ({_percent(correct, total)})"
                + ("" if ok else f", expected at least {at_least[1]}")
            )
        if full_song is not None:
            matches, length = score["full_song_matches"], score["full_song_length"]
            wanted = length if full_song is True else full_song
            ok = matches >= wanted
            failed |= not ok
            expected = f"all {length}" if full_song is True else f"at least {wanted}"
            lines.append(
                f"full song from the first {trained.meta.window} notes: {matches}/{length} "
                "notes match" + ("" if ok else f", expected {expected}")
            )
        reached.append(f"{score['song']}:\n" + "\n".join(f"    {line}" for line in lines))
    if failed:
        meta = trained.meta
        epochs = f"{meta.epochs_run} epoch{'s' * (meta.epochs_run != 1)}"
        raise AssertionError(
            f"model {meta.model!r} ({meta.encoding} encoding, window {meta.window}, {epochs}) "
            "did not learn well enough:\n  " + "\n  ".join(reached)
        )
    return trained


def _accuracy(value: float | str | None) -> tuple[Fraction, str] | None:
    """``one_step_at_least`` as an exact fraction, and as the message shows it."""
    if value is None:
        return None
    try:
        if isinstance(value, str):
            text = value.strip()
            exact = Fraction(text[:-1]) / 100 if text.endswith("%") else Fraction(text)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            exact, text = Fraction(str(value)), f"{value:g}"
        else:
            raise TypeError
    except (ValueError, ZeroDivisionError, TypeError):
        exact = None
    if exact is None or not 0 <= exact <= 1:
        raise TypeError(
            f"one_step_at_least is a fraction from 0 to 1, '46/50' or '92%', not {value!r}"
        )
    return exact, f"{text} ({_percent(exact.numerator, exact.denominator)})"


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "no notes"


def _source(song: Any) -> Any:
    """A training source: Songs and paths as they are, tinyNotation text as a Song."""
    if isinstance(song, str) and len(song.split()) > 1:
        from melodynet.songs.song import Song

        return Song.from_text(song, title="song")
    return song


# Notes snapshots


class NotesSnapshot:
    """The ``notes_snapshot`` fixture: call it with a Song, notes or tinyNotation text."""

    def __init__(
        self, directory: Path, test_name: str, update: bool, written: list, root: Path
    ) -> None:
        self.directory = directory
        """``snapshots/<test module>`` next to the test file."""
        self.test_name = test_name
        self.update = update
        self._written = written
        self._root = root
        self._used: set[Path] = set()

    def path(self, name: str | None = None) -> Path:
        """The file the next call with ``name`` compares with."""
        stem = self.test_name
        if name is not None:
            stem = f"{stem}.{_safe(name)}"
        else:
            number = 1
            while self.directory / f"{_numbered(stem, number)}.txt" in self._used:
                number += 1
            stem = _numbered(stem, number)
        return self.directory / f"{stem}.txt"

    def __call__(self, song_or_notes: Any, name: str | None = None) -> Path:
        """Assert that the notes are the snapshot's (writing it when there is none, or when
        pytest runs with ``--melodynet-update``); returns the snapshot's path.

        The first call in a test uses ``<test name>.txt``, later ones ``<test name>.2.txt``
        and so on, or ``<test name>.<name>.txt`` when named."""
        __tracebackhide__ = True
        path = self.path(name)
        if path in self._used:
            raise ValueError(f"this test already compared notes with {path.name}")
        self._used.add(path)
        outcome = _check_snapshot(song_or_notes, path, self.update, path.stem, self._root)
        if outcome != "matched":
            self._written.append((outcome, path))
        return path


def _numbered(stem: str, number: int) -> str:
    return stem if number == 1 else f"{stem}.{number}"


def _safe(name: str) -> str:
    """A test name as a file name on every system (parametrize ids may hold anything)."""
    return re.sub(r"[^\w.,=+@\[\]-]", "_", name).strip(".") or "_"


@pytest.fixture
def notes_snapshot(request: pytest.FixtureRequest) -> NotesSnapshot:
    """Compare notes with ``snapshots/<test module>/<test name>.txt`` beside the test file:
    written on the first run (and with ``pytest --melodynet-update``), compared after."""
    test_file = Path(request.path)
    test_name = request.node.nodeid.split("::", 1)[-1].replace("::", ".")
    return NotesSnapshot(
        test_file.parent / SNAPSHOT_DIR / test_file.stem,
        _safe(test_name),
        bool(request.config.getoption("melodynet_update")),
        request.config.stash.setdefault(_WRITTEN, []),
        request.config.rootpath,
    )


def assert_notes_match_snapshot(
    song_or_notes: Any, path: str | Path, *, update: bool = False
) -> Path:
    """Assert that the notes are those of snapshot file ``path``; write the file when it
    is missing, or when ``update``. ``song_or_notes``: a Song, a list of Notes, or
    tinyNotation text. Returns the path. (The ``notes_snapshot`` fixture names the file
    after the test and follows ``--melodynet-update``.)"""
    __tracebackhide__ = True
    path = Path(path)
    _check_snapshot(song_or_notes, path, update, path.stem)
    return path


def _check_snapshot(
    song_or_notes: Any, path: Path, update: bool, title: str, root: Path | None = None
) -> str:
    """'new' (written), 'updated' (rewritten) or 'matched'; AssertionError for notes that
    differ."""
    __tracebackhide__ = True
    tokens, time_signature = _tokens(song_or_notes)
    if path.exists():
        expected, header = _read_snapshot(path)
        if expected == tokens:
            return "matched"
        if not update:
            raise AssertionError(_snapshot_diff(path, expected, tokens, header, root))
    existed = path.exists()
    lines = [
        f"# title: {title}",
        "# snapshot: one note per line, written by melodynet.testing; "
        f"pytest {UPDATE_OPTION} rewrites it",
    ]
    if time_signature and time_signature != "4/4":
        lines.append(time_signature)  # tinyNotation's own meter token; not compared
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([*lines, *tokens]) + "\n", encoding="utf-8")
    return "updated" if existed else "new"


def _tokens(song_or_notes: Any) -> tuple[list[str], str | None]:
    """One tinyNotation token per note (the exact note key where tinyNotation has none)."""
    from melodynet.songs.song import Note, Song

    time_signature = None
    if isinstance(song_or_notes, str):
        song_or_notes = Song.from_text(song_or_notes)
    if isinstance(song_or_notes, Song):
        time_signature = song_or_notes.time_signature
        notes = song_or_notes.notes
    elif isinstance(song_or_notes, Iterable) and not isinstance(song_or_notes, bytes | Path):
        notes = list(song_or_notes)
        if not all(isinstance(note, Note) for note in notes):
            wrong = next(type(n).__name__ for n in notes if not isinstance(n, Note))
            raise TypeError(f"expected a Song, Notes or tinyNotation text; got a {wrong} in it")
    else:
        raise TypeError(
            f"expected a Song, Notes or tinyNotation text, not {type(song_or_notes).__name__}"
        )
    return [_token(note) for note in notes], time_signature


def _token(note: Note) -> str:
    try:
        return note.tiny
    except ValueError:  # a duration no tinyNotation spelling adds up to
        return note.key


_METER = re.compile(r"\d+/\d+")


def _read_snapshot(path: Path) -> tuple[list[str], int]:
    """The note lines of a snapshot (not the '#' lines nor a meter such as 3/4) and the
    number of the line before the first note."""
    tokens, header = [], 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        text = " ".join(line.split())
        if not text or text.startswith("#") or _METER.fullmatch(text):
            if not tokens:
                header = number
            continue
        tokens.append(text)
    return tokens, header


def _snapshot_diff(
    path: Path, expected: list[str], got: list[str], header: int, root: Path | None
) -> str:
    positions = [
        i
        for i in range(max(len(expected), len(got)))
        if i >= len(expected) or i >= len(got) or expected[i] != got[i]
    ]
    lines = [
        f"notes differ from the snapshot {_shown(path, root)}: {len(positions)} of "
        f"{max(len(expected), len(got))} notes differ (expected {len(expected)} notes, "
        f"got {len(got)})"
    ]
    for i in positions[:_DIFF_LINES]:
        want = expected[i] if i < len(expected) else "(no note)"
        have = got[i] if i < len(got) else "(no note)"
        line = f" (line {header + i + 1})" if i < len(expected) else ""
        lines.append(f"  note {i + 1}{line}: expected {want}, got {have}")
    if len(positions) > _DIFF_LINES:
        lines.append(f"  ... and {len(positions) - _DIFF_LINES} more")
    lines.append(f"if the new notes are right, rewrite the snapshot: pytest {UPDATE_OPTION}")
    return "\n".join(lines)


def _shown(path: Path, root: Path | None = None) -> str:
    """``path`` relative to ``root`` (default: the working directory) where it is inside."""
    root = root or Path.cwd()
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)
