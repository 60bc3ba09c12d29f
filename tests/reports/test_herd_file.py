"""A grouping saved to disk starts a new process's herd cache, and only where it is this
store's (reports/herd_file.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from data.sqlite import SQLiteStore
from domain.seasons import SeasonCalendar
from reports import herd_file
from reports.herd_cache import HerdCache
from reports.herds import build_herds, load_inputs
from tests.reports.test_herd_update import _assert_same, _sighting, _store_with_weeks

SEASONS = SeasonCalendar()


def _saved(store, files: Path) -> HerdCache:
    cache = HerdCache(files=files)
    cache.herds(store, SEASONS)
    cache.wait_for_save()
    return cache


def _full(store):
    return build_herds(load_inputs(store))


def test_a_new_process_starts_from_the_saved_grouping(store, tmp_path) -> None:
    _store_with_weeks(store, np.random.default_rng(3), per_week=30)
    files = tmp_path / "herds"
    first = _saved(store, files)
    assert first.builds == 1 and first.loaded == 0
    assert (files / herd_file.POINTER).exists() and len(list(files.glob("*.arrow"))) == 3
    again = HerdCache(files=files)  # another worker, or the same after a restart
    inputs, tables = again.herds(store, SEASONS)
    assert again.loaded == 1 and again.builds == 0  # read, not grouped
    assert inputs.data_version == store.data_version()
    assert inputs.surveys == load_inputs(store).surveys
    _assert_same(tables, _full(store))


def test_a_saved_grouping_some_uploads_old_is_brought_up_to_date(store, tmp_path) -> None:
    rng = np.random.default_rng(4)
    _store_with_weeks(store, rng, per_week=30)
    files = tmp_path / "herds"
    _saved(store, files)
    store.add_observations([_sighting(rng, f"later/{k}", 3) for k in range(6)], actor="ivan")
    cache = HerdCache(files=files)
    _, tables = cache.herds(store, SEASONS)
    assert (cache.loaded, cache.updates, cache.builds) == (1, 1, 1)
    _assert_same(tables, _full(store))
    cache.wait_for_save()  # a regrouped one is saved too, in place of the first
    assert len(list(files.glob("*.arrow"))) == 3
    newer = HerdCache(files=files)
    newer.herds(store, SEASONS)
    assert (newer.loaded, newer.builds) == (1, 0)


def test_another_store_at_the_same_path_does_not_use_it(tmp_path) -> None:
    path, files = tmp_path / "h.db", tmp_path / "herds"
    first = SQLiteStore(str(path))
    first.migrate()
    _store_with_weeks(first, np.random.default_rng(5), per_week=20)
    _saved(first, files)
    first.close()
    path.unlink()
    # The same URL, as many revisions, other sightings (a restored copy, a new store).
    other = SQLiteStore(str(path))
    other.migrate()
    _store_with_weeks(other, np.random.default_rng(6), per_week=20)
    cache = HerdCache(files=files)
    _, tables = cache.herds(other, SEASONS)
    assert cache.loaded == 0 and cache.builds == 1
    _assert_same(tables, _full(other))
    other.close()


def test_other_seasons_or_other_herd_code_do_not_use_it(store, tmp_path, monkeypatch) -> None:
    _store_with_weeks(store, np.random.default_rng(7), per_week=10)
    files = tmp_path / "herds"
    _saved(store, files)
    other_seasons = SeasonCalendar(starts=(("summer", "05-01"), ("winter", "10-01")))
    cache = HerdCache(files=files)
    cache.herds(store, other_seasons)
    assert cache.loaded == 0 and cache.builds == 1
    monkeypatch.setattr(herd_file, "herd_code_hash", lambda: "another")
    cache = HerdCache(files=files)
    cache.herds(store, SEASONS)
    assert cache.loaded == 0 and cache.builds == 1


def test_a_damaged_file_is_built_again_not_trusted(store, tmp_path) -> None:
    _store_with_weeks(store, np.random.default_rng(8), per_week=10)
    files = tmp_path / "herds"
    _saved(store, files)
    herds_file = next(files.glob("*.herds.arrow"))
    herds_file.write_bytes(herds_file.read_bytes()[:200])
    cache = HerdCache(files=files)
    _, tables = cache.herds(store, SEASONS)
    assert cache.loaded == 0 and cache.builds == 1
    _assert_same(tables, _full(store))
    (files / herd_file.POINTER).write_text("{not json")
    cache = HerdCache(files=files)
    cache.herds(store, SEASONS)
    assert cache.loaded == 0 and cache.builds == 1


def test_an_unwritable_directory_costs_the_request_nothing(store, tmp_path, caplog) -> None:
    _store_with_weeks(store, np.random.default_rng(9), per_week=10)
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    cache = HerdCache(files=blocked / "herds")
    _, tables = cache.herds(store, SEASONS)
    cache.wait_for_save()
    _assert_same(tables, _full(store))
    assert "was not saved" in caplog.text


def test_the_setting_names_where_groupings_are_saved(tmp_path, monkeypatch) -> None:
    from field_api.settings import Settings

    def where(value: str, url: str) -> Path | None:
        made = Settings(database_url=url, herd_files=value, _env_file=None)  # type: ignore[call-arg]
        return made.herd_files_dir()

    assert where("auto", "sqlite:///data/h.db") == Path("data/h.db.herds")
    assert where("auto", "sqlite:////srv/h.db") == Path("/srv/h.db.herds")
    # PostGIS has no file of its own to sit beside: one directory per store in the cache.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    herds = where("auto", "postgresql://u:pw@db/herds")
    assert herds is not None and herds.parent == tmp_path / "cache" / "herdwatch"
    assert herds == where("auto", "postgresql://u:other@db/herds")  # not the password
    assert herds != where("auto", "postgresql://u:pw@db/herds?options=-csearch_path%3Dother")
    assert "pw" not in herds.name
    assert (tmp_path / "cache" / "herdwatch").stat().st_mode & 0o777 == 0o700  # the user's only
    # A relative XDG_CACHE_HOME is ignored, as the XDG spec says: ~/.cache.
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    assert where("auto", "postgresql://db/herds").parent == tmp_path / "home/.cache/herdwatch"
    # No cache to write in (a service user's home is /nonexistent): nothing saved.
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    assert where("auto", "postgresql://db/herds") is None
    assert where("auto", "sqlite:///:memory:") is None
    assert where("off", "sqlite:///h.db") is None
    assert where(str(tmp_path), "postgresql://db/herds") == tmp_path


def test_a_restored_copy_with_other_decisions_does_not_use_it(tmp_path) -> None:
    import sqlite3
    import uuid
    from datetime import timedelta

    from data.herds import HerdDecision
    from tests.factories import BASE_TIME, make_observation

    path, files = tmp_path / "h.db", tmp_path / "herds"
    store = SQLiteStore(str(path))
    store.migrate()
    a, b, c = (
        make_observation(0, id=uuid.uuid5(uuid.NAMESPACE_URL, k), observed_at=BASE_TIME + dt)
        for k, dt in (("A", timedelta()), ("B", timedelta(hours=2)), ("C", timedelta(hours=3)))
    )
    store.add_observations([a, b, c], actor="olga")
    with sqlite3.connect(path) as live, sqlite3.connect(tmp_path / "backup.db") as backup:
        live.backup(backup)
    store.add_herd_decision(HerdDecision(action="merge", observation_ids=(a.id, c.id), actor="o"))
    _saved(store, files)
    store.close()
    # Restored from the copy (SQLite's backup API, as `sqlite3 .restore`), then given as
    # many other decisions.
    with sqlite3.connect(tmp_path / "backup.db") as backup, sqlite3.connect(path) as live:
        backup.backup(live)
    store = SQLiteStore(str(path))
    store.add_herd_decision(HerdDecision(action="reject", observation_ids=(a.id, b.id), actor="o"))
    cache = HerdCache(files=files)
    _, tables = cache.herds(store, SEASONS)
    assert cache.loaded == 0 and cache.builds == 1
    _assert_same(tables, _full(store))
    store.close()


def test_the_saved_file_holds_no_password(tmp_path) -> None:
    url = "postgresql://herdwatch:s3cret@db.example:5432/herds"
    assert "s3cret" not in herd_file.store_identity(url)
    assert herd_file.store_identity(url) == herd_file.store_identity(url.replace("s3cret", "new"))
    assert herd_file.store_identity(url) != herd_file.store_identity(url.replace("herds", "other"))


def test_the_check_and_the_read_agree_on_what_can_be_used(store, tmp_path) -> None:
    """`usable` (what `herdwatch migrate` and `serve` ask, without reading the files) says
    yes exactly where `load` reads the grouping: a file gone, cut short or a pointer
    without its fields, and both say no (migrate then groups again)."""
    import json

    _store_with_weeks(store, np.random.default_rng(8), per_week=20)
    files = tmp_path / "herds"
    _saved(store, files)
    assert herd_file.usable(files, store, SEASONS)
    assert herd_file.load(files, store, SEASONS) is not None
    pointer = json.loads((files / herd_file.POINTER).read_text())
    herds = files / f"{pointer['token']}.herds.arrow"
    whole = herds.read_bytes()
    for damage in ("cut short", "gone", "no n_herds"):
        if damage == "cut short":
            herds.write_bytes(whole[: len(whole) // 2])
        elif damage == "gone":
            herds.unlink()
        else:
            herds.write_bytes(whole)
            (files / herd_file.POINTER).write_text(
                json.dumps({k: v for k, v in pointer.items() if k != "n_herds"})
            )
        assert not herd_file.usable(files, store, SEASONS), damage
        assert herd_file.load(files, store, SEASONS) is None, damage


def test_the_check_loads_no_pandas_pyarrow_or_scipy(tmp_path) -> None:
    """`herdwatch migrate` over a store with its grouping saved stays a light command."""
    import subprocess
    import sys

    from field_api.cli import main

    db = tmp_path / "h.db"
    assert main(["--database-url", f"sqlite:///{db}", "migrate"]) == 0
    assert main(["--database-url", f"sqlite:///{db}", "demo", "--per-survey", "3"]) == 0
    assert main(["--database-url", f"sqlite:///{db}", "migrate"]) == 0  # groups, saves
    assert (tmp_path / "h.db.herds" / herd_file.POINTER).exists()
    probe = (
        "import sys; from field_api.cli import main; "
        f"code = main(['--database-url', 'sqlite:///{db}', 'migrate']); "
        "print(code, sorted({'pandas', 'pyarrow', 'scipy'} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.stdout.splitlines() == ["schema is up to date", "0 []"], done.stderr
