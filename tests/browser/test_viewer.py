"""The viewer in Debian's headless Chromium, served by a real uvicorn, with no internet.

Signs in through the form, checks that cells and the Sakha boundary are drawn, moves the
time slider, switches a population off, applies a filter, saves screenshots, and asserts
that every request the page made went to the test server.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlparse

import pytest
import uvicorn

from data.demo import demo_dataset
from data.sqlite import SQLiteStore
from field_api.app import create_app
from field_api.settings import Settings
from maps import assets
from tests.conftest import IN_CI

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("HERDWATCH_CHROMIUM", "/usr/bin/chromium")
# Chromium's own background traffic would otherwise try Google's hosts (no network here).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _need(ok: bool, message: str) -> None:
    if not ok:
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """A real server on a free loopback port over a temp SQLite store of SYNTHETIC demo data."""
    _need(Path(CHROMIUM).exists(), f"no Chromium at {CHROMIUM}")
    _need(not assets.missing_files(), assets.INSTALL_HINT)
    db = tmp_path_factory.mktemp("viewer") / "herdwatch.db"
    store = SQLiteStore(str(db))
    store.migrate()
    surveys, observations = demo_dataset(per_survey=4)
    for survey in surveys:
        store.add_survey(survey)
    store.add_observations(observations, actor="demo")
    token = store.add_user("rita", "researcher")
    admin_token = store.add_user("adam", "admin")
    # Tiles from the test server itself: they 404, as at a field station with no tile server.
    settings = Settings(
        database_url=f"sqlite:///{db}",
        tile_url="/tiles/{z}/{x}/{y}.png",
        tile_attribution="no tiles in tests",
        _env_file=None,
    )  # type: ignore[call-arg]
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, store),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            access_log=False,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield SimpleNamespace(
        url=f"http://127.0.0.1:{port}",
        host=f"127.0.0.1:{port}",
        token=token,
        admin_token=admin_token,
        observations=observations,
    )
    server.should_exit = True
    thread.join(timeout=10)
    store.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, served):
    context = browser.new_context(viewport={"width": 1400, "height": 860})
    opened = context.new_page()
    opened.requests = []
    opened.errors = []
    opened.on("request", lambda request: opened.requests.append(request.url))
    opened.on("pageerror", lambda error: opened.errors.append(str(error)))
    # A Content-Security-Policy violation is reported on the console: count it as an error.
    opened.on(
        "console",
        lambda m: opened.errors.append(m.text) if "Content Security Policy" in m.text else None,
    )
    yield opened
    context.close()


def _sign_in(page, served, path: str = "/viewer") -> None:
    page.goto(served.url + path)
    assert urlparse(page.url).path == "/login"
    page.fill("#token", served.token)
    page.click("#sign-in")
    page.wait_for_selector("path.hw-cell")


def _drawn(page) -> list[str]:
    script = "els => els.map(e => e.getAttribute('class') + e.getAttribute('d'))"
    drawn: list[str] = page.eval_on_selector_all("path.hw-cell", script)
    return drawn


def _clickable_cell(page) -> tuple[float, float]:
    """The centre of a drawn cell that nothing (a cluster, a control) covers."""
    page.wait_for_function("() => !document.querySelector('.leaflet-zoom-anim')")
    point = page.evaluate("""() => {
        for (const el of document.querySelectorAll("path.hw-cell")) {
            const r = el.getBoundingClientRect(), x = r.x + r.width / 2, y = r.y + r.height / 2;
            if (r.width > 6 && document.elementFromPoint(x, y) === el) { return [x, y]; }
        }
        return null; }""")
    assert point, "every cell is covered"
    return point[0], point[1]


def _number(page, selector: str) -> int:
    return int(page.inner_text(selector).replace(",", ""))


def _assert_only_test_server(page, served) -> None:
    remote = [u for u in page.requests if urlparse(u).scheme in ("http", "https", "ws", "wss")]
    assert remote, "the page made no request at all?"
    strangers = [u for u in remote if urlparse(u).netloc != served.host]
    assert strangers == [], f"requests to other hosts: {strangers[:5]}"


def test_viewer_signs_in_draws_slides_toggles_and_filters(page, served, artifacts_dir):
    _sign_in(page, served)
    assert urlparse(page.url).path == "/viewer"
    # The map draws: cells, the Sakha boundary (tiles 404 here), the legend and the slider.
    assert page.locator("path.hw-boundary-sakha").count() >= 1
    assert page.locator("path.hw-boundary").count() >= 5
    latest = page.inner_text("#hw-period-label")
    assert latest == "2025" and page.inner_text("#hw-legend-period") == "2025"
    before = _drawn(page)
    assert len(before) > 10
    page.mouse.click(*_clickable_cell(page))
    popup = page.wait_for_selector(".hw-popup")
    # By default the map shows de-duplicated herds, as the report counts them.
    text = popup.inner_text()
    assert "minimum count" in text and "herds (" in text and "EPSG:3576" in text
    page.screenshot(path=str(artifacts_dir / "viewer.png"))

    # Moving the time slider changes what is drawn, and the totals row follows it.
    page.focus("#hw-period-slider")
    page.keyboard.press("Home")
    assert page.inner_text("#hw-period-label") == "2019"
    assert _drawn(page) != before and len(_drawn(page)) > 10
    assert page.inner_text("#hw-totals tr.hw-current th") == "2019"
    page.click("#hw-next")
    assert page.inner_text("#hw-period-label") == "2020"

    # A population switched off in the layer control disappears, and comes back.
    overlays = page.locator(".leaflet-control-layers-overlays label")
    sundrun = overlays.filter(has_text="Sundrun").locator("input")
    assert page.locator("path.hw-pop-sundrun").count() > 0
    sundrun.uncheck()
    assert page.locator("path.hw-pop-sundrun").count() == 0
    assert page.locator("path.hw-pop-lena-olenek").count() > 0
    sundrun.check()
    assert page.locator("path.hw-pop-sundrun").count() > 0

    # A filter (one population, monthly periods) changes the totals to that population's.
    everything = _number(page, "#hw-total-animals")
    for box in page.locator("#hw-populations input").all():
        if box.get_attribute("value") != "yana-indigirka":
            box.uncheck()
    page.select_option("select[name=every]", "month")
    page.select_option("select[name=view]", "sightings")  # raw sightings: sums of counts
    page.click("#hw-apply")
    page.wait_for_selector("path.hw-cell")
    expected = sum(o.count for o in served.observations if o.population == "yana-indigirka")
    assert _number(page, "#hw-total-animals") == expected != everything
    yana = page.locator("path.hw-pop-yana-indigirka").count()
    assert page.locator("path.hw-cell").count() == yana > 0
    assert "population=yana-indigirka" in page.url and "every=month" in page.url
    assert "view=sightings" in page.url
    export = page.get_attribute("#hw-export-csv", "href")
    assert export == "/api/v1/observations.csv?population=yana-indigirka"
    page.screenshot(path=str(artifacts_dir / "viewer-filtered.png"))

    assert page.errors == []
    assert any("/tiles/" in u for u in page.requests)  # tiles were asked of our own server
    _assert_only_test_server(page, served)


def test_saved_map_page_draws_with_no_requests_but_its_own(page, served, artifacts_dir):
    _sign_in(page, served, "/viewer?population=forest&every=season")
    page.goto(served.url + "/maps/herd-counts?population=forest&every=season")
    page.wait_for_selector("path.hw-cell")
    assert page.locator("path.hw-pop-forest").count() == page.locator("path.hw-cell").count() > 0
    label = page.inner_text("#hw-period-label")
    assert label.startswith("2025-") or label.startswith("2024-")
    # Few sightings: drawn one by one, in clusters, for the period on the slider.
    assert page.locator(".marker-cluster, .hw-sighting").count() > 0
    assert page.errors == []
    _assert_only_test_server(page, served)
