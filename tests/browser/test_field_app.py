"""Herdwatch Field in Debian's headless Chromium against a real `herdwatch serve`.

The server is a subprocess the tests stop (the network is gone) and start again on the
same port; the browser keeps a profile on disk, so closing and reopening it is a tablet
restart. A proxy in front of the server loses answers after the server committed, and
cuts photo uploads half-way through a chunk.
"""

from __future__ import annotations

import io
import random
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from uuid import UUID

import pytest

from data.sqlite import SQLiteStore
from domain.records import ObservationQuery
from field_api.cli import main
from tests.browser.field_harness import CHROMIUM, POSITION, Proxy, Server, launch
from tests.conftest import IN_CI

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def playwright() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        (pytest.fail if IN_CI else pytest.skip)(f"no Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture
def field(tmp_path: Path) -> Iterator[SimpleNamespace]:
    db = tmp_path / "herdwatch.db"
    store = SQLiteStore(str(db))
    store.migrate()
    token = store.add_user("olga", "observer")
    store.close()
    server = Server(db)
    proxy = Proxy(server.port)
    yield SimpleNamespace(db=db, server=server, proxy=proxy, token=token, profile=tmp_path / "p")
    server.stop()
    proxy.close()


def _open(context: Any, url: str) -> Any:
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(url + "/field")
    page.wait_for_selector("body[data-ready='1']", state="attached")
    return page


def _sign_in(page: Any, token: str) -> None:
    page.get_by_label("Token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("#recorder:not([hidden])")
    # Controlled by the worker: from now on the page opens with no server.
    page.wait_for_function("navigator.serviceWorker.controller !== null")


def _record(page: Any, count: int, females: int, calves: int, population: str) -> None:
    page.get_by_label("Population").select_option(population)
    page.get_by_label("Count", exact=True).fill(str(count))
    page.get_by_label("Adult females", exact=True).fill(str(females))
    for _ in range(calves):  # the tally buttons, as gloved hands use them
        page.get_by_role("button", name="Calves +1").click()
    before = page.locator("#today li[data-id]").count()
    page.get_by_role("button", name="Save").click()
    page.wait_for_function(f"document.querySelectorAll('#today li[data-id]').length > {before}")


def _status(page: Any) -> dict[str, int]:
    data = page.get_by_role("status").evaluate("el => ({...el.dataset})")
    return {k: int(v) for k, v in data.items()}


def _wait_synced(page: Any, *, aside: int = 0, timeout_s: float = 40) -> None:
    page.wait_for_function(
        "([a]) => { const s = document.getElementById('status').dataset;"
        " return s.waiting === '0' && s.aside === String(a) && s.photosWaiting === '0'; }",
        arg=[aside],
        timeout=timeout_s * 1000,
    )


def _stored(db: Path) -> list[Any]:
    store = SQLiteStore(str(db))
    try:
        return store.query_observations(ObservationQuery(limit=1000)).items
    finally:
        store.close()


def _sightings(n: int, seed: int) -> list[tuple[int, int, int]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        count = rng.randint(3, 400)
        females = rng.randint(0, count // 2)
        out.append((count, females, rng.randint(0, min(2, count - females))))
    return out


def test_fifty_sightings_offline_survive_reloads_and_a_restart_and_are_stored_once(
    playwright: Any, field: SimpleNamespace
) -> None:
    field.server.start()
    context = launch(playwright, field.profile)
    page = _open(context, field.proxy.url)
    _sign_in(page, field.token)
    field.server.stop()  # the network is gone
    page.reload()
    page.wait_for_selector("body[data-ready='1']", state="attached")
    assert page.get_by_role("button", name="Save").is_visible()
    wanted = _sightings(50, seed=1)
    for count, females, calves in wanted:
        _record(page, count, females, calves, "lena-olenek")
    assert _status(page)["waiting"] == 50
    page.reload()
    page.wait_for_selector("body[data-ready='1']", state="attached")
    assert _status(page)["waiting"] == 50
    context.close()  # the tablet restarts
    context = launch(playwright, field.profile)
    page = _open(context, field.proxy.url)
    assert _status(page)["waiting"] == 50
    assert "50 waiting" in page.get_by_role("status").inner_text()
    field.server.start()
    _wait_synced(page)
    assert page.get_by_role("status").inner_text().startswith("0 waiting")
    stored = _stored(field.db)
    assert len(stored) == len({o.id for o in stored}) == 50
    got = sorted((o.count, o.composition.adult_females, o.composition.calves) for o in stored)
    assert got == sorted((c, f, k or None) for c, f, k in wanted)
    for obs in stored:
        assert (obs.lon, obs.lat) == (POSITION["longitude"], POSITION["latitude"])
        assert obs.accuracy_m == POSITION["accuracy"]
        assert obs.timezone == "Asia/Yakutsk" and obs.observer == "olga" and obs.revision == 1
    ids_on_tablet = page.eval_on_selector_all(
        "#today li[data-id]", "els => els.map(e => e.dataset.id)"
    )
    assert {UUID(i) for i in ids_on_tablet} == {o.id for o in stored}
    context.close()


def test_an_invalid_record_is_set_aside_and_lost_answers_store_once(
    playwright: Any, field: SimpleNamespace
) -> None:
    field.server.start(env={"HERDWATCH_EXTRA_POPULATIONS": "test-herd"})
    context = launch(playwright, field.profile)
    page = _open(context, field.proxy.url)
    _sign_in(page, field.token)
    field.server.stop()
    wanted = _sightings(50, seed=2)
    for i, (count, females, calves) in enumerate(wanted):
        _record(page, count, females, calves, "test-herd" if i == 17 else "yana-indigirka")
    # The server comes back without "test-herd": that one record is now refused (422),
    # and every fifth answer to a PUT is lost after the server committed it.
    field.proxy.drop = lambda method, path, n: (
        method == "PUT" and "/observations/" in path and n % 5 == 0
    )
    field.server.start()
    _wait_synced(page, aside=1, timeout_s=60)
    assert field.proxy.dropped >= 8
    print(f"{field.proxy.dropped} answers lost after commit, {field.proxy.seen} requests")
    stored = _stored(field.db)
    assert len(stored) == len({o.id for o in stored}) == 49
    assert all(o.revision == 1 and o.population == "yana-indigirka" for o in stored)
    aside = page.locator("#today li[data-state='aside']")
    assert aside.count() == 1
    assert "test-herd" in aside.locator(".reason").inner_text()
    assert "1 set aside" in page.get_by_role("status").inner_text()
    # Export, for a tablet that never sees a network again: a fresh server imports it.
    with page.expect_download() as download:
        page.get_by_role("button", name="Export").click()
    export = field.db.parent / "export.json"
    download.value.save_as(export)
    context.close()
    fresh = field.db.parent / "fresh.db"
    store = SQLiteStore(str(fresh))
    store.migrate()
    store.add_user("olga", "observer")
    store.close()
    assert main(["--database-url", f"sqlite:///{fresh}", "import-field", str(export)]) == 1
    assert {o.id for o in _stored(fresh)} == {o.id for o in stored}  # the set-aside one refused


def _photo(i: int, rng: random.Random) -> tuple[str, bytes]:
    """A JPEG or PNG of noise, 0.5-0.9 MB: two to four chunks each."""
    from PIL import Image

    side = rng.randint(300, 380)
    image = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
    out = io.BytesIO()
    if i % 2:
        image.save(out, "PNG")
        return f"photo-{i:02d}.png", out.getvalue()
    image.save(out, "JPEG", quality=98)
    return f"photo-{i:02d}.jpg", out.getvalue()


def test_twenty_photos_over_a_connection_cut_mid_upload_are_stored_byte_identical_once(
    playwright: Any, field: SimpleNamespace, tmp_path: Path
) -> None:
    rng = random.Random(3)
    photos = dict(_photo(i, rng) for i in range(20))
    files = []
    for name, data in photos.items():
        (tmp_path / name).write_bytes(data)
        files.append(str(tmp_path / name))
    field.server.start()
    # Every fifth chunk is cut half-way: the server never sees it, the app resumes.
    field.proxy.cut = lambda method, path, n: method == "PUT" and "/photos/" in path and n % 5 == 2
    context = launch(playwright, field.profile)
    page = _open(context, field.proxy.url)
    _sign_in(page, field.token)
    started = time.monotonic()
    for half in (files[:10], files[10:]):
        page.locator("#photos").set_input_files(half)
        _record(page, 30, 10, 0, "lena-olenek")
    _wait_synced(page, timeout_s=60)
    assert field.proxy.cuts >= 5
    store = SQLiteStore(str(field.db))
    try:
        stored = {
            p.name: store.photo_bytes(p.observation_id, p.name)
            for obs in store.query_observations(ObservationQuery()).items
            for p in store.list_photos(obs.id)
        }
        assert store._read_one("SELECT COUNT(*) FROM photo_uploads")[0] == 0
    finally:
        store.close()
    assert stored == photos  # every photo, each once, byte for byte
    print(
        f"20 photos, {sum(map(len, photos.values())):,} bytes, {field.proxy.cuts} cuts, "
        f"{time.monotonic() - started:.1f} s"
    )
    context.close()


def _wait_state(page: Any, state: str, n: int) -> None:
    page.wait_for_function(
        f"document.querySelectorAll(\"#today li[data-state='{state}']\").length === {n}"
    )


def _edit_last_count(page: Any, count: int) -> None:
    page.get_by_role("button", name="Edit last").click()
    page.get_by_role("button", name="Cancel edit").wait_for()  # the form holds the record now
    page.get_by_label("Count", exact=True).fill(str(count))
    page.get_by_role("button", name="Save").click()
    page.get_by_role("button", name="Cancel edit").wait_for(state="hidden")  # saved, form clear


def test_edits_go_by_patch_even_after_a_lost_answer_and_observers_keep_their_own(
    playwright: Any, field: SimpleNamespace
) -> None:
    store = SQLiteStore(str(field.db))
    ivan = store.add_user("ivan", "observer")
    store.close()
    field.server.start()
    context = launch(playwright, field.profile)
    page = _open(context, field.proxy.url)
    _sign_in(page, field.token)
    _record(page, 40, 10, 1, "lena-olenek")  # sent at once
    _wait_state(page, "sent", 1)
    _edit_last_count(page, 44)  # a sent record: PATCH on revision 1
    _wait_synced(page)
    # The next PUT is committed but its answer lost, and then the network goes.
    proxy = field.proxy

    def lose_then_go_offline(method: str, path: str, n: int) -> bool:
        if method == "PUT" and "/observations/" in path:
            proxy.offline = True
            return True
        return False

    proxy.drop = lose_then_go_offline
    _record(page, 70, 20, 2, "lena-olenek")
    page.wait_for_function("() => !!document.querySelector('#status .err')")
    _edit_last_count(page, 77)  # the server may hold it: this edit must not be a conflict
    proxy.drop, proxy.offline = (lambda method, path, n: False), False
    page.evaluate("window.dispatchEvent(new Event('online'))")
    _wait_synced(page)
    stored = {o.count: o for o in _stored(field.db)}
    assert sorted(stored) == [44, 77]
    assert stored[44].revision == 2 and stored[77].revision == 2  # each: create, then PATCH
    # Another observer on the same tablet sees only their own records.
    page.get_by_role("button", name="Sign out").click()
    _sign_in(page, ivan)
    assert page.locator("#today li[data-id]").count() == 0
    proxy.offline = True
    _record(page, 12, 0, 0, "taimyr")
    dialogs: list[str] = []
    page.once("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.get_by_role("button", name="Sign out").click()
    for _ in range(100):  # the dialog's event reaches Python a moment later
        if dialogs:
            break
        page.wait_for_timeout(50)
    assert dialogs and "not sent" in dialogs[0]
    assert page.locator("#recorder").is_visible()  # refused without a yes
    proxy.offline = False
    page.evaluate("window.dispatchEvent(new Event('online'))")
    _wait_synced(page)
    by_observer = sorted((o.observer, o.count) for o in _stored(field.db))
    assert by_observer == [("ivan", 12), ("olga", 44), ("olga", 77)]
    context.close()


def test_an_app_update_keeps_the_outbox_and_the_new_version_opens_offline(
    playwright: Any, field: SimpleNamespace
) -> None:
    field.server.start()
    context = launch(playwright, field.profile)
    page = _open(context, field.proxy.url)
    _sign_in(page, field.token)
    old = page.evaluate("JSON.parse(document.getElementById('field-config').textContent).version")
    field.proxy.offline = True
    for count in (5, 6):
        _record(page, count, 1, 0, "sundrun")
    # A new version of the app: another population makes another page and worker.
    field.server.stop()
    field.server.start(env={"HERDWATCH_EXTRA_POPULATIONS": "new-herd"})
    field.proxy.offline = False
    page.reload()
    page.wait_for_selector("body[data-ready='1']", state="attached")
    new = page.evaluate("JSON.parse(document.getElementById('field-config').textContent).version")
    assert new != old
    page.wait_for_function(
        "v => caches.keys().then(k => k.length === 1 && k[0] === 'herdwatch-field-' + v)"
        " .then(ok => ok && !!navigator.serviceWorker.controller)",
        arg=new,
    )
    _wait_synced(page)
    assert sorted(o.count for o in _stored(field.db)) == [5, 6]
    field.proxy.offline = True  # the updated app opens with no network
    page.reload()
    page.wait_for_selector("body[data-ready='1']", state="attached")
    assert page.locator("#population option[value='new-herd']").count() == 1
    context.close()
