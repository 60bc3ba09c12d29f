"""bbox + time-window queries on 1,000,000 observations: SQLite and PostGIS, HTTP and raw SQL.

    .venv/bin/python bench/query.py [--n 1000000] [--queries 60] [--reuse]
                                    [--postgis-url postgresql://postgres@127.0.0.1:5432/herdwatch_bench]

Loads N synthetic observations over ten years (2015-2024) into each backend, straight from
rows made by data/_rows.observation_rows (executemany into SQLite, COPY into PostGIS; no
HTTP), then starts a real `herdwatch serve` on 127.0.0.1 over each store and asks the same
random bbox + time-window queries for one page of 1,000 GeoJSON features, each once, with
the store's files read into memory first (see prewarm_postgis) and the server warmed by
five other queries. For each backend it prints the HTTP median and p95 and, beside them,
the raw SQL time of the same queries (the SQL the store runs, rows fetched, nothing else
built). Data is labelled synthetic.
--reuse keeps the loaded data between runs (bench/out/query-<n>.db, schema bench_query).
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from data import rows as _rows  # noqa: E402
from data.postgis_queries import POSTGIS  # noqa: E402
from data.sql_shared import listing_query  # noqa: E402
from data.sql_store import LISTING_SELECT  # noqa: E402
from data.sqlite import READER_MMAP_BYTES, SQLiteStore  # noqa: E402
from data.sqlite_queries import SQLITE  # noqa: E402
from domain.records import POPULATIONS, Composition, Observation, ObservationQuery  # noqa: E402
from tests.live_server import free_port  # noqa: E402

START = datetime(2015, 1, 1, tzinfo=UTC)
YEARS = 10
# Yakutia and the ranges around it, where the herds are.
LON, LAT = (105.0, 165.0), (56.0, 77.0)
CHUNK = 50_000
PAGE = 1000


@dataclass(frozen=True)
class Query:
    """One viewer request: a box of about 6° × 3° and one year of sightings."""

    bbox: tuple[float, float, float, float]
    start: datetime
    end: datetime

    def params(self) -> dict[str, Any]:
        return {
            "bbox": ",".join(f"{v:g}" for v in self.bbox),
            "limit": PAGE,
            "datetime": f"{_z(self.start)}/{_z(self.end)}",
        }

    def record_query(self) -> ObservationQuery:
        return ObservationQuery(bbox=self.bbox, start=self.start, end=self.end, limit=PAGE)


def _z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def make_queries(n: int, seed: int = 7) -> list[Query]:
    rng = random.Random(seed)
    found = []
    for _ in range(n):
        lon, lat = rng.uniform(LON[0], LON[1] - 6), rng.uniform(LAT[0], LAT[1] - 3)
        start = START + timedelta(days=rng.uniform(0, 365 * (YEARS - 1)))
        found.append(
            Query(
                (round(lon, 3), round(lat, 3), round(lon + 6, 3), round(lat + 3, 3)),
                start.replace(microsecond=0),
                (start + timedelta(days=365)).replace(microsecond=0),
            )
        )
    return found


# data ----------------------------------------------------------------------------------
def synthetic_chunks(n: int, seed: int = 42) -> Iterator[list[tuple[Any, ...]]]:
    """Rows for OBSERVATION_COLUMNS, CHUNK at a time, made by data/_rows like the stores do."""
    rng = np.random.default_rng(seed)
    created = datetime(2025, 1, 1, tzinfo=UTC)
    for first in range(0, n, CHUNK):
        size = min(CHUNK, n - first)
        lons = rng.uniform(*LON, size).round(5)
        lats = rng.uniform(*LAT, size).round(5)
        seconds = rng.uniform(0, YEARS * 365.25 * 86400, size)
        counts = rng.integers(1, 400, size)
        batch = [
            Observation(
                id=uuid.UUID(int=first + i + 1),
                observed_at=START + timedelta(seconds=float(seconds[i])),
                lon=float(lons[i]),
                lat=float(lats[i]),
                count=int(counts[i]),
                composition=Composition(
                    adult_females=int(counts[i]) // 3, calves=int(counts[i]) // 8
                ),
                population=POPULATIONS[i % 6],
                count_method="visual",
                accuracy_m=10.0,
                device_id=f"tablet-{i % 50}",
                observer="bench",
                flags=("synthetic",),
                notes="synthetic benchmark record",
                created_at=created,
                updated_at=created,
            )
            for i in range(size)
        ]
        seqs = list(range(first + 1, first + size + 1))
        hashes = [o.content_hash() for o in batch]
        yield _rows.observation_rows(batch, seqs=seqs, upload_hashes=hashes, content_hashes=hashes)


def load_sqlite(path: Path, n: int) -> None:
    store = SQLiteStore(str(path))
    store.migrate()
    store.close()
    con = sqlite3.connect(path, isolation_level=None)
    marks = ", ".join("?" * len(_rows.OBSERVATION_COLUMNS))
    sql = f"INSERT INTO observations ({', '.join(_rows.OBSERVATION_COLUMNS)}) VALUES ({marks})"
    for rows in _progress(synthetic_chunks(n), n, "SQLite executemany"):
        con.execute("BEGIN IMMEDIATE")
        con.executemany(sql, rows)
        con.execute("COMMIT")
    con.execute("ANALYZE")
    con.close()


def load_postgis(url: str, n: int) -> None:
    import psycopg

    from data.postgis import WRITE_COLUMNS, PostGISStore, with_feature_texts

    store = PostGISStore.from_url(url)
    store.migrate()
    store.close()
    conninfo, schema = url.split("?schema=")
    with psycopg.connect(conninfo, options=f"-c search_path={schema},public") as conn:
        columns = ", ".join(WRITE_COLUMNS)  # with each Feature's text, as the store writes
        for rows in _progress(synthetic_chunks(n), n, "PostGIS COPY"):
            with conn.cursor().copy(f"COPY observations ({columns}) FROM STDIN") as copy:
                for row in with_feature_texts(rows):
                    copy.write_row(row)
            conn.commit()
        conn.execute(f"SELECT setval('revision_seq', {n})")
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE observations")


def _progress(chunks: Iterator[list[Any]], n: int, what: str) -> Iterator[list[Any]]:
    began, done = time.perf_counter(), 0
    for rows in chunks:
        yield rows
        done += len(rows)
        print(
            f"\r  {what}: {done:,}/{n:,} ({done / (time.perf_counter() - began):,.0f}/s)",
            end="",
            flush=True,
        )
    print()


# measuring -----------------------------------------------------------------------------
def http_times(url: str, queries_: list[Query], token: str) -> tuple[list[float], list[int]]:
    """Wall time of each GET until its whole body arrived, and the page sizes."""
    port = free_port()
    env = {**os.environ, "HERDWATCH_DATABASE_URL": url}
    command = [
        sys.executable,
        "-m",
        "field_api.cli",
        "serve",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(command, cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    responses: list[httpx.Response] = []
    try:
        _wait_for(base)
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:

            def run(q: Query) -> None:  # timed until the whole body has arrived
                responses.append(client.get("/api/v1/observations", params=q.params()))

            times = _timed(run, queries_)
    finally:
        proc.terminate()
        proc.wait(30)
    for response in responses:
        response.raise_for_status()
    return times, [len(r.json()["features"]) for r in responses[len(WARM_UP) :]]


def _wait_for(base: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("server did not start")


def sqlite_sql_times(path: Path, queries_: list[Query]) -> list[float]:
    """The SQL SQLiteStore.query_features runs, rows fetched and nothing else, on a
    connection set up as the store's readers are (the page cache and the memory map)."""
    con = sqlite3.connect(path)
    con.execute("PRAGMA cache_size = -65536")
    con.execute(f"PRAGMA mmap_size = {READER_MMAP_BYTES}")

    def run(q: Query) -> None:
        con.execute(*listing_query(SQLITE, q.record_query(), LISTING_SELECT)).fetchall()

    return _timed(run, queries_)


