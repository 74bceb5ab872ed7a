"""The studio in a real headless Chromium (Debian's, driven by Playwright): a person's
first session, from opening the printed address to a MIDI file read back as the song.

Needs /usr/bin/chromium (apt-get install chromium) and the playwright package (the dev
extra); no `playwright install`: the browser is Debian's, given by executable_path.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from tests.conftest import BUTTERFLY
from tests.studio.conftest import TOKEN

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium: apt-get install chromium"
    ),
    pytest.mark.skipif(
        importlib.util.find_spec("playwright") is None,
        reason="needs playwright: pip install -e '.[dev]' (no `playwright install` needed)",
    ),
]

LOADED = "img => !!img && img.complete && img.naturalWidth > 0"  # null: not there yet


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, tmp_path):
    context = browser.new_context(viewport={"width": 1300, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    page.screenshot(path=str(tmp_path / "last.png"), full_page=True)
    context.close()
    assert not errors, errors


def test_train_generate_listen_download(live_server, page, tmp_path):
    import melodynet

    settings, base = live_server
    shots = tmp_path / "screenshots"
    shots.mkdir()

    page.goto(f"{base}/?token={TOKEN}")
    assert page.url == f"{base}/"  # the token moved to a cookie, out of the address bar
    page.wait_for_selector("body[data-ready=true]")
    page.screenshot(path=str(shots / "1-opened.png"))

    # choose butterfly: its score and a player
    butterfly = page.locator("li[data-ref='bundled:butterfly#0']")
    butterfly.locator("button.view").click()
    page.wait_for_function(f"() => ({LOADED})(document.querySelector('#song-view img.score'))")
    assert page.locator("#song-view audio").count() == 1
    page.screenshot(path=str(shots / "2-butterfly.png"))

    # train the stateful LSTM on it and watch the progress reach 50/50
    butterfly.locator("input.train-pick").check()
    assert page.locator("#train-songs").inner_text() == "butterfly"
    page.select_option("#train-model", "stateful-lstm")
    page.click("#train")
    job = page.locator("#jobs article.job").first
    job.locator(".progress-text").filter(has_text=re.compile(r"epoch [1-9]\d*/500")).wait_for(
        timeout=120_000
    )
    page.screenshot(path=str(shots / "3-training.png"))
    job.locator(".messages").filter(has_text="full song 50/50").wait_for(timeout=240_000)
    page.wait_for_selector("#jobs article.job[data-status=done]", timeout=60_000)
    assert page.locator("#jobs article.job polyline[data-series=loss]").count() == 1
    page.screenshot(path=str(shots / "4-trained.png"))

    # generate from its first 4 notes: engraved, playable
    page.wait_for_selector("#gen-model option[value='butterfly-stateful-lstm']", state="attached")
    page.select_option("#gen-model", "butterfly-stateful-lstm")
    page.select_option("#primer-kind", "count")
    page.fill("#primer-count", "4")
    page.click("#generate")
    result = page.locator("#results article.result").first
    result.wait_for()
    assert "50/50 generated notes match butterfly" in result.inner_text()
    page.wait_for_function(f"() => ({LOADED})(document.querySelector('#results img.score'))")
    assert result.locator("audio").count() == 1
    page.screenshot(path=str(shots / "5-generated.png"), full_page=True)
    result.locator("select.marks").select_option("surprise")
    assert result.locator(".legend-surprise").is_visible()
    page.wait_for_function(
        f"() => ({LOADED})(document.querySelector('#results img.score[src*=surprise]'))"
    )
    page.screenshot(path=str(shots / "6-surprise.png"), full_page=True)

    # download the MIDI and read it back: it is butterfly
    with page.expect_download() as download:
        result.locator("a.download[data-format=mid]").click()
    midi = tmp_path / download.value.suggested_filename
    download.value.save_as(midi)
    assert midi.suffix == ".mid"
    [song] = melodynet.read(midi)
    [original] = melodynet.read(BUTTERFLY)
    assert song.notes == original.notes


def test_errors_show_as_one_line(live_server, page, tmp_path):
    settings, base = live_server
    page.goto(f"{base}/?token={TOKEN}")
    page.wait_for_selector("body[data-ready=true]")
    bad = tmp_path / "mine.txt"
    bad.write_text("g8 e8 hello\n")
    page.set_input_files("#upload-file", str(bad))
    page.click("#upload")
    page.wait_for_selector("#error:not([hidden])")
    assert page.inner_text("#error-text") == (
        "mine.txt:1:7: cannot read token 'hello' (expected tinyNotation such as g8, c'4., "
        "f#8, b-4, r4 or 3/4)"
    )
    page.screenshot(path=str(tmp_path / "error.png"))


def test_without_the_token_nothing_is_served(live_server, page):
    settings, base = live_server
    response = page.goto(f"{base}/")
    assert response.status == 403
    assert "access token" in page.inner_text("body")


def test_pretrained_models_and_deleting(live_server, page, small_bundle, tmp_path):
    """The page lists the pretrained bundles apart from the person's own and generates from
    one; a result and an own bundle are deleted from the page (a pretrained one offers no
    delete)."""
    import shutil

    from melodynet.studio.models import pretrained_bundles

    settings, base = live_server
    shutil.copytree(small_bundle, settings.data / "models" / "mine")
    pretrained = [b["ref"] for b in pretrained_bundles() if not b.get("error")]
    page.goto(f"{base}/?token={TOKEN}")
    page.wait_for_selector("body[data-ready=true]")
    own = page.locator("#gen-model optgroup[label='Your models'] option")
    assert own.evaluate_all("os => os.map(o => o.value)") == ["mine"]
    shipped = page.locator("#gen-model option[data-pretrained]")
    assert shipped.evaluate_all("os => os.map(o => o.value)") == pretrained
    assert page.locator("#delete-model").is_visible()  # one's own is chosen first

    if pretrained:  # generate from the first pretrained bundle, through the page
        page.select_option("#gen-model", pretrained[0])
        assert "Pretrained, from" in page.inner_text("#gen-model-info")
        assert not page.locator("#delete-model").is_visible()
        page.fill("input[name=bars]", "4")
        page.fill("input[name=meter]", "3/4")
        page.click("#generate")
        result = page.locator("#results article.result").first
        result.wait_for()
        assert f"from {pretrained[0].removeprefix('pretrained:')} (pretrained)" in (
            result.inner_text()
        )
        page.wait_for_function(f"() => ({LOADED})(document.querySelector('#results img.score'))")
        page.screenshot(path=str(tmp_path / "pretrained.png"), full_page=True)
        # delete the result: gone from the page and from the studio
        result.locator("button.remove").click()
        page.wait_for_selector("#results p.empty")
        assert not list((settings.data / "results").glob("*.json"))
        page.select_option("#gen-model", "mine")

    # delete the own bundle (after saying yes to the question)
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#delete-model")
    page.wait_for_selector("#gen-model option[value=mine]", state="detached")
    assert not (settings.data / "models" / "mine").exists()
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    assert page.locator("#gen-model option[value=mine]").count() == 0
