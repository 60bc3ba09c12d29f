"""`herdwatch transfer`: SQLite → PostGIS → SQLite leaves every record byte-for-byte the same."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from data.herds import HerdDecision
from data.photos import make_photo
from data.sqlite import SQLiteStore
from data.store import ObservationStore
from domain.records import Survey, observation_to_dict
from field_api.cli import main
from tests.conftest import postgis_store_in_fresh_schema
from tests.factories import BASE_TIME, make_batch, make_observation
from tests.photo_files import image_bytes


def _fill(store: ObservationStore) -> dict[str, str]:
    """Every kind of record: edits, a move, a retraction, flags, surveys, users, tokens."""
    store.add_survey(
        Survey(
            id="aerial-2024-07",
            method="aerial",
            started_at=BASE_TIME,
            ended_at=BASE_TIME + timedelta(hours=5),
            name="Lena delta flight",
            team=("olga", "ivan"),
            platform="Mi-8",
            geometry={"type": "LineString", "coordinates": [[128.1, 71.2], [129.4, 71.9]]},
            created_by="adam",
        )
    )
    store.add_survey(
        Survey(id="foot-2024-09", method="foot", started_at=BASE_TIME, created_by="olga")
    )
    batch = make_batch(25, survey_id="aerial-2024-07")
    batch.append(make_observation(100, lon=-75.0, lat=45.0, flags=("synthetic",), notes="Ottawa?"))
    batch.append(
        make_observation(
            101,
            timezone="Asia/Srednekolymsk",
            observed_at=datetime(2023, 12, 31, 23, 30, 0, 123456, tzinfo=BASE_TIME.tzinfo),
        )
    )
    store.add_observations(batch[:13], actor="olga")
    store.add_observations(batch[13:], actor="ivan")
    store.update_observation(
        batch[2].id, {"count": 5, "notes": "recount"}, base_revision=1, actor="olga"
    )
    store.update_observation(
        batch[2].id, {"lon": 140.25, "lat": 70.5}, base_revision=2, actor="adam"
    )
    store.retract_observation(batch[4].id, actor="olga", reason="double entry")
    store.add_herd_decision(HerdDecision("merge", (batch[0].id, batch[1].id), actor="rita"))
    store.add_herd_decision(
        HerdDecision(
            "reject",
            (batch[5].id, batch[6].id),
            actor="rita",
            note="two herds: different composition",
        )
    )
    tokens = {
        "olga": store.add_user("olga", "observer"),
        "rita": store.add_user("rita", "researcher"),
    }
    tokens["old"] = store.add_token("olga")
    store.revoke_token(tokens["old"])
    for k, kind in enumerate(("JPEG", "PNG")):
        photo = make_photo(batch[0].id, f"p{k}.{kind.lower()}", image_bytes(kind, seed=k), "olga")
        store.add_photo(photo)
    return tokens


def _snapshot(store: ObservationStore) -> dict[str, Any]:
    """Everything a store holds, as JSON text (byte-for-byte comparable)."""
    observations = [o for batch in store.iter_all_observations() for o in batch]
    return {
        "observations": [json.dumps(observation_to_dict(o), sort_keys=True) for o in observations],
        "revisions": [
            json.dumps(_jsonable(asdict(r)), sort_keys=True)
            for batch in store.iter_all_revisions()
            for r in batch
        ],
        "history": {
            str(o.id): [
                json.dumps(_jsonable(asdict(r)), sort_keys=True) for r in store.history(o.id)
            ]
            for o in observations
        },
        "stored": [
            (str(i.observation.id), i.upload_hash, i.change_seq)
            for batch in store.export_observations()
            for i in batch
        ],
        "changes": [str(o.id) for o in store.changes_since(0, limit=1000)[0]],
        "surveys": [json.dumps(_jsonable(asdict(s)), sort_keys=True) for s in store.list_surveys()],
        "accounts": json.dumps(_jsonable(asdict(store.export_accounts())), sort_keys=True),
        "decisions": [
            json.dumps(_jsonable(asdict(d)), sort_keys=True) for d in store.list_herd_decisions()
        ],
        "photos": [
            (str(p.info.observation_id), p.info.name, p.info.sha256, p.data, p.thumbnail)
            for batch in store.iter_all_photos(batch_size=1)
            for p in batch
        ],
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()  # the zone is part of the spelling: it must match too
    return value if isinstance(value, str | int | float | bool | type(None)) else str(value)


@pytest.fixture
def postgis_url() -> Iterator[str]:
    store: Any = postgis_store_in_fresh_schema()
    yield store.url
    store.drop_schema()
    store.close()


@pytest.mark.postgis
def test_sqlite_to_postgis_and_back_keeps_every_record(
    tmp_path: Path, postgis_url: str, capsys: Any
) -> None:
    first, back = f"sqlite:///{tmp_path / 'laptop.db'}", f"sqlite:///{tmp_path / 'offline-copy.db'}"
    source = SQLiteStore.from_url(first)
    source.migrate()
    tokens = _fill(source)
    before = _snapshot(source)
    source.close()

    assert main(["transfer", "--from", first, "--to", postgis_url, "--no-progress"]) == 0
    assert main(["transfer", "--from", postgis_url, "--to", back, "--no-progress"]) == 0
    assert "transfer verified" in capsys.readouterr().out

    copy = SQLiteStore.from_url(back)
    try:
        assert _snapshot(copy) == before
        assert len(before["observations"]) == 27 and len(before["revisions"]) == 30
        olga = copy.user_for_token(tokens["olga"])
        assert olga is not None and olga.name == "olga"
        assert copy.user_for_token(tokens["old"]) is None  # revoked stays revoked
        # The copy carries on: a new edit numbers after the copied revisions.
        obs = next(iter(copy.iter_all_observations()))[0]
        copy.update_observation(obs.id, {"count": 1}, base_revision=obs.revision, actor="olga")
        assert copy.history(obs.id)[-1].seq == 31
    finally:
        copy.close()


@pytest.mark.postgis
def test_postgis_copy_is_the_same_and_carries_on(tmp_path: Path, postgis_url: str) -> None:
    first = f"sqlite:///{tmp_path / 'laptop.db'}"
    source = SQLiteStore.from_url(first)
    source.migrate()
    _fill(source)
    before = _snapshot(source)
    source.close()
    assert main(["transfer", "--from", first, "--to", postgis_url, "--no-progress"]) == 0
    from data.store import open_store

    copy = open_store(postgis_url)
    try:
        assert _snapshot(copy) == before
        [new] = copy.add_observations([make_observation(500)], actor="olga")
        assert new.status == "created" and copy.history(new.id)[0].seq == 31
        decision = copy.add_herd_decision(HerdDecision("confirm", (new.id, new.id), actor="rita"))
        assert decision.id == 3  # numbered after the copied decisions
    finally:
        copy.close()


def test_rerunning_copies_nothing_twice_and_brings_later_edits(tmp_path: Path, capsys: Any) -> None:
    first, second = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    source = SQLiteStore.from_url(first)
    source.migrate()
    _fill(source)
    assert main(["transfer", "--from", first, "--to", second, "--no-progress"]) == 0
    assert main(["transfer", "--from", first, "--to", second, "--no-progress"]) == 0
    obs = make_observation(7)
    source.update_observation(obs.id, {"count": 2}, base_revision=1, actor="olga")
    assert main(["transfer", "--from", first, "--to", second, "--no-progress"]) == 0
    copy = SQLiteStore.from_url(second)
    try:
        assert _snapshot(copy) == _snapshot(source)
        assert copy.get_observation(obs.id).count == 2
        assert _saved_herds_are_a_fresh_build(copy, tmp_path / "b.db.herds")
    finally:
        copy.close()
        source.close()
    out = capsys.readouterr().out
    assert "observations: 27 at the source, 27 in the copy, identical" in out
    # Each run leaves the copy's herds saved for its first report, the edit's included.
    assert out.count("herds for reports in") == 3 and f"(saved in {tmp_path}/b.db.herds)" in out


def _saved_herds_are_a_fresh_build(store: ObservationStore, files: Path) -> bool:
    """The first report over `store` reads the grouping saved in `files`, and it holds
    the herds a build from every sighting gives."""
    from domain.seasons import SeasonCalendar
    from reports.herd_cache import HerdCache
    from reports.herds import build_herds, load_inputs

    cache = HerdCache(keep=False, files=files)
    _, tables = cache.herds(store, SeasonCalendar())
    fresh = build_herds(load_inputs(store))
    return (cache.loaded, cache.builds) == (1, 0) and (
        tables.grouping.labels.tolist() == fresh.grouping.labels.tolist()
        and tables.herds["herd_id"].tolist() == fresh.herds["herd_id"].tolist()
    )


def test_a_copy_leaves_a_herd_files_directory_of_the_settings_alone(
    tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HERDWATCH_HERD_FILES naming a directory is the configured store's (the server's):
    an offline copy into another store must not replace its saved grouping."""
    live = tmp_path / "live-herds"
    monkeypatch.setenv("HERDWATCH_HERD_FILES", str(live))
    monkeypatch.setenv("HERDWATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'server.db'}")
    first, second = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    source = SQLiteStore.from_url(first)
    source.migrate()
    _fill(source)
    source.close()
    assert main(["transfer", "--from", first, "--to", second, "--no-progress"]) == 0
    assert not live.exists() and "herds for reports" not in capsys.readouterr().out


def test_a_copy_that_differs_is_reported_and_fails(tmp_path: Path, capsys: Any) -> None:
    first, second = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    source = SQLiteStore.from_url(first)
    source.migrate()
    _fill(source)
    source.close()
    target = SQLiteStore.from_url(second)
    target.migrate()
    mine = make_observation(3)
    target.add_observations([replace(mine, count=999)], actor="olga")  # same id, other content
    target.close()
    assert main(["transfer", "--from", first, "--to", second, "--no-progress"]) == 1
    out = capsys.readouterr().out
    assert "transfer NOT verified" in out and str(mine.id) in out
