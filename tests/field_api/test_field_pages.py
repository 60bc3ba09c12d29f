"""The field app's files: page, manifest, worker scope and version, icons, no CDN."""

from __future__ import annotations

import json
import re

from tests.conftest import Clients


def test_page_names_every_control_and_loads_only_this_server(sqlite_api: Clients) -> None:
    page = sqlite_api.anonymous.get("/field")
    assert page.status_code == 200
    html = page.text
    for label in ("Token", "Count", "Adult females", "Calves", "Population", "Survey", "Notes"):
        assert re.search(rf"<label for=\"\w+\"[^>]*>{label}</label>", html), label
    for button in ("Sign in", "Sign out", "Save", "Edit last", "Export"):
        assert f">{button}</button>" in html, button
    assert 'role="status"' in html
    assert not re.search(r"(src|href)=\"(https?:)?//", html)  # nothing from a CDN
    config = json.loads(
        re.search(r'id="field-config" type="application/json">(.*?)</script>', html).group(1)
    )
    assert "lena-olenek" in config["populations"]


def test_worker_is_scoped_to_field_and_lists_the_shell(sqlite_api: Clients) -> None:
    worker = sqlite_api.anonymous.get("/field/sw.js")
    assert worker.headers["service-worker-allowed"] == "/field"
    assert worker.headers["content-type"].startswith("text/javascript")
    shell = json.loads(re.search(r"const SHELL = (\[.*?\]);", worker.text).group(1))
    for url in shell:
        assert sqlite_api.anonymous.get(url).status_code == 200, url
    assert "/field" in shell and any(u.startswith("/field/app/app.js?v=") for u in shell)


def test_manifest_icons_and_unknown_files(sqlite_api: Clients) -> None:
    manifest = sqlite_api.anonymous.get("/field/manifest.webmanifest").json()
    assert manifest["scope"] == manifest["start_url"] == "/field"
    for icon in manifest["icons"]:
        body = sqlite_api.anonymous.get(icon["src"]).content
        assert body.startswith(b"\x89PNG")
    assert sqlite_api.anonymous.get("/field/icon-7.png").status_code == 404
    assert sqlite_api.anonymous.get("/field/app/sw.js").status_code == 404
    assert sqlite_api.anonymous.get("/field/app/..%2Fsettings.py").status_code == 404


def test_catalogues_have_the_same_keys(sqlite_api: Clients) -> None:
    en = sqlite_api.anonymous.get("/field/app/messages-en.json").json()
    ru = sqlite_api.anonymous.get("/field/app/messages-ru.json").json()
    assert set(en) == set(ru) and en["signin.token"] == "Token" and ru["f.count"] == "Численность"
