"""Synthetic demo data: every record is made up here and flagged "synthetic".

The populations are the real wild populations of Yakutia; their seasonal ranges below are
rough sketches for a demonstration (not survey results), with herd sizes and sex/age
composition in plausible ranges for tundra and forest reindeer.
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from domain.records import Composition, Observation, Survey

SYNTHETIC_FLAG = "synthetic"
_NAMESPACE = uuid.UUID("6f1c1c52-8a52-4bb8-9a1e-5e1d2a0f0b77")


@dataclass(frozen=True)
class DemoRange:
    """Where a population is in summer and in winter (lon, lat), and how big its herds run."""

    population: str
    summer: tuple[float, float]
    winter: tuple[float, float]
    spread_km: float
    median_herd: float
    timezone: str
    size_trend: float  # yearly multiplier of sightings, so trends have something to show


RANGES: tuple[DemoRange, ...] = (
    DemoRange("lena-olenek", (122.5, 72.3), (119.0, 69.6), 180, 120, "Asia/Yakutsk", 1.06),
    DemoRange("yana-indigirka", (141.5, 71.4), (138.0, 69.2), 150, 60, "Asia/Vladivostok", 0.93),
    DemoRange("sundrun", (152.0, 70.6), (150.0, 68.7), 120, 45, "Asia/Srednekolymsk", 0.97),
    DemoRange(
        "new-siberian-islands", (140.5, 75.3), (142.5, 72.6), 90, 25, "Asia/Vladivostok", 1.0
    ),
    DemoRange("forest", (128.0, 60.5), (127.0, 59.8), 250, 8, "Asia/Yakutsk", 1.01),
    DemoRange("taimyr", (101.0, 72.5), (112.5, 69.8), 200, 150, "Asia/Yakutsk", 0.95),
)
# Survey windows (month, day, method): post-calving aerial counts, spring snowmobile, foot.
WINDOWS: tuple[tuple[int, int, str], ...] = (
    (7, 10, "aerial"),
    (3, 20, "snowmobile"),
    (9, 25, "foot"),
)


def demo_dataset(
    *, years: range = range(2019, 2026), per_survey: int = 60, seed: int = 42
) -> tuple[list[Survey], list[Observation]]:
    """Surveys and observations for each population, year and survey window."""
    rng = random.Random(seed)
    surveys: list[Survey] = []
    observations: list[Observation] = []
    for year in years:
        for r in RANGES:
            for month, day, method in WINDOWS:
                survey = _survey(r, year, month, day, method)
                surveys.append(survey)
                n = max(
                    3,
                    int(per_survey * r.size_trend ** (year - years.start) * rng.uniform(0.8, 1.2)),
                )
                observations += [_sighting(rng, r, survey, month, i) for i in range(n)]
    return surveys, observations


def _survey(r: DemoRange, year: int, month: int, day: int, method: str) -> Survey:
    start = datetime(year, month, day, 9, 0, tzinfo=ZoneInfo(r.timezone))
    return Survey(
        id=f"demo-{r.population}-{year}-{month:02d}-{method}",
        method=method,
        started_at=start,
        ended_at=start + timedelta(days=4),
        name=f"{r.population} {method} survey {year}",
        team=("synthetic team",),
        platform={"aerial": "An-2", "snowmobile": "Buran"}.get(method),
        notes="synthetic demo survey",
        created_by="demo",
    )


def _sighting(rng: random.Random, r: DemoRange, survey: Survey, month: int, i: int) -> Observation:
    summer = 5 <= month <= 9
    lon0, lat0 = r.summer if summer else r.winter
    lon, lat = _jitter(rng, lon0, lat0, r.spread_km)
    count = max(
        1, int(rng.lognormvariate(math.log(r.median_herd * (1.6 if month == 7 else 1.0)), 0.9))
    )
    when = survey.started_at + timedelta(hours=rng.uniform(0, 96))
    return Observation(
        id=uuid.uuid5(_NAMESPACE, f"{survey.id}/{i}"),
        observed_at=when,
        timezone=r.timezone,
        lon=round(lon, 5),
        lat=round(lat, 5),
        accuracy_m=rng.choice((5.0, 10.0, 50.0, 250.0)),
        count=count,
        composition=_composition(rng, count, month),
        count_method="photo"
        if survey.method == "aerial" and count > 200
        else rng.choice(("visual", "estimate")),
        survey_id=survey.id,
        population=r.population,
        behaviour=rng.choice(("grazing", "moving", "resting")),
        notes="synthetic demo record",
        device_id=f"demo-tablet-{i % 7}",
        observer="demo",
        flags=(SYNTHETIC_FLAG,),
    )


def _jitter(rng: random.Random, lon: float, lat: float, spread_km: float) -> tuple[float, float]:
    dy = rng.gauss(0, spread_km) / 111.0
    dx = rng.gauss(0, spread_km) / (111.0 * math.cos(math.radians(lat)))
    return lon + dx, max(55.0, min(77.5, lat + dy))


def _composition(rng: random.Random, count: int, month: int) -> Composition:
    """Classify part of the herd; calves only after calving (June onwards)."""
    classified = int(count * rng.uniform(0.3, 1.0))
    calves = int(classified * rng.uniform(0.12, 0.25)) if 6 <= month <= 12 else 0
    yearlings = int(classified * rng.uniform(0.05, 0.12))
    females = int((classified - calves - yearlings) * rng.uniform(0.55, 0.7))
    males = classified - calves - yearlings - females
    return Composition(males, females, yearlings, calves, count - classified)
