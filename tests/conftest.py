"""Fixtures: one store fixture over every backend, an app client per role, fresh data per test."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from data.sqlite import SQLiteStore
from data.store import ObservationStore
from field_api.app import create_app
from field_api.settings import Settings

# A PostGIS store's herd grouping is saved in the user's cache by default (settings'
# herd_files): the suite's servers and commands save theirs in a cache of its own.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="herdwatch-test-cache-")
atexit.register(shutil.rmtree, os.environ["XDG_CACHE_HOME"], ignore_errors=True)
POSTGIS_URL = os.environ.get("HERDWATCH_TEST_POSTGIS_URL")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def postgis_store_in_fresh_schema() -> ObservationStore:
    """A PostGIS store in a throwaway schema; skips locally without a server, fails in CI."""
    if not POSTGIS_URL:
        message = "HERDWATCH_TEST_POSTGIS_URL is not set: PostGIS tests did not run"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from data.postgis import PostGISStore  # type: ignore[import-not-found,unused-ignore]

    return PostGISStore.from_url(POSTGIS_URL, schema=f"test_{uuid.uuid4().hex[:12]}")  # type: ignore[no-any-return,unused-ignore]


def _close(store: ObservationStore) -> None:
    drop = getattr(store, "drop_schema", None)
    if drop is not None:
        drop()
    store.close()


@pytest.fixture(params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ObservationStore]:
    """A fresh, migrated store on each backend (the contract suite runs against both)."""
    if request.param == "sqlite":
        opened: ObservationStore = SQLiteStore(str(tmp_path / "herdwatch.db"))
    else:
        opened = postgis_store_in_fresh_schema()
    opened.migrate()
    yield opened
    _close(opened)


@pytest.fixture
def pg() -> Iterator[Any]:
    """A fresh, migrated PostGIS store alone, for PostGIS-only tests."""
    opened: Any = postgis_store_in_fresh_schema()
    opened.migrate()
    yield opened
    _close(opened)


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SQLiteStore]:
    opened = SQLiteStore(str(tmp_path / "herdwatch.db"))
    opened.migrate()
    yield opened
    opened.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'herdwatch.db'}", _env_file=None)  # type: ignore[call-arg]


class Clients:
    """One TestClient per kind of caller, all on the same app and store."""

    def __init__(self, app: Any, store: ObservationStore) -> None:
        self.store = store
        self.tokens = {
            "olga": store.add_user("olga", "observer"),
            "ivan": store.add_user("ivan", "observer"),
            "rita": store.add_user("rita", "researcher"),
            "adam": store.add_user("adam", "admin"),
        }
        self.anonymous = TestClient(app)
        self.observer = self._client(app, "olga")
        self.other_observer = self._client(app, "ivan")
        self.researcher = self._client(app, "rita")
        self.admin = self._client(app, "adam")
        self.bad_token = TestClient(app, headers={"Authorization": "Bearer not-a-real-token"})

    @staticmethod
    def _headers(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def _client(self, app: Any, name: str) -> TestClient:
        return TestClient(app, headers=self._headers(self.tokens[name]))

    def by_role(self) -> dict[str, TestClient]:
        return {
            "anonymous": self.anonymous,
            "bad_token": self.bad_token,
            "observer": self.observer,
            "other_observer": self.other_observer,
            "researcher": self.researcher,
            "admin": self.admin,
        }


@pytest.fixture
def api(store: ObservationStore, settings: Settings) -> Iterator[Clients]:
    """Clients for every role on an app over the parametrised store (both backends)."""
    app = create_app(settings, store)
    with TestClient(app):  # runs the lifespan once
        yield Clients(app, store)


@pytest.fixture
def sqlite_api(sqlite_store: SQLiteStore, settings: Settings) -> Iterator[Clients]:
    """Clients for every role on an app over SQLite only (behaviour tests of the HTTP layer)."""
    app = create_app(settings, sqlite_store)
    with TestClient(app):
        yield Clients(app, sqlite_store)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under CI=true a skipped test is a failure: CI runs everything."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    postgis_ran = 0
    if reporter:
        # By marker (the store fixture's postgis parameter carries it), not by name.
        passed = reporter.stats.get("passed", [])
        postgis_ran = sum(1 for r in passed if r.when == "call" and "postgis" in r.keywords)
        reporter.write_line(f"PostGIS tests that ran and passed: {postgis_ran}")
    if IN_CI and skipped:
        if reporter:
            reporter.write_line(f"CI=true: {skipped} skipped test(s) count as failures")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
