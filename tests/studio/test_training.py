"""Training and generating through the studio's API (slow: they train, a few epochs each)."""

from __future__ import annotations

import asyncio
import json
import time
import warnings

import pytest

from tests.studio.conftest import BASE, TOKEN, studio_of

pytestmark = pytest.mark.slow


def wait_for(client, job_id, statuses=("done", "failed", "cancelled", "interrupted"), timeout=180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get("/api/jobs").json()["jobs"]
        found = next(j for j in job if j["id"] == job_id)
        if found["status"] in statuses:
            return found
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still {found['status']}")


def sse_events(text: str) -> list[tuple[str, dict]]:
    events = []
    for block in text.split("\n\n"):
        kind = next((ln[7:] for ln in block.splitlines() if ln.startswith("event: ")), None)
        data = next((ln[6:] for ln in block.splitlines() if ln.startswith("data: ")), None)
        if kind and data:
            events.append((kind, json.loads(data)))
    return events


def test_train_watch_generate(client, settings):
    response = client.post(
        "/api/jobs",
        json={"songs": ["bundled:butterfly#0"], "model": "stateful-lstm", "epochs": 2},
    )
    assert response.status_code == 201, response.text
    job = response.json()
    assert job["name"] == "butterfly-stateful-lstm" and job["status"] == "queued"
    with client.stream("GET", "/api/events?seconds=60") as stream:
        text = ""
        for chunk in stream.iter_text():
            text += chunk
            if '"status": "done"' in text or '"status": "failed"' in text:
                break
    events = sse_events(text)
    assert events[0][0] == "snapshot"
    kinds = [k for k, _ in events]
    assert "epoch" in kinds and "message" in kinds
    epochs = [d["epoch"] for k, d in events if k == "epoch"]
    assert epochs == [1, 2]
    done = wait_for(client, job["id"])
    assert done["status"] == "done", done
    assert done["epoch"] == 2 and len(done["history"]["loss"]) == 2
    assert any("butterfly: one-step" in m for m in done["messages"])
    assert (settings.data / "models" / "butterfly-stateful-lstm" / "melodynet.json").is_file()
    assert (settings.data / "jobs" / f"{job['id']}.json").is_file()

    [bundle] = client.get("/api/models").json()["models"]
    assert bundle["name"] == "butterfly-stateful-lstm" and bundle["epochs_run"] == 2

    response = client.post(
        "/api/generate",
        json={"model": "butterfly-stateful-lstm", "primer": 4, "length": 20, "key": "C"},
    )
    assert response.status_code == 200, response.text
    [result] = response.json()["results"]
    assert result["notes"] == 24 and result["compared"] == 20
    assert len(result["wrong"]) == 20 - result["matches"]
    assert (settings.data / "results" / f"{result['id']}.json").is_file()
    svg = client.get(f"/api/score.svg?ref=result:{result['id']}").content
    assert svg.count(b'fill="#1F77B4"') >= 4  # the primer in blue
    assert client.get(f"/api/download?ref=result:{result['id']}&format=mid").status_code == 200
    # each note's surprise: a sequence model predicts every note after the first
    bits = result["surprise"]
    assert len(bits) == 24 and bits[0] is None and all(b >= 0 for b in bits[1:])
    assert result["mean_surprise"] == pytest.approx(sum(bits[1:]) / 23, abs=1e-2)
    surprising = client.get(f"/api/score.svg?ref=result:{result['id']}&marks=surprise").content
    assert surprising != svg
    assert b'fill="#1F77B4"' not in surprising  # no primer marks: surprise colours instead
    assert client.get("/api/results").json()["results"][0]["id"] == result["id"]


def test_generate_under_constraints(client, with_bundle):
    import melodynet

    request = {
        "model": with_bundle,
        "primer": 4,
        "key": "G",
        "meter": "3/4",
        "bars": 4,
        "form": "AB",
        "range": "D4-D6",
        "end": "tonic",
        "no_copy": 6,
        "temperature": 1.0,
        "top_p": 0.9,
        "num_outputs": 3,
        "random_seed": 7,
    }
    response = client.post("/api/generate", json=request)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert len(results) == 3
    model = melodynet.load(client.app.app.state.studio.storage.bundle_dir(with_bundle))
    options = {k: v for k, v in request.items() if k not in ("model", "primer")}
    expected = model.generate(4, **options)
    assert [r["tiny"] for r in results] == [s.tiny() for s in expected]


@pytest.mark.parametrize(
    "request_, fragment",
    [
        ({"range": "C4-C4", "key": "D"}, "no note the model knows is in D major within C4-C4"),
        ({"meter": "3/4"}, "meter, pickup and form need --bars (how many)"),
        ({"temperature": "hot"}, "--temperature must be a number, not 'hot'"),
        ({"num_outputs": 500}, "--num-outputs must be at most 16 here, not 500"),
        ({"primer": "g8 e8 q9"}, "cannot read token 'q9'"),
        ({"loudness": 3}, "unknown generate option 'loudness'"),
    ],
)
def test_impossible_requests_are_one_line(client, with_bundle, request_, fragment):
    response = client.post("/api/generate", json={"model": with_bundle, **request_})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert fragment in error, error
    assert "\n" not in error


def test_an_impossible_constraint_is_the_command_lines_line(client, with_bundle, runner, settings):
    bundle = settings.data / "models" / with_bundle
    line = one_line = runner("generate", "--model-dir", bundle, "--key", "D", "--range", "C4-C4")
    from tests.conftest import one_line_error

    line = one_line_error(one_line)
    response = client.post(
        "/api/generate", json={"model": with_bundle, "key": "D", "range": "C4-C4"}
    )
    assert line == f"Error: {response.json()['error']}"


def test_one_at_a_time_cancel_and_resume(client, settings):
    request = {"songs": ["bundled:butterfly"], "epochs": 300, "stop_when_perfect": False}
    first = client.post("/api/jobs", json=request).json()
    second = client.post(
        "/api/jobs", json={"songs": ["bundled:twinkle"], "epochs": 2, "name": "tw"}
    ).json()
    assert second["name"] == "tw"
    running = wait_for(client, first["id"], ("running",))
    assert running["status"] == "running"
    deadline = time.monotonic() + 120
    while client.get("/api/jobs").json()["jobs"][0]["epoch"] < 1:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    jobs = {j["id"]: j for j in client.get("/api/jobs").json()["jobs"]}
    assert jobs[second["id"]]["status"] == "queued"  # one training at a time
    assert client.post(f"/api/jobs/{first['id']}/cancel").status_code == 200
    cancelled = wait_for(client, first["id"])
    assert cancelled["status"] == "cancelled" and cancelled["resumable"] is True
    assert cancelled["epoch"] < 300
    assert cancelled["error"].startswith("cancelled after ")
    assert wait_for(client, second["id"])["status"] == "done"  # the queue went on

    # resume the cancelled bundle for a couple more epochs
    epochs = cancelled["epoch"] + 2
    response = client.post(f"/api/models/{cancelled['name']}/resume", json={"epochs": epochs})
    assert response.status_code == 201, response.text
    resumed = wait_for(client, response.json()["id"])
    assert resumed["status"] == "done", resumed
    assert resumed["epoch"] == epochs
    [meta] = [m for m in client.get("/api/models").json()["models"] if m["name"] == first["name"]]
    assert meta["epochs_run"] == epochs and meta["status"] == "complete"


def test_cancel_a_queued_job(client):
    first = client.post("/api/jobs", json={"songs": ["bundled:butterfly"], "epochs": 300}).json()
    second = client.post("/api/jobs", json={"songs": ["bundled:twinkle"], "epochs": 2}).json()
    cancelled = client.post(f"/api/jobs/{second['id']}/cancel").json()
    assert cancelled["status"] == "cancelled" and cancelled["resumable"] is False
    client.post(f"/api/jobs/{first['id']}/cancel")
    assert wait_for(client, first["id"])["status"] == "cancelled"


def test_fifty_generate_requests_while_training(app, settings, with_bundle):
    """All 50 answered, each correctly, while a training runs in the same studio."""
    import httpx2

    import melodynet

    studio = studio_of(app)
    studio.queue.start()
    expected = melodynet.load(settings.data / "models" / with_bundle).generate(4, length=30)

    async def main():
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(
            transport=transport, base_url=BASE, headers={"X-Studio-Token": TOKEN}, timeout=120
        ) as c:
            job = await c.post(
                "/api/jobs",
                json={"songs": ["bundled:twinkle"], "epochs": 300, "stop_when_perfect": False},
            )
            job = job.json()
            while studio.queue.get(job["id"])["epoch"] < 1:
                await asyncio.sleep(0.05)
            started = time.monotonic()
            answers = await asyncio.gather(
                *[
                    c.post("/api/generate", json={"model": with_bundle, "primer": 4, "length": 30})
                    for _ in range(50)
                ],
                c.get("/api/jobs"),
            )
            elapsed = time.monotonic() - started
            still = studio.queue.get(job["id"])["status"]
            await c.post(f"/api/jobs/{job['id']}/cancel")
            return answers, elapsed, still

    try:
        answers, elapsed, still = asyncio.run(main())
    finally:
        studio.queue.stop()
    assert still == "running"  # the training went on throughout
    assert [a.status_code for a in answers] == [200] * 51
    assert {a.json()["results"][0]["tiny"] for a in answers[:50]} == {expected.tiny()}
    assert elapsed < 60


def test_the_model_cache_is_bounded(settings, with_bundle):
    import shutil

    from melodynet.studio.models import ModelCache
    from melodynet.studio.storage import Storage

    for name in ("b2", "b3"):
        shutil.copytree(settings.data / "models" / with_bundle, settings.data / "models" / name)
    cache = ModelCache(Storage(settings.data), size=2)
    first, _ = cache.get(with_bundle)
    assert cache.get(with_bundle)[0] is first  # warm
    cache.get("b2")
    cache.get("b3")
    assert cache.loaded() == ["b2", "b3"]
    assert cache.get(with_bundle)[0] is not first  # dropped, loaded afresh


def test_train_on_an_upload(client):
    upload = client.post(
        "/api/songs?name=my tune.txt", content=b"c4 d4 e4 c4 c4 d4 e4 c4 e4 f4 g2 e4 f4 g2"
    ).json()
    response = client.post("/api/jobs", json={"songs": [upload["ref"]], "epochs": 2})
    assert response.status_code == 201, response.text
    job = wait_for(client, response.json()["id"])
    assert job["status"] == "done" and job["name"] == "my-tune-stateful-lstm"
    assert job["song_names"] == ["my tune"]
    response = client.post(
        "/api/generate", json={"model": job["name"], "primer": 3, "bars": 2, "meter": "4/4"}
    )
    assert response.status_code == 200, response.text


def test_train_on_a_part_transposed(client):
    """The form's part and transpose reach the library: the alto of a chorale, moved to
    the common key (as `melodynet train corpus:bach/bwv66.6 --part 2 --transpose common`)."""
    import melodynet

    request = {
        "songs": ["corpus:bach/bwv66.6"],
        "part": "2",
        "transpose": "common",
        "epochs": 1,
        "name": "alto",
    }
    response = client.post("/api/jobs", json=request)
    assert response.status_code == 201, response.text
    assert response.json()["reading"] == {"part": 2, "transpose": "common"}
    job = wait_for(client, response.json()["id"])
    assert job["status"] == "done", job
    [trained] = melodynet.load(client.app.app.state.studio.storage.bundle_dir("alto")).songs
    with warnings.catch_warnings():  # "4 parts; using part 2 (Alto)": as asked
        warnings.simplefilter("ignore", melodynet.MelodynetWarning)
        [alto] = melodynet.read("corpus:bach/bwv66.6", part=2)
        [soprano] = melodynet.read("corpus:bach/bwv66.6")
    assert alto.key == "F# minor" and trained.key == "A minor"
    assert trained.extra["transposed"] == "+3"
    assert [n.pitch - 3 for n in trained.notes] == [n.pitch for n in alto.notes]
    assert [n.pitch for n in alto.notes] != [n.pitch for n in soprano.notes]


def test_primer_from_a_song_in_the_library(client, with_bundle):
    upload = client.post("/api/songs?name=mine.txt", content=b"g8 e8 e4 d8 c8 d4").json()
    request = {"model": with_bundle, "primer_song": f"{upload['ref']}#0", "primer": 3, "length": 5}
    [result] = client.post("/api/generate", json=request).json()["results"]
    assert result["tiny"].split()[:3] == ["g8", "e8", "e4"]
    assert result["notes"] == 8
    request["primer_song"] = "bundled:twinkle#0"  # notes butterfly's model never saw
    response = client.post("/api/generate", json=request)
    assert response.status_code == 400
    # in the page's terms: the primer, not the command line's --seed
    assert response.json()["error"].startswith("primer: note 1 (c4) is not in the model's")
    request["primer_song"] = "bundled:../../etc/passwd"
    assert client.post("/api/generate", json=request).status_code == 404


def test_train_with_bar_inputs(client):
    """The form's bar inputs reach melodynet.train (as `melodynet train --bar-inputs`), and
    the surprise of each note counts bars in the song's own meter, as the library scores."""
    import dataclasses

    import melodynet
    from melodynet.positions import Meter
    from melodynet.studio.surprise import information_content

    request = {"songs": ["bundled:butterfly#0"], "epochs": 2, "bar_inputs": "on", "name": "bars"}
    response = client.post("/api/jobs", json=request)
    assert response.status_code == 201, response.text
    assert response.json()["options"]["bar_inputs"] is True
    job = wait_for(client, response.json()["id"])
    assert job["status"] == "done", job
    model = melodynet.load(studio_of(client.app).storage.bundle_dir("bars"))
    assert model.bar_inputs is True
    [listed] = client.get("/api/models").json()["models"]
    assert listed["name"] == "bars" and listed["bar_inputs"] is True

    butterfly = model.songs[0]
    waltz = dataclasses.replace(butterfly, time_signature="3/4", extra={"pickup": "1"})
    bits = information_content(model, waltz)
    scored = model.score([waltz])  # the library's NLL, bars counted in the waltz's meter
    window = model.config.window
    total = scored["bits_per_note"] * scored["total"]
    assert sum(bits[window:]) == pytest.approx(total, abs=0.05)
    assert bits != information_content(model, butterfly)  # the meter is read

    request = {"model": "bars", "primer": 4, "meter": "3/4", "bars": 4, "pickup": "2"}
    response = client.post("/api/generate", json=request)
    assert response.status_code == 200, response.text
    [result] = response.json()["results"]
    song = melodynet.Song.from_json(result["song"])
    assert song.time_signature == "3/4"
    # counted from the half-note pickup asked for, which the generated song records
    assert song.extra["pickup"] == "2"
    assert result["surprise"] == information_content(model, song, Meter.of("3/4", "2"))
    no_pickup = dataclasses.replace(song, extra={})
    assert result["surprise"] != information_content(model, no_pickup)


def test_without_bar_inputs_the_meter_changes_nothing(client, with_bundle):
    import dataclasses

    import melodynet
    from melodynet.studio.surprise import information_content

    model = melodynet.load(studio_of(client.app).storage.bundle_dir(with_bundle))
    assert model.bar_inputs is False
    butterfly = model.songs[0]
    waltz = dataclasses.replace(butterfly, time_signature="3/4", extra={"pickup": "1"})
    assert information_content(model, waltz) == information_content(model, butterfly)
