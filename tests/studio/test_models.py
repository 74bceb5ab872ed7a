"""Bundles and results in the studio: the pretrained bundles plugins ship, listed and
generated from; deleting results and the person's own bundles (never a pretrained one,
never anything outside models/), durably; errors in the page's terms."""

from __future__ import annotations

import importlib.util
import shutil
import time

import pytest

from melodynet import BundleSpec
from tests.conftest import Shelf
from tests.studio.conftest import BASE, TOKEN, studio_of

pytestmark = pytest.mark.slow  # the small bundle trains (3 epochs, once per session)

FOLK = importlib.util.find_spec("melodynet_folk") is not None


@pytest.fixture
def shelf(monkeypatch, small_bundle):
    """The registry of the built-ins and one plugin shipping the small bundle as
    'butterfly' (the name of the person's own bundle in ``with_bundle`` too)."""
    from melodynet import plugins

    monkeypatch.setenv("MELODYNET_LOAD_PLUGINS", "")
    spec = BundleSpec("butterfly", small_bundle, "butterfly, pretrained", "songs", "CC0")
    monkeypatch.setattr(plugins, "_loaded", plugins.load_registry(None, plugins=(Shelf(spec),)))
    return small_bundle


def restarted(settings):
    from starlette.testclient import TestClient

    from melodynet.studio.app import create_app

    headers = {"X-Studio-Token": TOKEN}
    return TestClient(create_app(settings, warm=False), base_url=BASE, headers=headers)


# pretrained bundles


@pytest.mark.skipif(not FOLK, reason="needs melodynet-folk: pip install -e plugins/melodynet-folk")
def test_the_installed_pretrained_bundles_are_listed_and_generate(client):
    import melodynet

    listed = client.get("/api/models").json()
    installed = melodynet.bundles(pretrained=True)
    pretrained = {b["name"]: b for b in listed["pretrained"]}
    assert sorted(pretrained) == [b.name for b in installed]
    assert {"german-folk", "irish-dance", "bach-chorales"} <= set(pretrained)
    folk = pretrained["german-folk"]
    assert folk["ref"] == "pretrained:german-folk" and folk["pretrained"] is True
    assert folk["distribution"] == "melodynet-folk" and folk["model"] == "stateful-lstm"
    assert folk["description"].startswith("German folk songs")
    shipped = next(b for b in installed if b.name == "german-folk")
    assert folk["heldout_bits_per_note"] == shipped.heldout_bits_per_note
    assert listed["models"] == []  # none of the person's own: they are apart

    request = {"key": "G", "meter": "3/4", "bars": 4, "temperature": 1.0, "random_seed": 3}
    response = client.post("/api/generate", json={"model": "pretrained:german-folk", **request})
    assert response.status_code == 200, response.text
    [result] = response.json()["results"]
    assert result["model"] == "pretrained:german-folk" and result["pretrained"] is True
    assert result["model_name"] == "german-folk"
    expected = melodynet.load("german-folk").generate(**request)
    assert result["tiny"] == expected.tiny()
    ref = f"result:{result['id']}"
    assert client.get(f"/api/score.svg?ref={ref}").status_code == 200
    assert client.get(f"/api/download?ref={ref}&format=mid").status_code == 200
    assert client.get("/api/models").json()["loaded"] == ["pretrained:german-folk"]


def test_a_pretrained_bundle_and_an_own_one_of_the_same_name(client, shelf, with_bundle):
    """Both are listed, apart; each generates from its own files; the pretrained one is
    never deleted (404) and deleting the own one leaves the pretrained one as it was."""
    listed = client.get("/api/models").json()
    assert [(b["ref"], b["pretrained"]) for b in listed["models"]] == [("butterfly", False)]
    [pretrained] = listed["pretrained"]
    assert pretrained["ref"] == "pretrained:butterfly"
    assert pretrained["description"] == "butterfly, pretrained"
    assert pretrained["licence"] == "CC0" and pretrained["epochs_run"] == 3

    request = {"primer": 4, "length": 12}
    own = client.post("/api/generate", json={"model": "butterfly", **request}).json()
    shipped = client.post("/api/generate", json={"model": "pretrained:butterfly", **request})
    assert shipped.status_code == 200, shipped.text
    [result] = shipped.json()["results"]
    assert result["tiny"] == own["results"][0]["tiny"]  # the same weights, two names
    assert result["pretrained"] is True and own["results"][0]["pretrained"] is False

    for name in ("pretrained:butterfly", "pretrained%3Abutterfly", "pretrained:nothing"):
        assert client.delete(f"/api/models/{name}").status_code == 404
    assert (shelf / "melodynet.json").is_file()
    assert client.delete("/api/models/butterfly").status_code == 200
    assert (shelf / "melodynet.json").is_file()  # the shipped one is untouched
    listed = client.get("/api/models").json()
    assert listed["models"] == [] and [b["ref"] for b in listed["pretrained"]] == [
        "pretrained:butterfly"
    ]
    assert client.post("/api/generate", json={"model": "butterfly"}).status_code == 404
    again = client.post("/api/generate", json={"model": "pretrained:butterfly", **request})
    assert again.status_code == 200


