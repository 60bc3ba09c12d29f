"""The annual population report over 1,000,000 SYNTHETIC observations: HTML + PDF + CSV.

Loads a fresh SQLite store fast (executemany of the rows the store itself writes, not the
API), then times the whole report end to end as `herdwatch report` runs it: read the lean
sighting columns, de-duplicate every herd of every year (the trend needs them all), compute
the tables, draw the charts and map, and write HTML, PDF and every CSV table.

The made-up surveys: six populations, ten years, eight survey windows a year of a week
each; about a third of the herds are seen a second time by another team a few km and
hours away, so de-duplication has real work.

    .venv/bin/python bench/report.py                # 1,000,000 observations
    .venv/bin/python bench/report.py --n 100000     # quicker
"""

from __future__ import annotations

import argparse
import math
import sqlite3
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from data import rows as _rows  # noqa: E402
from data.demo import RANGES  # noqa: E402
from data.sqlite import SQLiteStore  # noqa: E402
from domain.records import Composition, Observation, Survey  # noqa: E402
from reports.herds import build_herds, load_inputs  # noqa: E402
from reports.output import write_report  # noqa: E402
from reports.population import compute_report  # noqa: E402

YEARS = range(2015, 2025)
MONTHS = (3, 4, 6, 7, 8, 9, 10, 11)
METHODS = {3: "snowmobile", 4: "snowmobile", 10: "foot", 11: "snowmobile"}  # else aerial
SECOND_TEAM = 0.3  # share of herds a second team also sees
_NAMESPACE = uuid.UUID("5d7f1a3e-2b9c-4e0a-8c6d-1f2e3a4b5c6d")
_INSERT = (
    f"INSERT INTO observations ({', '.join(_rows.OBSERVATION_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(_rows.OBSERVATION_COLUMNS))})"
)


def surveys() -> list[Survey]:
    """One week-long survey per population, year and window (effort: 60 km flown a day)."""
    made = []
    for year in YEARS:
        for r in RANGES:
            for month in MONTHS:
                start = datetime(year, month, 5, 8, tzinfo=ZoneInfo(r.timezone))
                made.append(
                    Survey(
                        id=f"bench-{r.population}-{year}-{month:02d}",
                        method=METHODS.get(month, "aerial"),
                        started_at=start,
                        ended_at=start + timedelta(days=7),
                        effort_km=420.0,
                        name=f"synthetic benchmark survey {r.population} {year}-{month:02d}",
                        notes="synthetic",
                        created_by="bench",
                    )
                )
    return made


