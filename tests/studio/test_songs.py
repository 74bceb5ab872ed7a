"""Songs in the studio: the list, uploads, scores, audio and downloads; errors as the
command line words them; nothing lost on a restart."""

from __future__ import annotations

import io
import wave

import pytest

from tests.conftest import BUTTERFLY, one_line_error
from tests.studio.conftest import BASE, TOKEN


def test_the_page_and_its_files(client):
    page = client.get("/")
    assert page.status_code == 200
    assert "<title>melodynet studio</title>" in page.text
    assert "content-security-policy" in page.headers
    assert client.get("/static/studio.js").status_code == 200
    assert client.get("/static/studio.css").status_code == 200
    assert client.get("/static/nothing.js").status_code == 404


def test_info_lists_every_installed_model(client):
    from melodynet.plugins import registry

    info = client.get("/api/info").json()
    assert [m["name"] for m in info["models"]] == sorted(registry().models)
    lstm = next(m for m in info["models"] if m["name"] == "stateful-lstm")
    assert {p["name"] for p in lstm["params"]} >= {"layers", "dropout"}
    assert {"mid", "musicxml", "wav", "txt"} <= set(info["downloads"])
    assert info["upload_limit"] == 10 * 1024 * 1024


def test_the_bundled_songs_are_listed(client):
    sources = client.get("/api/songs").json()["sources"]
    butterfly = next(s for s in sources if s["ref"] == "bundled:butterfly")
    assert butterfly["songs"] == [
        {
            "ref": "bundled:butterfly#0",
            "name": "butterfly",
            "title": "Butterfly",
            "notes": 54,
            "key": "C major",
            "time_signature": "4/4",
        }
    ]


def test_a_song_is_engraved_playable_and_downloadable(client, tmp_path):
    import melodynet

    ref = "bundled:butterfly%230"
    info = client.get(f"/api/song?ref={ref}").json()
    assert info["tiny"].startswith("g8 e8 e4 f8")
    svg = client.get(f"/api/score.svg?ref={ref}")
    assert svg.headers["content-type"] == "image/svg+xml"
    assert b"<svg" in svg.content and b"Butterfly" in svg.content
    audio = client.get(f"/api/audio.wav?ref={ref}")
    assert audio.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(audio.content)) as w:
        assert w.getnframes() / w.getframerate() == pytest.approx(16, abs=1.5)  # 32 beats, 120 bpm
    [original] = melodynet.read(BUTTERFLY)
    for fmt, suffix in [("mid", ".mid"), ("musicxml", ".musicxml"), ("txt", ".txt")]:
        response = client.get(f"/api/download?ref={ref}&format={fmt}")
        assert response.status_code == 200
        assert response.headers["content-disposition"] == (
            f'attachment; filename="butterfly{suffix}"'
        )
        path = tmp_path / f"back{suffix}"
        path.write_bytes(response.content)
        [back] = melodynet.read(path)
        assert back.notes == original.notes, fmt
    wav = client.get(f"/api/download?ref={ref}&format=wav")
    assert wav.content[:4] == b"RIFF"


def test_a_second_render_comes_from_the_cache(client, settings):
    response = client.get("/api/score.svg?ref=bundled:twinkle")
    assert response.status_code == 200, response.text
    cached = list((settings.data / "cache").glob("*.svg"))
    assert len(cached) == 1
    cached[0].write_bytes(b"<svg>cached</svg>")
    assert client.get("/api/score.svg?ref=bundled:twinkle").content == b"<svg>cached</svg>"


def test_upload_a_midi_file_see_it_and_remove_it(client, tmp_path, settings):
    import melodynet

    [song] = melodynet.read(BUTTERFLY)
    midi = song.write(tmp_path / "x.mid")
    response = client.post("/api/songs?name=My tune.mid", content=midi.read_bytes())
    assert response.status_code == 201, response.text
    found = response.json()
    ref = found["ref"]
    assert found["songs"][0]["name"] == "My tune"
    assert found["songs"][0]["notes"] == 54
    listed = next(s for s in client.get("/api/songs").json()["sources"] if s["ref"] == ref)
    assert listed["label"] == "My tune.mid"
    assert client.get(f"/api/score.svg?ref={ref}%230").status_code == 200
    assert client.get(f"/api/song?ref={ref}%231").status_code == 404  # one tune only
    upload_id = ref.split(":")[1]
    assert client.delete(f"/api/songs/upload/{upload_id}").status_code == 200
    assert client.get(f"/api/score.svg?ref={ref}%230").status_code == 404
    assert not list((settings.data / "uploads").iterdir())


