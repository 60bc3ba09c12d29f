"""The viewer in Russian and English in headless Chromium: a browser that asks for Russian
(Accept-Language: ru) reads no English word outside proper names and units, popups and
legend included; the switch changes the language, and the cookie keeps it on reload and
on the other pages, until it is switched back.

The Russian screenshot is saved in the artifacts (docs/images/viewer-ru.png is one of them).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import pytest

from tests.browser.test_viewer import (  # noqa: F401 (a fixture)
    CHROMIUM,
    CHROMIUM_ARGS,
    _assert_only_test_server,
    _clickable_cell,
    served,
)
from tests.untranslated import latin_words, untranslated

pytestmark = pytest.mark.browser

# The side panel's Area field shows its format; the user is the one signed in.
ALLOWED = frozenset({"rita", "minLon", "minLat", "maxLon", "maxLat"})
TEXT_SHOWN = """() => {
  // What a reader sees, but the attribution (the tile server's own credit line) and code.
  const clone = document.body.cloneNode(true);
  const aside = ".leaflet-control-attribution, script, style, code";
  clone.querySelectorAll(aside).forEach(e => e.remove());
  document.body.appendChild(clone); clone.style.position = "absolute";
  const text = clone.innerText; clone.remove(); return text; }"""


@pytest.fixture(scope="module")
def russian_browser() -> Iterator[Any]:
    """Chromium with a Russian interface, as a Russian reader's: its date fields read
    дд.мм.гггг (a page cannot choose that; the browser's own language, on Linux taken from
    LANGUAGE, does)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[*CHROMIUM_ARGS, "--lang=ru"],
            env={**os.environ, "LANGUAGE": "ru", "LANG": "ru_RU.UTF-8"},
        )
        yield launched
        launched.close()


@pytest.fixture
def russian(russian_browser, served):  # noqa: F811
    """A page in that browser; it sends Accept-Language: ru."""
    context = russian_browser.new_context(
        viewport={"width": 1400, "height": 860},
        locale="ru-RU",
        extra_http_headers={"Accept-Language": "ru"},
    )
    opened = context.new_page()
    opened.requests, opened.errors = [], []
    opened.on("request", lambda request: opened.requests.append(request.url))
    opened.on("pageerror", lambda error: opened.errors.append(str(error)))
    opened.on(
        "console",
        lambda m: opened.errors.append(m.text) if "Content Security Policy" in m.text else None,
    )
    yield opened
    context.close()


def shown(page: Any) -> str:
    text: str = page.evaluate(TEXT_SHOWN)
    return text


def assert_no_english(page: Any) -> None:
    text = shown(page)
    assert untranslated(text) == [], text
    assert latin_words(text, ALLOWED) == [], text


def sign_in(page: Any, served: Any) -> None:  # noqa: F811
    page.goto(served.url + "/viewer")
    assert urlparse(page.url).path == "/login"
    assert page.inner_text("label[for=token]") == "Токен доступа"
    assert_no_english(page)
    page.fill("#token", served.token)
    page.click("#sign-in")
    page.wait_for_selector("path.hw-cell")


def test_viewer_in_russian_then_english_and_back(russian, served, artifacts_dir):  # noqa: F811
    page = russian
    sign_in(page, served)
    assert page.get_attribute("html", "lang") == "ru"
    assert page.inner_text("#hw-side h1") == "Учтённые дикие северные олени"
    assert page.inner_text("#hw-legend-period") == "2025"
    assert page.inner_text(".hw-legend-title").startswith("Минимальная численность")
    total = page.inner_text("#hw-total-animals")
    assert "\u00a0" in total and "," not in total  # "27 092": grouped by a no-break space
    page.mouse.click(*_clickable_cell(page))
    popup = page.wait_for_selector(".hw-popup").inner_text()
    assert "минимальная численность" in popup and "ячейка" in popup and "км" in popup
    assert_no_english(page)  # the popup, the legend, the slider and the layers included
    labels = [page.get_attribute(s, "aria-label") for s in ("#hw-prev", "#hw-next")]
    assert labels == ["предыдущий период", "следующий период"]
    assert page.get_attribute(".leaflet-control-zoom-in", "title") == "Приблизить"
    page.screenshot(path=str(artifacts_dir / "viewer-ru.png"))

    # Monthly periods are named: "март 2024", not "2024-03".
    page.select_option("select[name=every]", "month")
    page.click("#hw-apply")
    page.wait_for_selector("path.hw-cell")
    label = page.inner_text("#hw-period-label")
    assert label.split()[0] in MONTHS_RU and label.split()[1].isdigit()
    assert_no_english(page)

    # The switch: English now, kept on reload (Accept-Language still asks for Russian).
    page.click("#hw-lang-en")
    page.wait_for_selector("path.hw-cell")
    assert urlparse(page.url).path == "/viewer" and "every=month" in page.url
    english = shown(page)
    assert "Populations" in english and "Export what is shown:" in english
    assert page.inner_text("#hw-side h1") == "Wild reindeer counted"
    cookie = next(c for c in page.context.cookies() if c["name"] == "herdwatch_lang")
    assert cookie["value"] == "en" and cookie["path"] == "/" and cookie["sameSite"] == "Lax"
    assert cookie["expires"] > time.time() + 360 * 24 * 3600  # a year
    page.reload()
    page.wait_for_selector("path.hw-cell")
    assert page.inner_text("#hw-side h1") == "Wild reindeer counted"
    # ... and on the other pages.
    page.goto(served.url + "/maps/herd-counts?population=forest&every=season")
    page.wait_for_selector("path.hw-cell")
    assert "Totals per season" in shown(page)

    # And back to Russian, kept as well.
    page.click("#hw-lang-ru")
    page.wait_for_selector("path.hw-cell")
    assert "Итоги по сезонам" in shown(page)
    assert_no_english(page)
    page.goto(served.url + "/viewer")
    page.wait_for_selector("path.hw-cell")
    assert page.inner_text("#hw-side h1") == "Учтённые дикие северные олени"
    assert page.errors == []  # no script error, no Content-Security-Policy violation
    _assert_only_test_server(page, served)


MONTHS_RU = {
    "январь",
    "февраль",
    "март",
    "апрель",
    "май",
    "июнь",
    "июль",
    "август",
    "сентябрь",
    "октябрь",
    "ноябрь",
    "декабрь",
}
