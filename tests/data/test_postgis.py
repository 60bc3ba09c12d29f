"""PostGIS-only details: SRID, indexes, the pool, schema isolation, several stores at once."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from data.migrations import migrations_for
from domain.records import ObservationQuery
from tests.conftest import POSTGIS_URL, postgis_store_in_fresh_schema
from tests.factories import BASE_TIME, make_batch, make_observation

pytestmark = pytest.mark.postgis


@pytest.fixture
def twin(pg: Any) -> Iterator[Any]:
    """A second store on the same schema with its own pool: another worker process's view."""
    from data.postgis import PostGISStore

    other = PostGISStore.from_url(pg.url, schema=pg.schema)
    yield other
    other.close()


def _one(store: Any, sql: str, *params: Any) -> Any:
    row = store._read_one(sql, params)
    return row[0] if row else None


def test_points_are_stored_as_srid_4326_geometry(pg: Any) -> None:
    obs = make_observation()
    pg.add_observations([obs], actor="olga")
    assert _one(pg, "SELECT Find_SRID(current_schema()::text, 'observations', 'geom')") == 4326
    row = pg._read_one(
        "SELECT ST_SRID(geom), ST_X(geom), ST_Y(geom), GeometryType(geom) FROM observations"
    )
    assert row == (4326, obs.lon, obs.lat, "POINT")


def test_geometry_has_a_gist_index_and_time_has_a_btree(pg: Any) -> None:
    sql = "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
    indexes = dict(pg._read_all(sql))
    assert "USING gist (geom)" in indexes["observations_geom"]
    assert "(observed_at, id)" in indexes["observations_time"]


def test_edits_that_move_a_point_move_its_geometry(pg: Any) -> None:
    obs = make_observation()
    pg.add_observations([obs], actor="olga")
    pg.update_observation(obs.id, {"lon": 130.5, "lat": 70.25}, base_revision=1, actor="olga")
    assert pg._read_one("SELECT ST_X(geom), ST_Y(geom) FROM observations") == (130.5, 70.25)
    assert pg.count_observations(ObservationQuery(bbox=(130.0, 70.0, 131.0, 71.0))) == 1


def test_schemas_isolate_stores_on_one_database(pg: Any) -> None:
    other: Any = postgis_store_in_fresh_schema()
    try:
        other.migrate()
        pg.add_observations(make_batch(3), actor="olga")
        assert other.count_observations(ObservationQuery()) == 0
        assert pg.count_observations(ObservationQuery()) == 3
    finally:
        other.drop_schema()
        other.close()
    assert _one(pg, "SELECT count(*) FROM pg_namespace WHERE nspname = %s", other.schema) == 0


def test_schema_names_must_be_plain_identifiers() -> None:
    from data.postgis import PostGISStore

    with pytest.raises(ValueError, match="schema"):
        PostGISStore.from_url(POSTGIS_URL or "postgresql://x", schema='x"; DROP TABLE users; --')


def test_migrations_apply_once_even_from_several_workers_at_once(pg: Any, twin: Any) -> None:
    assert pg.migrate() == [] and twin.migrate() == []
    fresh: Any = postgis_store_in_fresh_schema()
    try:
        from data.postgis import PostGISStore

        stores = [fresh] + [PostGISStore.from_url(fresh.url, schema=fresh.schema) for _ in range(3)]
        with ThreadPoolExecutor(4) as pool:
            applied = list(pool.map(lambda s: s.migrate(), stores))
        everything = len(migrations_for("postgis"))
        assert sorted(len(a) for a in applied) == [0, 0, 0, everything]  # one did it all
        assert _one(fresh, "SELECT count(*) FROM schema_migrations") == everything
        for extra in stores[1:]:
            extra.close()
    finally:
        fresh.drop_schema()
        fresh.close()


def test_threads_share_a_small_pool(pg: Any) -> None:
    from data.postgis import PostGISStore

    small = PostGISStore.from_url(f"{pg.url}&pool_size=2")
    try:
        batches = [make_batch(5, start=i * 5) for i in range(12)]
        with ThreadPoolExecutor(8) as pool:
            outcomes = list(pool.map(lambda b: small.add_observations(b, actor="olga"), batches))
            everything = [ObservationQuery()] * 16
            counts = list(pool.map(small.count_observations, everything))
        assert all(o.status == "created" for batch in outcomes for o in batch)
        assert all(0 <= c <= 60 for c in counts)
        assert small._pool.get_stats()["pool_max"] == 2
        assert pg.count_observations(ObservationQuery()) == 60
    finally:
        small.close()


def test_two_workers_racing_with_overlapping_batches_store_each_once(pg: Any, twin: Any) -> None:
    # Each thread sends the same 40 records in its own order, through two separate pools.
    records = make_batch(40)
    orders = [records, records[::-1], records[10:] + records[:10], records[::2] + records[1::2]] * 2
    start = threading.Barrier(len(orders))

    def send(i: int) -> list[str]:
        start.wait()
        store = pg if i % 2 else twin
        return [o.status for o in store.add_observations(orders[i], actor="olga")]

    with ThreadPoolExecutor(len(orders)) as pool:
        statuses = [s for result in pool.map(send, range(len(orders))) for s in result]
    assert statuses.count("created") == 40
    assert statuses.count("unchanged") == 40 * (len(orders) - 1)
    assert pg.count_observations(ObservationQuery()) == 40
    assert _one(pg, "SELECT count(*) FROM revisions") == 40


