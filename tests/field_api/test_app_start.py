"""A worker starts light, with every router listed, and refuses to start without a library."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from field_api.app import create_app
from field_api.libraries import MissingLibrary, require_libraries
from field_api.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("pandas", "scipy", "matplotlib", "folium", "reportlab", "geopandas")

_START = """
import json, sys
from field_api.app import create_app
from field_api.settings import Settings
app = create_app(Settings(database_url=sys.argv[1], _env_file=None))
modules = sorted(sys.modules)  # before the OpenAPI document below imports anything more
print(json.dumps({"modules": modules, "paths": sorted(app.openapi()["paths"])}))
"""


_PRELOADED = """
import json, sys
from fastapi.testclient import TestClient
from field_api.app import create_app
from field_api.settings import Settings
settings = Settings(database_url=sys.argv[1], preload=True, _env_file=None)
with TestClient(create_app(settings)):  # the lifespan of a served process runs
    print(json.dumps({"modules": sorted(sys.modules)}))
"""


_GROUPED_AT_START = """
import json, sys, time
from fastapi.testclient import TestClient
from data.sqlite import SQLiteStore
from field_api.app import create_app
from field_api.settings import Settings
from tests.reports.sample import sightings
store = SQLiteStore(sys.argv[1].removeprefix("sqlite:///"))
store.migrate()
store.add_observations(sightings(), actor="olga")
store.close()
settings = Settings(database_url=sys.argv[1], preload=True, _env_file=None)
app = create_app(settings)
with TestClient(app):  # no request is made
    deadline = time.monotonic() + 60
    saved_at = settings.herd_files_dir() / "current.json"
    while not saved_at.exists():  # grouped, then saved on a thread of its own
        assert time.monotonic() < deadline, "the herds were not grouped and saved at start"
        time.sleep(0.05)
    saved = True
    print(json.dumps({"modules": [], "builds": app.state.herd_cache.builds, "saved": saved}))
"""


def _fresh_start(tmp_path: Path) -> dict[str, list[str]]:
    """create_app() in a new interpreter: what it imported and which paths it serves."""
    return _run(_START, tmp_path)


def _run(script: str, tmp_path: Path) -> dict[str, list[str]]:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    out = subprocess.run(
        [sys.executable, "-c", script, url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    started: dict[str, list[str]] = json.loads(out)
    return started


def test_create_app_imports_no_heavy_library_and_under_a_thousand_modules(tmp_path: Path) -> None:
    started = _fresh_start(tmp_path)
    loaded = {name.split(".")[0] for name in started["modules"]}
    assert [name for name in HEAVY if name in loaded] == []
    assert len(started["modules"]) < 1000
    # Light, yet whole: the map, report and herd pages are all registered.
    for path in ("/maps/herd-counts", "/api/v1/reports", "/api/v1/herds", "/api/v1/counts"):
        assert path in started["paths"]


def test_preload_imports_the_map_and_report_libraries_at_start(tmp_path: Path) -> None:
    loaded = {name.split(".")[0] for name in _run(_PRELOADED, tmp_path)["modules"]}
    assert [name for name in HEAVY if name not in loaded] == []


def test_a_missing_library_stops_the_start_with_its_name() -> None:
    with pytest.raises(MissingLibrary, match="herdwatch_no_such_library \\(for maps\\)"):
        require_libraries({"folium": "maps", "herdwatch_no_such_library": "maps"})


def test_create_app_checks_the_lazily_loaded_libraries(monkeypatch: pytest.MonkeyPatch) -> None:
    import field_api.libraries

    monkeypatch.setitem(field_api.libraries.LAZY_LIBRARIES, "herdwatch_no_such_library", "tests")
    with pytest.raises(MissingLibrary, match="herdwatch_no_such_library"):
        create_app(Settings(_env_file=None))  # type: ignore[call-arg]


def test_preload_groups_the_herds_at_start_before_any_request(tmp_path: Path) -> None:
    started = _run(_GROUPED_AT_START, tmp_path)
    assert started["builds"] == 1 and started["saved"] is True