def postgis_sql_times(url: str, queries_: list[Query]) -> list[float]:
    """The SQL PostGISStore.query_features runs (stored Feature texts), rows fetched."""
    import psycopg

    from data.postgis import FEATURE_LISTING

    conninfo, schema = url.split("?schema=")
    con = psycopg.connect(
        conninfo, autocommit=True, options=f"-c timezone=UTC -c search_path={schema},public"
    )

    def run(q: Query) -> None:
        con.execute(*listing_query(POSTGIS, q.record_query(), FEATURE_LISTING)).fetchall()

    return _timed(run, queries_)


# Other boxes and windows than the timed ones: they warm the server, its pool and prepared
# statements, and no timed query repeats one.
WARM_UP = make_queries(5, seed=99)


def _timed(run: Callable[[Query], None], queries_: list[Query]) -> list[float]:
    for q in WARM_UP:
        run(q)
    times = []
    for q in queries_:
        began = time.perf_counter()
        run(q)
        times.append(time.perf_counter() - began)
    return times


def prewarm_sqlite(db: Path) -> None:
    """Read the store's file once, so its pages are in memory (see prewarm_postgis)."""
    with db.open("rb") as file:
        while file.read(1 << 24):
            pass


def prewarm_postgis(url: str) -> None:
    """Read the observations table and its indexes into the OS cache (pg_prewarm).

    This machine's memory reclaim drops file pages left idle for a minute or so: without
    this, the first queries after a pause read the table back from disk (a median of 21-40
    ms instead of 12). A server in use keeps its data in memory; that is what is timed.
    """
    import psycopg

    conninfo, schema = url.split("?schema=")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        conn.execute(
            "SELECT pg_prewarm(c.oid::regclass, 'read') FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND "
            "(c.relname = 'observations' OR c.oid IN (SELECT indexrelid FROM pg_index "
            "WHERE indrelid = format('%%I.observations', n.nspname)::regclass))",
            (schema,),
        )


