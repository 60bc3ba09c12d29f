"""Batch ingest through HTTP against the raw executemany of the same rows, in one run.

    .venv/bin/python bench/ingest.py [--n 100000] [--batch 1000] [--clients 4] [--workers 2]
                                     [--skip-postgis]

Starts a real `herdwatch serve` on 127.0.0.1 over a fresh SQLite file, posts N observations
as FeatureCollections of --batch features, then inserts the very same rows (observations and
their create revisions, same schema, same pragmas, one transaction per batch) with
`executemany` into another fresh file. Prints both rates and their ratio. Then the same on
PostGIS (--postgis-url, schemas bench_ingest_api and bench_ingest_raw): the API rate against
a raw COPY of the same rows.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from data import rows as _rows  # noqa: E402
from data.sqlite import SQLiteStore  # noqa: E402
from domain.records import Composition, Observation  # noqa: E402
from tests.live_server import free_port  # noqa: E402

POPULATIONS = ("lena-olenek", "yana-indigirka", "sundrun", "forest")


def make_features(n: int) -> list[dict[str, Any]]:
    """Synthetic sightings spread over Yakutia and ten years."""
    start = datetime(2015, 1, 1, tzinfo=UTC)
    features = []
    for i in range(n):
        when = start + timedelta(minutes=53 * i)
        features.append(
            {
                "type": "Feature",
                "id": str(uuid.UUID(int=i + 1)),
                "geometry": {
                    "type": "Point",
                    "coordinates": [
                        110 + (i * 7919 % 50000) / 1000,
                        58 + (i * 104729 % 17000) / 1000,
                    ],
                },
                "properties": {
                    "observed_at": when.isoformat(),
                    "timezone": "Asia/Yakutsk",
                    "count": 10 + i % 300,
                    "composition": {"adult_females": 5, "calves": 2},
                    "count_method": "visual",
                    "population": POPULATIONS[i % 4],
                    "accuracy_m": 10.0,
                    "device_id": f"tablet-{i % 50}",
                },
            }
        )
    return features


def serve(db: Path | str, port: int, workers: int = 1) -> subprocess.Popen[bytes]:
    """A real server over a SQLite file, or over any store URL (PostGIS)."""
    url = db if isinstance(db, str) else f"sqlite:///{db}"
    env = {**os.environ, "HERDWATCH_DATABASE_URL": url}
    herdwatch = str(Path(sys.executable).parent / "herdwatch")
    command = [herdwatch, "serve", "--port", str(port), "--log-level", "warning"]
    proc = subprocess.Popen([*command, "--workers", str(workers)], env=env)
    for _ in range(200):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("server did not start")


def api_rate(
    features: list[dict[str, Any]], batch: int, clients: int, workdir: Path, workers: int = 1
) -> float:
    db = workdir / "api.db"
    store = SQLiteStore(str(db))
    store.migrate()
    token = store.add_user("bench", "observer")
    store.close()
    return post_all(features, batch, clients, db, token, workers)


def post_all(
    features: list[dict[str, Any]],
    batch: int,
    clients: int,
    db: Path | str,
    token: str,
    workers: int,
) -> float:
    """Serve the store, post every feature in batches from `clients` threads; obs/s."""
    port = free_port()
    proc = serve(db, port, workers)
    bodies = [
        json.dumps({"type": "FeatureCollection", "features": features[i : i + batch]}).encode()
        for i in range(0, len(features), batch)
    ]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/geo+json"}
    try:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=120
        ) as client:

            def post(body: bytes) -> int:
                response = client.post("/api/v1/observations/batch", content=body)
                response.raise_for_status()
                return int(response.json()["summary"]["created"])

            began = time.perf_counter()
            with ThreadPoolExecutor(clients) as pool:
                created = sum(pool.map(post, bodies))
            elapsed = time.perf_counter() - began
    finally:
        proc.terminate()
        proc.wait(10)
    assert created == len(features), f"created {created} of {len(features)}"
    return len(features) / elapsed


def raw_rows(
    features: list[dict[str, Any]],
) -> list[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
    """The rows the API would write, built outside the timed part."""
    chunks = []
    now = datetime.now(UTC)
    for start in range(0, len(features), 1000):
        obs = [_observation(f, now) for f in features[start : start + 1000]]
        obs = _rows.tag_observations(obs)
        seqs = list(range(start + 1, start + len(obs) + 1))
        rows = _rows.observation_rows(obs, seqs=seqs, upload_hashes=[o.content_hash() for o in obs])
        revs = [
            _rows.revision_row(s, o, "create", "bench", None)
            for s, o in zip(seqs, obs, strict=True)
        ]
        chunks.append((rows, revs))
    return chunks


def _observation(f: dict[str, Any], now: datetime) -> Observation:
    p = f["properties"]
    lon, lat = f["geometry"]["coordinates"]
    return Observation(
        id=uuid.UUID(f["id"]),
        observed_at=datetime.fromisoformat(p["observed_at"]),
        lon=lon,
        lat=lat,
        count=p["count"],
        composition=Composition(adult_females=5, calves=2),
        population=p["population"],
        accuracy_m=10.0,
        device_id=p["device_id"],
        observer="bench",
        created_at=now,
        updated_at=now,
    )


def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


def raw_rate(features: list[dict[str, Any]], workdir: Path) -> float:
    db = workdir / "raw.db"
    store = SQLiteStore(str(db))  # same schema and pragmas (WAL, synchronous=FULL)
    store.migrate()
    store.close()
    chunks = raw_rows(features)
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA synchronous = FULL")
    obs_sql = _insert_sql("observations", _rows.OBSERVATION_COLUMNS)
    rev_sql = _insert_sql("revisions", _rows.REVISION_COLUMNS)
    began = time.perf_counter()
    for rows, revs in chunks:
        con.execute("BEGIN IMMEDIATE")
        con.executemany(obs_sql, rows)
        con.executemany(rev_sql, revs)
        con.execute("COMMIT")
    elapsed = time.perf_counter() - began
    con.close()
    return len(features) / elapsed


def _fresh_postgis(url: str, schema: str) -> str:
    """An empty, migrated schema in the benchmark database (made when missing)."""
    import psycopg

    from data.postgis import PostGISStore

    server, _, name = url.rpartition("/")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')
    store = PostGISStore.from_url(url, schema=schema)
    store.drop_schema()
    store.close()
    store = PostGISStore.from_url(url, schema=schema)
    store.migrate()
    store.close()
    return f"{url}?schema={schema}"


def postgis_api_rate(
    features: list[dict[str, Any]], batch: int, clients: int, url: str, workers: int
) -> float:
    """The same batches through a real server over PostGIS."""
    from data.store import open_store

    store_url = _fresh_postgis(url, "bench_ingest_api")
    store = open_store(store_url)
    token = store.add_user("bench", "observer")
    store.close()
    return post_all(features, batch, clients, store_url, token, workers)


def postgis_copy_rate(features: list[dict[str, Any]], url: str) -> float:
    """The same rows with COPY (observations and create revisions), one transaction a batch."""
    import psycopg

    from data.postgis import WRITE_COLUMNS, with_feature_texts

    _fresh_postgis(url, "bench_ingest_raw")
    # Each row with its Feature text, as the store writes it (made before the clock starts).
    chunks = [(with_feature_texts(rows), revs) for rows, revs in raw_rows(features)]
    columns = {"observations": WRITE_COLUMNS, "revisions": _rows.REVISION_COLUMNS}
    with psycopg.connect(url, options="-c search_path=bench_ingest_raw,public") as conn:
        began = time.perf_counter()
        for rows, revs in chunks:
            for table, table_rows in (("observations", rows), ("revisions", revs)):
                sql = f"COPY {table} ({', '.join(columns[table])}) FROM STDIN"
                with conn.cursor().copy(sql) as copy:
                    for row in table_rows:
                        copy.write_row(row)
            conn.commit()
        elapsed = time.perf_counter() - began
    return len(features) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    # Two workers, as `herdwatch serve --workers 2` runs on a 2-core machine (README, Running
    # in production); --workers 1 --clients 2 measures a single process.
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument(
        "--postgis-url",
        default=os.environ.get(
            "HERDWATCH_BENCH_POSTGIS_URL", "postgresql://postgres@127.0.0.1:5432/herdwatch_bench"
        ),
        help="PostGIS database for the PostGIS side (schemas bench_ingest_*)",
    )
    parser.add_argument("--skip-postgis", action="store_true")
    args = parser.parse_args()
    features = make_features(args.n)
    with tempfile.TemporaryDirectory() as tmp:
        api = api_rate(features, args.batch, args.clients, Path(tmp), args.workers)
        raw = raw_rate(features, Path(tmp))
    if not args.skip_postgis:
        pg_api = postgis_api_rate(
            features, args.batch, args.clients, args.postgis_url, args.workers
        )
        pg_raw = postgis_copy_rate(features, args.postgis_url)
    print(
        f"observations:            {args.n:,} in batches of {args.batch:,} "
        f"({args.clients} client connections, {args.workers} server worker process(es))"
    )
    print(f"HTTP batch ingest:       {api:,.0f} observations/s (SQLite, synchronous=FULL)")
    print(f"raw executemany:         {raw:,.0f} observations/s (same rows, same schema)")
    print(f"ratio API / raw:         {api / raw:.2f}  (target >= 0.5; absolute target >= 20,000/s)")
    if not args.skip_postgis:
        print(f"HTTP batch ingest:       {pg_api:,.0f} observations/s (PostGIS)")
        print(f"raw COPY:                {pg_raw:,.0f} observations/s (same rows, same schema)")
        print(f"ratio API / raw COPY:    {pg_api / pg_raw:.2f}")


if __name__ == "__main__":
    main()