def test_an_unknown_pretrained_name_is_404(client, shelf):
    for name in ("pretrained:german-folkk", "pretrained:", "pretrained:../../etc"):
        assert client.post("/api/generate", json={"model": name}).status_code == 404


# deleting results


def test_delete_a_result_for_good(client, settings, with_bundle):
    made = client.post(
        "/api/generate", json={"model": with_bundle, "primer": 4, "num_outputs": 2}
    ).json()["results"]
    first, second = (r["id"] for r in made)
    assert {r["id"] for r in client.get("/api/results").json()["results"]} == {first, second}
    response = client.delete(f"/api/results/{first}")
    assert response.status_code == 200 and response.json() == {"removed": first}
    assert [r["id"] for r in client.get("/api/results").json()["results"]] == [second]
    assert not (settings.data / "results" / f"{first}.json").exists()
    assert client.get(f"/api/score.svg?ref=result:{first}").status_code == 404
    assert client.delete(f"/api/results/{first}").status_code == 404  # gone already
    with restarted(settings) as c:
        assert [r["id"] for r in c.get("/api/results").json()["results"]] == [second]


def test_deleting_results_by_a_path_is_404(client, settings):
    (settings.data / "keep.json").write_text("{}")
    (settings.data / "results" / "keep.json").write_text("{}")
    for name in ("..%2Fkeep", "keep", "%2e%2e", "0123456789abcdef%2F..%2F..%2Fkeep"):
        assert client.delete(f"/api/results/{name}").status_code in (404, 405), name
    assert (settings.data / "keep.json").exists()
    assert (settings.data / "results" / "keep.json").exists()


# deleting bundles


def test_delete_an_own_bundle_for_good(client, settings, with_bundle):
    client.post("/api/generate", json={"model": with_bundle, "primer": 4})  # loaded, cached
    assert client.get("/api/models").json()["loaded"] == [with_bundle]
    response = client.delete(f"/api/models/{with_bundle}")
    assert response.status_code == 200 and response.json() == {"removed": with_bundle}
    assert not (settings.data / "models" / with_bundle).exists()
    listed = client.get("/api/models").json()
    assert listed["models"] == [] and listed["loaded"] == []
    assert client.post("/api/generate", json={"model": with_bundle}).status_code == 404
    assert client.post(f"/api/models/{with_bundle}/resume", json={}).status_code == 404
    assert client.delete(f"/api/models/{with_bundle}").status_code == 404
    assert not list((settings.data / "tmp").iterdir())  # nothing left on its way out
    with restarted(settings) as c:
        assert c.get("/api/models").json()["models"] == []


def test_deleting_needs_the_token_and_this_site(client, anon, settings, with_bundle):
    bundle = settings.data / "models" / with_bundle
    assert anon.delete(f"/api/models/{with_bundle}").status_code == 403
    evil = {"Origin": "http://evil.example"}
    assert client.delete(f"/api/models/{with_bundle}", headers=evil).status_code == 403
    assert (bundle / "melodynet.json").is_file()
    assert client.delete(f"/api/models/{with_bundle}", headers={"Origin": BASE}).status_code == 200


@pytest.mark.parametrize(
    "name",
    ["..", "../x", "x%2F..%2F..", "%2e%2e", "LATEST", "nothing", ".hidden", "outside"],
)
def test_deleting_anything_but_an_own_bundle_is_404(client, settings, with_bundle, tmp_path, name):
    outside = tmp_path / "elsewhere"
    shutil.copytree(settings.data / "models" / with_bundle, outside)
    (settings.data / "models" / "outside").symlink_to(outside, target_is_directory=True)
    (settings.data / "models" / "LATEST").write_text(str(outside))
    (settings.data / "models" / ".hidden").mkdir()
    assert client.delete(f"/api/models/{name}").status_code in (404, 405)
    assert (outside / "melodynet.json").is_file()
    assert (settings.data / "models" / with_bundle / "melodynet.json").is_file()
    assert (settings.data / "models" / "LATEST").is_file()