def sightings(n: int, all_surveys: list[Survey], rng: np.random.Generator) -> list[Observation]:
    """About n sightings: herds in each survey's week, a third of them seen twice."""
    per_survey = n / len(all_surveys) / (1 + SECOND_TEAM)
    made: list[Observation] = []
    for k, survey in enumerate(all_surveys):
        r = RANGES[(k // len(MONTHS)) % len(RANGES)]
        herds = [_herd(rng, r, survey, i) for i in range(int(per_survey))]
        for i, herd in enumerate(herds):
            made.append(herd)
            if rng.random() < SECOND_TEAM and len(made) < n:
                made.append(_seen_again(rng, herd, f"{survey.id}/{i}/b"))
        if len(made) >= n:
            break
    return made[:n]


def _herd(rng: np.random.Generator, r: object, survey: Survey, i: int) -> Observation:
    month = survey.started_at.month
    lon0, lat0 = r.summer if 5 <= month <= 9 else r.winter  # type: ignore[attr-defined]
    lat = float(np.clip(lat0 + rng.normal(0, r.spread_km) / 111.0, 55.0, 77.5))  # type: ignore[attr-defined]
    lon = lon0 + rng.normal(0, r.spread_km) / (111.0 * math.cos(math.radians(lat)))  # type: ignore[attr-defined]
    count = max(1, int(rng.lognormal(math.log(r.median_herd), 0.9)))  # type: ignore[attr-defined]
    when = survey.started_at + timedelta(hours=float(rng.uniform(0, 7 * 24)))
    return Observation(
        id=uuid.uuid5(_NAMESPACE, f"{survey.id}/{i}"),
        observed_at=when,
        timezone=survey.started_at.tzinfo.key,  # type: ignore[union-attr]
        lon=round(lon, 5),
        lat=round(lat, 5),
        count=count,
        composition=_classes(rng, count, month),
        survey_id=survey.id,
        population=r.population,
        observer="bench",
        flags=("synthetic",),  # type: ignore[attr-defined]
    )


def _seen_again(rng: np.random.Generator, herd: Observation, key: str) -> Observation:
    """Another team, 0.5-6 hours later, a km or two away, counting within ±15%."""
    km = rng.normal(0, 1.5, 2)
    lon = round(herd.lon + km[0] / (111 * math.cos(math.radians(herd.lat))), 5)
    return Observation(
        id=uuid.uuid5(_NAMESPACE, key),
        observed_at=herd.observed_at + timedelta(hours=float(rng.uniform(0.5, 6))),
        timezone=herd.timezone,
        lon=lon,
        lat=round(herd.lat + km[1] / 111, 5),
        count=max(1, int(herd.count * rng.uniform(0.85, 1.15))),
        composition=herd.composition,
        survey_id=herd.survey_id,
        population=herd.population,
        observer="bench",
        flags=("synthetic",),
    )


def _classes(rng: np.random.Generator, count: int, month: int) -> Composition:
    classified = int(count * rng.uniform(0.3, 1.0))
    calves = int(classified * rng.uniform(0.12, 0.25)) if month >= 6 else 0
    females = int((classified - calves) * rng.uniform(0.55, 0.7))
    return Composition(classified - calves - females, females, 0, calves, count - classified)


def load(db: Path, n: int) -> tuple[int, float]:
    """Fill a fresh store: surveys through the store, sightings by executemany of its rows."""
    started = time.perf_counter()
    store = SQLiteStore(str(db), synchronous="OFF")
    store.migrate()
    all_surveys = surveys()
    for survey in all_surveys:
        store.add_survey(survey)
    store.close()
    observations = sightings(n, all_surveys, np.random.default_rng(11))
    con = sqlite3.connect(db)
    con.execute("PRAGMA synchronous = OFF")
    for start in range(0, len(observations), 50_000):
        chunk = _rows.tag_observations(observations[start : start + 50_000])
        seqs = range(start + 1, start + len(chunk) + 1)
        rows = _rows.observation_rows(chunk, seqs=seqs, upload_hashes=["bench"] * len(chunk))
        con.executemany(_INSERT, rows)
        con.commit()
    con.close()
    return len(observations), time.perf_counter() - started


def run_report(db: Path, out: Path, year: str) -> dict[str, float]:
    """The annual report end to end, each step timed."""
    marks = {"start": time.perf_counter()}
    cpu = time.process_time()
    store = SQLiteStore(str(db))
    inputs = load_inputs(store)
    store.close()
    marks["read sighting columns"] = time.perf_counter()
    tables = build_herds(inputs)
    marks["de-duplicate (all years)"] = time.perf_counter()
    report = compute_report(inputs, tables, "year", year)
    marks["compute tables"] = time.perf_counter()
    write_report(report, out, ("html", "pdf", "csv"))
    marks["charts, map, HTML, PDF, CSV"] = time.perf_counter()
    grouping = tables.grouping
    print(
        f"  sightings read: {len(inputs.sightings):,}; herds (all years): "
        f"{grouping.n_herds:,}; candidate pairs: {len(grouping.candidates):,}; "
        f"herds in {year}: {len(report.herds):,}"
    )
    print(
        f"  CPU time of this process: {time.process_time() - cpu:.1f} s "
        "(the machine's two cores are shared with other work; wall time below)"
    )
    names = list(marks)
    return {name: marks[name] - marks[names[k]] for k, name in enumerate(names[1:])}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--year", default="2024")
    parser.add_argument("--db", type=Path, help="keep the loaded store here and reuse it next time")
    parser.add_argument(
        "--http",
        action="store_true",
        help="also ask a real server for the report twice (the second reuses "
        "the herds while the data has not changed)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "bench.db"
        if db.exists():
            n = sqlite3.connect(db).execute("SELECT COUNT(*) FROM observations").fetchone()[0]
            print(f"reusing {db} with {n:,} SYNTHETIC observations")
        else:
            n, seconds = load(db, args.n)
            print(f"loaded {n:,} SYNTHETIC observations in {seconds:.1f} s (setup, not timed)")
        steps = run_report(db, Path(tmp) / "out", args.year)
        for name, took in steps.items():
            print(f"  {name:<30} {took:6.2f} s")
        total = sum(steps.values())
        print(
            f"annual report {args.year}, HTML + PDF + CSV over {n:,} observations: {total:.1f} s "
            f"(target <= 15 s: {'met' if total <= 15 else 'NOT met'})"
        )
        sizes = {p.suffix: p.stat().st_size for p in (Path(tmp) / "out").rglob("*") if p.suffix}
        print("  sizes: " + ", ".join(f"{k} {v / 1024:,.0f} KiB" for k, v in sorted(sizes.items())))
        if args.http:
            first, again = http_report_times(db, args.year)
            print(
                f"GET /api/v1/reports?every=year&period={args.year}&format=pdf through a real "
                f"server: {first:.1f} s, asked again: {again:.1f} s"
            )


def http_report_times(db: Path, year: str) -> tuple[float, float]:
    """Wall time of the same PDF report asked twice of `herdwatch serve` over the store."""
    import httpx

    from bench.ingest import serve
    from tests.live_server import free_port

    store = SQLiteStore(str(db))
    token = store.add_user(f"bench-{uuid.uuid4().hex[:8]}", "researcher")
    store.close()
    port = free_port()
    proc = serve(db, port)
    params = {"every": "year", "period": year, "format": "pdf"}
    times = []
    try:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            timeout=300,
            headers={"Authorization": f"Bearer {token}"},
        ) as client:
            for _ in range(2):
                began = time.perf_counter()
                client.get("/api/v1/reports", params=params).raise_for_status()
                times.append(time.perf_counter() - began)
    finally:
        proc.terminate()
        proc.wait(30)
    return times[0], times[1]


if __name__ == "__main__":
    main()