def _ms(times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(times) * 1000:6.1f} ms, p95 {p95 * 1000:6.1f} ms"


# main ------------------------------------------------------------------------------------
def _ensure_database(url: str) -> None:
    import psycopg

    server, _, rest = url.rpartition("/")
    name = rest.split("?")[0]
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')


def _count(url: str) -> int:
    from data.store import open_store

    store = open_store(url)
    try:
        store.migrate()
        return store.count_observations(ObservationQuery(include_retracted=True))
    finally:
        store.close()


def _prepare(
    url: str, n: int, reuse: bool, load: Callable[[], None], fresh: Callable[[], None]
) -> str:
    """Load the data unless --reuse finds it already there; returns a researcher token."""
    from data.store import open_store

    if not (reuse and _count(url) == n):
        fresh()
        began = time.perf_counter()
        load()
        print(f"  loaded {n:,} in {time.perf_counter() - began:.0f} s")
    store = open_store(url)
    try:
        name = f"bench-{uuid.uuid4().hex[:8]}"
        return store.add_user(name, "researcher")
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--reuse", action="store_true", help="keep data loaded by an earlier run")
    local = "postgresql://postgres@127.0.0.1:5432/herdwatch_bench"
    parser.add_argument(
        "--postgis-url", default=os.environ.get("HERDWATCH_BENCH_POSTGIS_URL", local)
    )
    parser.add_argument("--only", choices=("sqlite", "postgis"))
    args = parser.parse_args()
    queries_ = make_queries(args.queries)
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    results = []
    if args.only != "postgis":
        db = out / f"query-{args.n}.db"
        url = f"sqlite:///{db}"

        def fresh_sqlite() -> None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)

        print("SQLite:")
        token = _prepare(url, args.n, args.reuse, lambda: load_sqlite(db, args.n), fresh_sqlite)
        prewarm_sqlite(db)
        http, sizes = http_times(url, queries_, token)
        results.append(("SQLite", http, sqlite_sql_times(db, queries_), sizes))
    if args.only != "sqlite":
        _ensure_database(args.postgis_url)
        url = f"{args.postgis_url}?schema=bench_query"

        def fresh_postgis() -> None:
            from data.postgis import PostGISStore

            store = PostGISStore.from_url(url)
            store.drop_schema()
            store.close()

        print("PostGIS:")
        token = _prepare(url, args.n, args.reuse, lambda: load_postgis(url, args.n), fresh_postgis)
        prewarm_postgis(url)
        http, sizes = http_times(url, queries_, token)
        results.append(("PostGIS", http, postgis_sql_times(url, queries_), sizes))
    print(
        f"\n{args.n:,} synthetic observations over {YEARS} years; {args.queries} queries of a "
        f"6°×3° box and one year, limit={PAGE}"
    )
    for name, http, sql, sizes in results:
        print(
            f"{name:8} HTTP (page of {statistics.median(sizes):,.0f} features): {_ms(http)}"
            f"   | raw SQL: {_ms(sql)}"
        )


if __name__ == "__main__":
    main()