def test_an_upload_error_is_the_command_lines_line(client, runner, tmp_path):
    """The page says what `melodynet train FILE` says, naming the file as the person named it."""
    bad = tmp_path / "mine.txt"
    bad.write_bytes(b"g8 e8 hello\n")
    response = client.post("/api/songs?name=mine.txt", content=bad.read_bytes())
    assert response.status_code == 400
    line = one_line_error(runner("render", bad, "--out", tmp_path / "x.mid"))
    assert line == f"Error: {str(bad)}{response.json()['error'].removeprefix('mine.txt')}"


def test_training_errors_are_the_command_lines_lines(client, runner):
    def error(**request):
        response = client.post("/api/jobs", json={"songs": ["bundled:butterfly"], **request})
        assert response.status_code == 400
        return response.json()["error"]

    cli = one_line_error(runner("train", BUTTERFLY, "--window", "0"))
    assert cli == f"Error: {error(window=0)}" == "Error: --window must be at least 1, not 0"
    cli = one_line_error(runner("train", BUTTERFLY, "--model", "nope"))
    assert cli == f"Error: {error(model='nope')}"
    assert error(learning_rate="fast") == "--learning-rate must be a number, not 'fast'"
    cli = one_line_error(runner("train", BUTTERFLY, "--transpose", "up"))
    assert cli == f"Error: {error(transpose='up')}"
    assert error(part="top") == "--part must be a whole number, not 'top'"
    assert "choose at least one song" in client.post("/api/jobs", json={}).json()["error"]
    assert client.get("/api/jobs").json()["jobs"] == []  # nothing was queued


def test_a_part_the_score_lacks_is_the_command_lines_line(client, runner):
    cli = one_line_error(runner("train", "corpus:bach/bwv66.6", "--part", "9"))
    response = client.post("/api/jobs", json={"songs": ["corpus:bach/bwv66.6#0"], "part": 9})
    assert response.status_code == 400
    assert cli == f"Error: {response.json()['error']}"
    assert "part 9 asked for, but the file has 4 part(s)" in cli
    assert client.get("/api/jobs").json()["jobs"] == []


def test_a_corpus_reference_is_checked(client):
    response = client.post("/api/corpus", json={"reference": "corpus:../../etc"})
    assert response.status_code == 400
    assert "not a corpus reference" in response.json()["error"]


def test_generating_without_a_model_is_404(client):
    assert client.post("/api/generate", json={"model": "none-such"}).status_code == 404


def test_non_json_bodies_are_one_line(client):
    response = client.post("/api/jobs", content=b"{nope", headers={"content-type": "text/plain"})
    assert response.status_code == 400
    assert response.json() == {"error": "the request is not JSON"}


def test_a_restart_loses_nothing(settings, tmp_path):
    """Uploads and results are files; a job that was running when the studio stopped comes
    back interrupted, one that was queued comes back queued."""
    from starlette.testclient import TestClient

    from melodynet.studio.app import create_app
    from melodynet.studio.storage import Storage

    headers = {"X-Studio-Token": TOKEN}
    with TestClient(create_app(settings, warm=False), base_url=BASE, headers=headers) as c:
        ref = c.post("/api/songs?name=a.txt", content=b"g8 e8 e4 f8 d8 d4").json()["ref"]
    storage = Storage(settings.data)
    running = {
        "id": "a" * 16,
        "name": "x",
        "status": "running",
        "created": 1.0,
        "song_names": [],
        "history": {},
        "messages": [],
    }
    storage.write_json(storage.inside("jobs", running["id"], suffix=".json"), running)
    with TestClient(create_app(settings, warm=False), base_url=BASE, headers=headers) as c:
        refs = [s["ref"] for s in c.get("/api/songs").json()["sources"]]
        assert ref in refs
        [job] = c.get("/api/jobs").json()["jobs"]
        assert job["status"] == "interrupted"
        assert job["error"] == "the studio stopped during this training"
        assert job["resumable"] is False  # no bundle was saved yet


def test_a_corpus_tune_is_added_with_what_read_said(client):
    response = client.post("/api/corpus", json={"reference": "corpus:bach/bwv66.6"})
    assert response.status_code == 201, response.text
    found = response.json()
    assert found["ref"] == "corpus:bach/bwv66.6" and found["total"] == 1
    assert any("using part 1 (Soprano)" in note for note in found["notes"])
    sources = client.get("/api/songs").json()["sources"]
    assert "corpus:bach/bwv66.6" in [s["ref"] for s in sources]
    assert client.get("/api/score.svg?ref=corpus:bach/bwv66.6%230").status_code == 200