def test_a_bundle_that_trains_is_not_deleted(client, settings, with_bundle):
    response = client.post(f"/api/models/{with_bundle}/resume", json={"epochs": 400})
    assert response.status_code == 201, response.text
    job = response.json()
    refused = client.delete(f"/api/models/{with_bundle}")
    assert refused.status_code == 400
    assert refused.json()["error"] == (
        f"{with_bundle} is training or queued: cancel its training first, then delete it"
    )
    assert (settings.data / "models" / with_bundle / "melodynet.json").is_file()
    client.post(f"/api/jobs/{job['id']}/cancel")
    queue = studio_of(client.app).queue
    deadline = time.monotonic() + 180
    while queue.get(job["id"])["status"] in ("queued", "running"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert client.delete(f"/api/models/{with_bundle}").status_code == 200
    [after] = [j for j in client.get("/api/jobs").json()["jobs"] if j["id"] == job["id"]]
    assert after["resumable"] is False and after["removed"] is True  # no Resume any more


# errors in the page's terms


def test_the_primer_is_named_as_the_page_names_it(client, with_bundle):
    from melodynet import OptionError
    from melodynet.cli.errors import cli_message
    from melodynet.studio.messages import page_message

    error = OptionError("primer: note 1 (c4) is not in the model's vocabulary", "primer")
    assert cli_message(error).startswith("--seed: note 1")  # the command line's, unchanged
    assert page_message(error) == "primer: note 1 (c4) is not in the model's vocabulary"
    window = OptionError("window must be at least 1, not 0", "window")
    assert page_message(window) == cli_message(window) == "--window must be at least 1, not 0"
    top = OptionError("primer and top_k do not go together", "primer")
    assert page_message(top) == "primer and --top-k do not go together"

    for primer in ("c4 d4 e4", "x"):
        response = client.post("/api/generate", json={"model": with_bundle, "primer": primer})
        assert response.status_code == 400
        line = response.json()["error"]
        assert line.startswith("primer") and "--seed" not in line and "\n" not in line, line


def test_quantize_the_primer_moves_the_notes_the_model_does_not_know(client, with_bundle):
    """c4 (a quarter C) is not in butterfly's vocabulary (its Cs are eighths): without the
    'quantize the primer' box the page's one line names the box (the command line's
    --quantize); ticked, the note moves to the nearest the model knows and the melody
    says which (melodynet's warning, kept with the result)."""
    page = client.get("/")
    assert 'name="quantize"' in page.text and "Quantize the primer" in page.text

    request = {"model": with_bundle, "primer": "c4 d4 e4", "length": 4}
    for off in ({}, {"quantize": False}):
        refused = client.post("/api/generate", json={**request, **off})
        assert refused.status_code == 400
        line = refused.json()["error"]
        assert line.startswith("primer: note 1 (c4) is not in the model's vocabulary"), line
        assert line.endswith("; 'quantize the primer' moves such notes there"), line
        assert "\n" not in line and "quantize=True" not in line and "--" not in line
    nearest = line.partition("the nearest note it knows is ")[2].partition(";")[0]
    assert nearest and nearest != "c4"

    done = client.post("/api/generate", json={**request, "quantize": True})
    assert done.status_code == 200, done.text
    [result] = done.json()["results"]
    assert result["remarks"] == [
        f"primer: 1 note the model does not know moved to the nearest it knows: "
        f"note 1 c4 -> {nearest}"
    ]
    assert result["tiny"].split()[:3] == [nearest, "d4", "e4"]
    assert result["notes"] == 3 + 4 and result["options"]["quantize"] is True
    [kept] = client.get("/api/results").json()["results"]
    assert kept["remarks"] == result["remarks"]  # the page shows it again after a reload

    known = client.post("/api/generate", json={"model": with_bundle, "primer": 4})
    assert known.status_code == 200 and known.json()["results"][0]["remarks"] == []

    bad = client.post("/api/generate", json={**request, "quantize": "maybe"})
    assert bad.status_code == 400
    assert bad.json()["error"] == "--quantize must be true or false, not 'maybe'"


def test_style_models_mix_ppm_into_the_generation(client, with_bundle, small_bundle):
    """The page's 'style models' choice is generate(mix=...): the same melody as the API
    gives with that mix; a mix the library refuses is one line naming it (by its flag,
    as the page names its other fields)."""
    import melodynet

    page = client.get("/")
    assert 'name="mix"' in page.text and 'value="both+"' in page.text
    request = {"primer": 4, "length": 12, "mix": "both+,interval-degree-ltm+"}
    done = client.post("/api/generate", json={"model": with_bundle, **request})
    assert done.status_code == 200, done.text
    [result] = done.json()["results"]
    expected = melodynet.load(small_bundle).generate(**request)
    assert result["tiny"] == expected.tiny() and result["options"]["mix"] == request["mix"]
    refused = client.post("/api/generate", json={"model": with_bundle, "mix": "lstm"})
    assert refused.status_code == 400 and refused.json()["error"].startswith("--mix: 'lstm'")
