"""Screenshots of Herdwatch Field on a tablet-sized viewport, in English and Russian.

    .venv/bin/python scripts/field_screenshots.py      # writes docs/field-en.png, field-ru.png

Runs a throwaway server over a temp database, signs in, records three sightings (the
server stopped for the last one, so the status shows one waiting) and takes the pictures.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import sync_playwright  # noqa: E402

from data.sqlite import SQLiteStore  # noqa: E402
from tests.browser.field_harness import Server, launch  # noqa: E402

DOCS = Path(__file__).resolve().parents[1] / "docs"


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    store = SQLiteStore(str(tmp / "h.db"))
    store.migrate()
    token = store.add_user("olga", "observer")
    store.close()
    server = Server(tmp / "h.db")
    server.start()
    try:
        with sync_playwright() as pw:
            context = launch(pw, tmp / "profile")
            page = context.pages[0] if context.pages else context.new_page()
            page.set_viewport_size({"width": 800, "height": 1280})
            page.goto(server.url + "/field")
            page.wait_for_selector("body[data-ready='1']", state="attached")
            page.get_by_label("Token").fill(token)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_function("navigator.serviceWorker.controller !== null")
            for i, (count, females, calves) in enumerate([(120, 50, 31), (43, 20, 9), (260, 0, 0)]):
                if i == 2:
                    page.wait_for_function(
                        "document.querySelectorAll(\"#today li[data-state='sent']\").length === 2"
                    )
                    server.stop()
                page.get_by_label("Population").select_option("lena-olenek")
                page.get_by_label("Survey").fill("lena-2026-spring")
                page.get_by_label("Count", exact=True).fill(str(count))
                page.get_by_label("Adult females", exact=True).fill(str(females))
                page.get_by_label("Calves", exact=True).fill(str(calves))
                page.get_by_role("button", name="Save").click()
                page.wait_for_function(
                    f"document.querySelectorAll('#today li[data-id]').length > {i}"
                )
            page.wait_for_function("document.getElementById('status').dataset.waiting === '1'")
            page.get_by_label("Count", exact=True).fill("85")
            page.get_by_label("Adult females", exact=True).fill("30")
            page.screenshot(path=str(DOCS / "field-en.png"))
            page.get_by_label("Language").select_option("ru")
            page.wait_for_selector("html[lang='ru']", state="attached")
            page.screenshot(path=str(DOCS / "field-ru.png"))
            context.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
