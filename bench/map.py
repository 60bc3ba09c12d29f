"""Herd-count map over 1,000,000 observations and ten years, beside naive folium, in one run.

Loads SYNTHETIC observations into a fresh SQLite store (executemany of the rows the store
itself writes), then times the yearly and monthly maps end to end (store aggregation in
SQL + folium render) and measures their HTML, next to naive folium (one marker with a
popup per observation) at 10,000 and 50,000 points.

    .venv/bin/python bench/map.py                 # 1,000,000 observations
    .venv/bin/python bench/map.py --n 200000      # quicker
"""

from __future__ import annotations

import argparse
import inspect
import math
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import folium
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from data import rows as _rows  # noqa: E402
from data.demo import RANGES  # noqa: E402
from data.sqlite import SQLiteStore  # noqa: E402
from domain.records import Composition, Observation, ObservationQuery, Period  # noqa: E402
from field_api.settings import Settings  # noqa: E402
from maps.assets import inlined_assets, linked_assets  # noqa: E402
from maps.herd_map import render_html  # noqa: E402
from maps.service import build_herd_map, load_map_data  # noqa: E402

YEARS = range(2015, 2025)
# Survey months weighted like the field seasons (post-calving aerial counts dominate).
MONTHS = np.array([3, 4, 6, 7, 8, 9, 10, 11])
MONTH_WEIGHTS = np.array([0.15, 0.05, 0.08, 0.4, 0.1, 0.12, 0.05, 0.05])
_NAMESPACE = uuid.UUID("0b8f0b7e-5f49-4b7c-9d55-6b3b1c2f7a10")


def synthetic_observations(
    n: int, *, seed: int = 7, chunk: int = 50_000
) -> Iterator[list[Observation]]:
    """n made-up sightings of the six populations over ten years, in chunks."""
    rng = np.random.default_rng(seed)
    made = 0
    while made < n:
        size = min(chunk, n - made)
        yield [_observation(made + i, rng) for i in range(size)]
        made += size


def _observation(i: int, rng: np.random.Generator) -> Observation:
    r = RANGES[int(rng.integers(len(RANGES)))]
    month = int(rng.choice(MONTHS, p=MONTH_WEIGHTS))
    year = int(YEARS[int(rng.integers(len(YEARS)))])
    lon0, lat0 = r.summer if 5 <= month <= 9 else r.winter
    lat = float(np.clip(lat0 + rng.normal(0, r.spread_km) / 111.0, 55.0, 77.5))
    lon = lon0 + rng.normal(0, r.spread_km) / (111.0 * math.cos(math.radians(lat)))
    count = max(1, int(rng.lognormal(math.log(r.median_herd), 0.9)))
    day, hour = int(rng.integers(1, 28)), int(rng.integers(6, 20))
    when = datetime(year, month, day, hour, tzinfo=ZoneInfo(r.timezone))
    females = count // 2
    calves = count // 5 if month >= 6 else 0
    return Observation(
        id=uuid.uuid5(_NAMESPACE, str(i)),
        observed_at=when,
        timezone=r.timezone,
        lon=round(lon, 5),
        lat=round(lat, 5),
        count=count,
        composition=Composition(count - females - calves, females, 0, calves, 0),
        population=r.population,
        observer="bench",
        flags=("synthetic",),
    )


def load(db: Path, n: int) -> float:
    """Fill a fresh store with n observations; returns the seconds it took."""
    SQLiteStore(str(db)).migrate()
    started = time.perf_counter()
    con = sqlite3.connect(db)
    con.execute("PRAGMA synchronous=OFF")
    columns = _rows.OBSERVATION_COLUMNS
    marks = ", ".join("?" * len(columns))
    sql = f"INSERT INTO observations ({', '.join(columns)}) VALUES ({marks})"
    takes_hashes = "content_hashes" in inspect.signature(_rows.observation_rows).parameters
    seq = 0
    now = datetime.now(ZoneInfo("UTC")) - timedelta(days=1)
    for batch in synthetic_observations(n):
        batch = [_stamped(o, now) for o in batch]
        hashes = [o.content_hash() for o in batch]
        extra = {"content_hashes": hashes} if takes_hashes else {}
        seqs = range(seq + 1, seq + 1 + len(batch))
        rows = _rows.observation_rows(batch, seqs=seqs, upload_hashes=hashes, **extra)
        con.executemany(sql, rows)
        seq += len(batch)
        con.commit()
        print(f"  loaded {seq:,}", end="\r", flush=True)
    con.execute("ANALYZE")
    con.close()
    return time.perf_counter() - started


