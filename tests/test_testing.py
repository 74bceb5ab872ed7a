"""melodynet.testing, the pytest plugin for plugin authors: its fixtures and assertions, run
the way a plugin's own test session runs them (pytester) or called directly."""

import subprocess
import sys
import textwrap

import click
import pytest
from click.testing import CliRunner

import melodynet
from melodynet import Note, Song, hookimpl
from melodynet.testing import (
    assert_learns,
    assert_notes_match_snapshot,
    assert_one_line_error,
)
from tests.conftest import BUTTERFLY

pytest_plugins = ["pytester"]

MELODY = "67:1/2 64:1/2 64:1 65:1/2 62:1/2 62:1 rest:1 60:5/2"
"""Note keys: g8 e8 e4 f8 d8 d4 r4, and c2~ c8 (one note, tied in tinyNotation)."""

SNAPSHOT_TEST = """
    from pathlib import Path

    from melodynet import Note


    def test_melody(notes_snapshot):
        keys = Path(__file__).with_name("melody.keys").read_text().split()
        notes_snapshot([Note.from_key(key) for key in keys])
"""


def test_importing_the_plugin_loads_nothing_heavy():
    code = (
        "import sys, melodynet.testing\n"
        "heavy = {'tensorflow', 'keras', 'music21', 'click', 'numpy'}\n"
        "loaded = sorted(heavy & {name.split('.')[0] for name in sys.modules})\n"
        "assert not loaded, loaded\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_plugin_is_registered_with_pytest(pytester):
    pytester.makepyfile(
        """
        import pytest


        def test_fixtures(request, melodynet_cli, notes_snapshot):
            assert request.config.pluginmanager.hasplugin("melodynet")


        @pytest.mark.slow  # the plugin registers the marker
        def test_marked():
            pass
        """
    )
    result = pytester.runpytest("--strict-markers", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    fast = pytester.runpytest("--strict-markers", "-p", "no:cacheprovider", "-m", "not slow")
    fast.assert_outcomes(passed=1, deselected=1)
    help_text = pytester.runpytest("--help").stdout.str()
    assert "--melodynet-update" in help_text


# notes_snapshot


def test_a_snapshot_is_written_then_compared_then_updated(pytester):
    pytester.makepyfile(test_melody=SNAPSHOT_TEST)
    keys = pytester.path / "melody.keys"
    keys.write_text(MELODY)
    snapshot = pytester.path / "snapshots" / "test_melody" / "test_melody.txt"

    first = pytester.runpytest("-p", "no:cacheprovider")
    first.assert_outcomes(passed=1)
    first.stdout.fnmatch_lines(["*melodynet notes snapshots*", "new snapshot snapshots/*"])
    written = snapshot.read_text(encoding="utf-8")
    assert written.splitlines() == [
        "# title: test_melody",
        "# snapshot: one note per line, written by melodynet.testing; "
        "pytest --melodynet-update rewrites it",
        *"g8 e8 e4 f8 d8 d4 r4".split(),
        "c2~ c8",
    ]

    second = pytester.runpytest("-p", "no:cacheprovider")
    second.assert_outcomes(passed=1)
    assert "melodynet notes snapshots" not in second.stdout.str()

    # A changed note and an extra one: the failure names each, and nothing else.
    keys.write_text(MELODY.replace("64:1/2", "69:1/2", 1) + " 72:1")
    third = pytester.runpytest("-p", "no:cacheprovider")
    third.assert_outcomes(failed=1)
    third.stdout.fnmatch_lines(
        [
            "E * notes differ from the snapshot snapshots/test_melody/test_melody.txt: "
            "2 of 9 notes differ (expected 8 notes, got 9)",
            "E *   note 2 (line 4): expected e8, got a8",
            "E *   note 9: expected (no note), got c'4",
            "E * if the new notes are right, rewrite the snapshot: pytest --melodynet-update",
        ]
    )
    assert "note 1 " not in third.stdout.str() and "note 3 " not in third.stdout.str()
    assert snapshot.read_text(encoding="utf-8") == written  # a failure rewrites nothing

    updated = pytester.runpytest("-p", "no:cacheprovider", "--melodynet-update")
    updated.assert_outcomes(passed=1)
    updated.stdout.fnmatch_lines(["updated snapshot snapshots/test_melody/test_melody.txt"])
    assert snapshot.read_text(encoding="utf-8").split()[-3:] == ["c2~", "c8", "c'4"]
    assert "a8" in snapshot.read_text(encoding="utf-8").splitlines()

    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_a_long_difference_is_summed_up(tmp_path):
    notes = [Note.from_key(key) for key in MELODY.split()] * 5
    path = assert_notes_match_snapshot(notes, tmp_path / "long.txt")
    with pytest.raises(AssertionError) as failed:
        assert_notes_match_snapshot([Note(60, n.duration) for n in notes], path)
    message = str(failed.value)
    assert "35 of 40 notes differ" in message  # the 5 rests stay
    assert message.count("expected") == 11 and "... and 25 more" in message
    assert len(message.splitlines()) == 13
    assert_notes_match_snapshot([Note(60, n.duration) for n in notes], path, update=True)
    assert_notes_match_snapshot([Note(60, n.duration) for n in notes], path)


def test_snapshot_files_are_named_after_the_test(pytester):
    pytester.makepyfile(
        test_names="""
        import pytest

        from melodynet import Note


        @pytest.mark.parametrize("pitch", [60, 62], ids=["c", "d 4/4"])
        def test_melodies(notes_snapshot, pitch):
            notes_snapshot([Note(pitch, 1)])
            notes_snapshot([Note(pitch, 2)])
            notes_snapshot([Note(pitch, 4)], name="whole")


        class TestInAClass:
            def test_one(self, notes_snapshot):
                assert notes_snapshot([Note(None, 1)]).name == "TestInAClass.test_one.txt"
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=3)
    names = sorted(p.name for p in (pytester.path / "snapshots" / "test_names").iterdir())
    assert names == [
        "TestInAClass.test_one.txt",
        "test_melodies[c].2.txt",
        "test_melodies[c].txt",
        "test_melodies[c].whole.txt",
        "test_melodies[d_4_4].2.txt",
        "test_melodies[d_4_4].txt",
        "test_melodies[d_4_4].whole.txt",
    ]


def test_a_snapshot_is_a_song_melodynet_reads(tmp_path):
    text = "3/4 g8 e8 e4 r4 c'2. trip{c8 d8 e8} f#4~ f#16"
    song = Song.from_text(text, title="t")
    path = assert_notes_match_snapshot(text, tmp_path / "song.txt")
    [back] = melodynet.read(path)
    assert back.notes == song.notes and back.time_signature == "3/4"
    assert_notes_match_snapshot(song, path)  # text, Song or notes: the same snapshot
    assert_notes_match_snapshot(song.notes, path)
    with pytest.raises(TypeError, match="expected a Song, Notes or tinyNotation text"):
        assert_notes_match_snapshot([song], path)


# melodynet_cli and assert_one_line_error


def test_melodynet_cli_runs_in_a_temporary_directory(melodynet_cli, tmp_path):
    import os

    assert melodynet_cli.path == tmp_path and os.getcwd() == str(tmp_path)
    assert os.environ["MELODYNET_MODELS"] == str(tmp_path / "models") == str(melodynet_cli.models)
    made = melodynet_cli("render", BUTTERFLY, "--out", "b.txt")
    assert made.exit_code == 0 and made.stdout == ""
    assert made.stderr == made.output == "Wrote b.txt\n"
    assert (tmp_path / "b.txt").is_file()
    listed = melodynet_cli("models")
    assert "mlp" in listed.stdout.split() and listed.stderr == ""


def test_melodynet_cli_checks_the_exit_code(melodynet_cli):
    with pytest.raises(AssertionError) as failed:
        melodynet_cli("render", "nope.txt", "--out", "x.mid")
    assert str(failed.value) == (
        "`melodynet render nope.txt --out x.mid` exited with 1:\nError: nope.txt: no such file\n"
    )
    result = melodynet_cli("render", "nope.txt", "--out", "x.mid", check=False)
    assert result.exit_code == 1 and result.stdout == ""
    line = assert_one_line_error(result, "nope.txt", "no such file")
    assert line == "Error: nope.txt: no such file"
    usage = melodynet_cli("render", check=False)
    assert usage.exit_code == 2 and "Usage: melodynet render" in usage.stderr
    assert_one_line_error(usage, "Missing argument 'SONG'")


def test_assert_one_line_error_catches_a_traceback():
    @click.command()
    def boom():
        raise RuntimeError("boom")

    raised = CliRunner().invoke(boom, [])
    with pytest.raises(AssertionError, match="the command raised RuntimeError: boom"):
        assert_one_line_error(raised)

    printed = subprocess.CompletedProcess(
        ["melodynet"],
        1,
        stdout="",
        stderr='Traceback (most recent call last):\n  File "x.py"\nError: boom\n',
    )
    with pytest.raises(AssertionError, match="got a traceback"):
        assert_one_line_error(printed)

    def finished(code, stderr):
        return subprocess.CompletedProcess(["melodynet"], code, stdout="", stderr=stderr)

    with pytest.raises(AssertionError, match="the command succeeded"):
        assert_one_line_error(finished(0, ""))
    with pytest.raises(AssertionError, match="exactly one line starting with 'Error:', got 2"):
        assert_one_line_error(finished(1, "Error: one\nError: two\n"))
    with pytest.raises(AssertionError, match="the error does not say 'song.txt'"):
        assert_one_line_error(finished(1, "warning: skipped\nError: no such file\n"), "song.txt")
    assert assert_one_line_error(finished(1, "a warning\nError: bad --window\n"), "--window") == (
        "Error: bad --window"
    )


def test_plugin_commands_are_added_when_the_api_loaded_plugins_first(melodynet_cli, monkeypatch):
    """The API loads the plugins without the command line; registry(cli) adds their commands
    to the group afterwards."""
    import melodynet.cli
    from melodynet import plugins
    from melodynet.cli.errors import Group

    class Greeter:
        @hookimpl
        def register_commands(self, cli):
            @cli.command("greet")
            def greet():
                click.echo("hello")

    group = Group("melodynet", commands=dict(melodynet.cli.cli.commands))
    monkeypatch.setattr(melodynet.cli, "cli", group)
    monkeypatch.setattr(plugins, "_loaded", plugins.load_registry(None, plugins=[Greeter()]))
    assert melodynet_cli("greet").stdout == "hello\n"


# assert_learns

SCALE = "c4 d4 e4 f4 g4 a4 b4 c'4 b4 a4 g4 f4 e4 d4 c2"


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({}, "needs one_step_at_least, full_song or both"),
        ({"one_step_at_least": 1.5}, "one_step_at_least is a fraction from 0 to 1"),
        ({"one_step_at_least": "46 of 50"}, "one_step_at_least is a fraction"),
        ({"full_song": -1}, "full_song is a count of notes or True"),
        ({"full_song": "all"}, "full_song is a count of notes or True"),
    ],
)
def test_assert_learns_checks_its_arguments_before_training(options, problem):
    with pytest.raises(TypeError, match=problem):
        assert_learns(SCALE, model="mlp", **options)


@pytest.mark.slow
def test_assert_learns_says_what_was_reached():
    model = assert_learns(SCALE, model="mlp", epochs=50, one_step_at_least="11/11", full_song=True)
    assert isinstance(model, melodynet.Model) and model.meta.model == "mlp"
    assert model.directory is None  # trained in memory: nothing written

    with pytest.raises(AssertionError) as failed:
        assert_learns(SCALE, model="mlp", epochs=1, one_step_at_least="95%", full_song=11)
    assert str(failed.value) == textwrap.dedent(
        """\
        model 'mlp' (single encoding, window 4, 1 epoch) did not learn well enough:
          song:
            one-step: 7/11 notes right (63.6%), expected at least 95% (95.0%)
            full song from the first 4 notes: 6/11 notes match, expected at least 11"""
    )