def test_change_feed_misses_nothing_while_writers_commit_out_of_order(pg: Any, twin: Any) -> None:
    # Sequence numbers are drawn before commit; the feed must still never skip one.
    batches = [make_batch(3, start=i * 3) for i in range(40)]
    seen: set[uuid.UUID] = set()
    done = threading.Event()

    def write(i: int) -> None:
        (pg if i % 2 else twin).add_observations(batches[i], actor="olga")

    def read() -> None:
        cursor = 0
        while True:
            finished = done.is_set()
            items, cursor = pg.changes_since(cursor, limit=7)
            seen.update(o.id for o in items)
            if finished and not items:
                return

    reader = threading.Thread(target=read)
    reader.start()
    with ThreadPoolExecutor(6) as pool:
        list(pool.map(write, range(len(batches))))
    done.set()
    reader.join(timeout=60)
    assert seen == {o.id for batch in batches for o in batch}


def test_sequence_continues_after_imported_revisions(pg: Any) -> None:
    from data.bulk import StoredObservation
    from domain.records import Revision

    obs = make_observation(created_at=BASE_TIME, updated_at=BASE_TIME)
    pg.import_observations([StoredObservation(obs, obs.content_hash(), 500)])
    pg.import_revisions([Revision(500, obs.id, 1, "create", "olga", obs.observed_at, None, None)])
    edited = pg.update_observation(obs.id, {"count": 3}, base_revision=1, actor="olga")
    assert [r.seq for r in pg.history(obs.id)] == [500, 501] and edited.revision == 2


def test_migration_0004_writes_the_feature_text_of_rows_stored_before_it() -> None:
    """A production database upgraded in place: `herdwatch migrate` gives the rows stored
    before it their Feature text, equal byte for byte to the API's Feature of the record."""
    import msgspec

    from data import rows as _rows
    from field_api.schemas import observation_feature

    store: Any = postgis_store_in_fresh_schema()
    try:
        with store._pool.connection() as conn:  # the schema as it was before 0004
            conn.execute(
                "CREATE TABLE schema_migrations (version integer PRIMARY KEY, "
                "name text NOT NULL, applied_at timestamptz NOT NULL)"
            )
            for migration in migrations_for("postgis")[:3]:
                conn.execute(migration.sql.encode())
                conn.execute(
                    "INSERT INTO schema_migrations VALUES (%s, %s, now())",
                    (migration.version, migration.name),
                )
            # Rows as the code before 0004 wrote them: no Feature text.
            rows = _rows.observation_rows(make_batch(5), seqs=range(1, 6), upload_hashes=["h"] * 5)
            with conn.cursor().copy(
                f"COPY observations ({', '.join(_rows.OBSERVATION_COLUMNS)}) FROM STDIN"
            ) as copy:
                for row in rows:
                    copy.write_row(row)
        later = [f"{m.version:04d}" for m in migrations_for("postgis")[3:]]
        assert [m.split("_")[0] for m in store.migrate()] == later
        assert later[0] == "0004"
        assert _one(store, "SELECT count(*) FROM observations WHERE feature IS NULL") == 0
        records = store.query_observations(ObservationQuery())
        page = store.query_features(ObservationQuery())
        assert page.features == msgspec.json.encode([observation_feature(o) for o in records.items])
        assert len(records.items) == 5
    finally:
        store.drop_schema()
        store.close()


def test_migrate_refreshes_feature_texts_of_an_older_format_in_resumable_batches(
    pg: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Texts written under an older format version are rewritten by migrate(), a batch a
    transaction: a run that dies after one batch keeps it, and the next run finishes."""
    import msgspec

    from data import postgis
    from domain.records import ObservationQuery
    from field_api.schemas import observation_feature

    pg.add_observations(make_batch(7), actor="olga")
    with pg._pool.connection() as conn:  # as if written by an older release
        conn.execute("UPDATE observations SET feature = '{}', feature_version = 0")
    expected = msgspec.json.encode(
        [observation_feature(o) for o in pg.query_observations(ObservationQuery()).items]
    )
    # Until refreshed, a listing builds the stale rows from their columns: same bytes.
    assert pg.query_features(ObservationQuery()).features == expected

    monkeypatch.setattr(postgis, "FEATURE_REFRESH_BATCH", 3)
    seen: list[tuple[int, int]] = []

    def crash_after_first_batch(done: int, total: int) -> None:
        seen.append((done, total))
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        pg.migrate(progress=crash_after_first_batch)
    stale = "SELECT count(*) FROM observations WHERE feature_version <> 1"
    assert seen == [(3, 7)] and _one(pg, stale) == 4  # the first batch was kept

    progress: list[tuple[int, int]] = []
    assert pg.migrate(progress=lambda done, total: progress.append((done, total))) == []
    assert progress == [(3, 4), (4, 4)] and _one(pg, stale) == 0
    assert pg.refresh_feature_texts() == 0  # nothing left: a later migrate does nothing
    assert pg.query_features(ObservationQuery()).features == expected