def _stamped(obs: Observation, now: datetime) -> Observation:
    from dataclasses import replace

    return replace(obs, created_at=now, updated_at=now)


def herd_map(store: SQLiteStore, every: Period, settings: Settings) -> dict[str, float]:
    """End-to-end time (aggregate + render) and the sizes of the served and saved pages."""
    options = settings.map_options()
    started = time.perf_counter()
    data = load_map_data(store, ObservationQuery(), every=every, options=options)
    aggregated = time.perf_counter()
    html = render_html(build_herd_map(data, every=every, options=options, assets=linked_assets()))
    done = time.perf_counter()
    inlined = inlined_assets()
    saved = render_html(build_herd_map(data, every=every, options=options, assets=inlined))
    return {
        "total_s": done - started,
        "sql_s": aggregated - started,
        "render_s": done - aggregated,
        "html_mb": len(html.encode()) / 1e6,
        "saved_mb": len(saved.encode()) / 1e6,
        "cells": len(data.counts),
        "periods": len(data.periods),
        "cell_km": data.cell_size_m / 1000,
    }


def naive_folium(store: SQLiteStore, n: int) -> dict[str, float]:
    """One folium.Marker with a popup per observation, as a first attempt would do it."""
    page = store.query_observations(ObservationQuery(limit=n))
    started = time.perf_counter()
    m = folium.Map(location=[66, 130], zoom_start=4, tiles=None)
    for obs in page.items:
        popup = f"{obs.population} {obs.observed_at:%Y-%m-%d}: {obs.count} animals"
        folium.Marker([obs.lat, obs.lon], popup=popup).add_to(m)
    html = m.get_root().render()
    elapsed = time.perf_counter() - started
    return {
        "total_s": elapsed,
        "html_mb": len(html.encode()) / 1e6,
        "points": len(page.items),
        "ms_per_point": 1000 * elapsed / max(len(page.items), 1),
        "kib_per_point": len(html.encode()) / 1024 / max(len(page.items), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--naive", type=int, nargs="*", default=[10_000, 50_000])
    parser.add_argument("--db", type=Path, help="keep the loaded store here and reuse it next time")
    args = parser.parse_args()
    settings = Settings(tile_url="", _env_file=None)  # type: ignore[call-arg]
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "bench.db"
        if not db.exists():
            print(f"loading {args.n:,} SYNTHETIC observations over {len(YEARS)} years …")
            print(f"  loaded in {load(db, args.n):.0f} s" + " " * 20)
        store = SQLiteStore(str(db))
        everies: tuple[Period, ...] = ("year", "month")
        results = {every: herd_map(store, every, settings) for every in everies}
        naive = {n: naive_folium(store, n) for n in args.naive}
        store.close()
    print(f"\nherd-count map, {args.n:,} observations (target: ≤ 3 s, ≤ 3 MB)")
    for every, r in results.items():
        print(
            f"  {every:5s}: {r['total_s']:.2f} s (SQL {r['sql_s']:.2f} s + render "
            f"{r['render_s']:.2f} s), HTML {r['html_mb']:.2f} MB served ({r['saved_mb']:.2f} MB "
            f"saved with scripts inlined), {r['cells']:,.0f} cell counts, "
            f"{r['periods']:.0f} periods, {r['cell_km']:g} km cells"
        )
    print("naive folium, one marker per observation")
    for n, r in naive.items():
        print(
            f"  {n:>6,} points: {r['total_s']:.2f} s, HTML {r['html_mb']:.2f} MB "
            f"({r['ms_per_point']:.2f} ms and {r['kib_per_point']:.2f} KiB "
            "per point)"
        )
    per_ms = sum(r["ms_per_point"] for r in naive.values()) / max(len(naive), 1)
    per_kib = sum(r["kib_per_point"] for r in naive.values()) / max(len(naive), 1)
    print(
        f"naive folium at {args.n:,} points, extrapolated: "
        f"~{per_ms * args.n / 1000:,.0f} s, "
        f"~{per_kib * args.n / 1024 / 1024:,.1f} GiB of HTML"
    )


if __name__ == "__main__":
    main()
