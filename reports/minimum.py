"""A period's minimum count from single surveys, never a sum of repeated surveys (pure).

Herds are de-duplicated within hours (geo.dedup), so the same animals seen by the March
snowmobile survey, the July aerial survey and the September foot survey are three herds.
Adding those up counts the population up to three times. The figure a population
biologist signs is therefore taken from one survey:

1. Each herd belongs to the survey of its defining (largest) sighting. Herds whose
   sighting names no survey are grouped into survey windows: per population, in order of
   local date, a window runs while the gap to the previous unsurveyed herd is at most
   WINDOW_GAP_DAYS and the window is at most WINDOW_MAX_DAYS long.
2. A survey's minimum count is the sum of its herds' sizes (within the period, and within
   the area for an area's row).
3. The minimum count of a population (or of a population in one area) for a period is the
   count of its designated census survey when the programme has designated one for that
   population and season (CensusRule) and it saw the population there; otherwise the
   largest single-survey minimum count. "All populations" adds up each population's own
   figure (different populations are different animals).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from domain.census import CensusRule

WINDOW_GAP_DAYS = 3
WINDOW_MAX_DAYS = 7
WINDOW_PREFIX = "window:"


def survey_keys(herds: pd.DataFrame) -> pd.Series:
    """The survey (or survey window, rule 1) each herd is counted in."""
    ids = herds["survey_id"]
    loose = herds[((ids == "") | ids.isna()).to_numpy()]
    if len(loose) == 0:
        return ids  # every herd in a survey (a copy of Python strings cost a tenth of a second)
    keys = ids.astype(object)
    # Whole days in numpy: pandas' nanosecond times end at 1677, and any stored day is kept.
    dates = np.array(loose["local_date"].astype(str).to_numpy(), dtype="datetime64[D]")
    order = np.lexsort((dates, loose["population"].to_numpy()))
    windows = _windows(loose["population"].to_numpy()[order], dates[order])
    keys.loc[loose.index[order]] = windows
    return keys


def _windows(populations: np.ndarray, dates: np.ndarray) -> list[str]:
    """Window keys for herds sorted by population, then local date (rule 1)."""
    day = np.timedelta64(1, "D")
    keys: list[str] = []
    start = previous = None
    current = ""
    for i, (population, when) in enumerate(zip(populations, dates, strict=True)):
        new_population = i == 0 or population != populations[i - 1]
        if (
            new_population
            or (when - previous) / day > WINDOW_GAP_DAYS
            or (when - start) / day >= WINDOW_MAX_DAYS
        ):
            start = when
            current = f"{WINDOW_PREFIX}{population}:{np.datetime_as_string(when, unit='D')}"
        previous = when
        keys.append(current)
    return keys


SURVEY_COUNT_COLUMNS = [
    "population",
    "area",
    "survey",
    "season",
    "first_date",
    "last_date",
    "herds",
    "sightings",
    "minimum_count",
]


def survey_counts(herds: pd.DataFrame, *, dates: bool = True) -> pd.DataFrame:
    """Per population, area and survey: herds, sightings and the survey's minimum count.

    `herds` carry "survey" (survey_keys) and "season_name" (the season of their period)."""
    if len(herds) == 0:
        return pd.DataFrame(columns=SURVEY_COUNT_COLUMNS)
    grouped = herds.groupby(["population", "area", "survey"], sort=True)
    frame = grouped.agg(
        season=("season_name", "first"),
        herds=("size", "size"),
        sightings=("sightings", "sum"),
        minimum_count=("size", "sum"),
    ).reset_index()
    if not dates:  # min/max of date texts run in Python per group: skipped for the trend
        return frame
    spans = grouped["local_date"].agg(["min", "max"]).to_numpy()
    frame["first_date"], frame["last_date"] = spans[:, 0], spans[:, 1]
    return frame[SURVEY_COUNT_COLUMNS]


@dataclass(frozen=True, slots=True)
class Figure:
    """A minimum count and the survey it comes from ("" for none)."""

    count: int
    survey: str
    herds: int
    surveys: int
    census: bool = False


NO_FIGURE = Figure(0, "", 0, 0)


def choose(per_survey: Iterable[Mapping[Any, Any]], population: str, rule: CensusRule) -> Figure:
    """Rule 3 over one population's rows of survey_counts (records, narrowed to an area or
    over all areas): the census survey's count, else the largest survey's. Plain Python:
    these are a few rows per population, and pandas' per-group cost was most of a report."""
    totals: dict[str, list[Any]] = {}  # survey → [count, herds, season]
    for row in per_survey:
        entry = totals.setdefault(str(row["survey"]), [0, 0, row["season"]])
        entry[0] += int(row["minimum_count"])
        entry[1] += int(row["herds"])
    if not totals:
        return NO_FIGURE
    census = [s for s in totals if s in rule.surveys]
    if not census and population in rule.seasons:
        census = [s for s, t in totals.items() if t[2] == rule.seasons[population]]
    pool = sorted(census or totals)  # ties go to the first survey key
    best = max(pool, key=lambda s: totals[s][0])
    count, herds, _ = totals[best]
    return Figure(count, best, herds, len(totals), bool(census))


def figures(
    counts: pd.DataFrame, rule: CensusRule, areas: bool = True
) -> dict[tuple[str, str], Figure]:
    """(population, area) → Figure, with area "" for the population over all its areas."""
    by_population: dict[str, list[dict[Any, Any]]] = {}
    for row in counts.to_dict("records"):
        by_population.setdefault(str(row["population"]), []).append(row)
    found: dict[tuple[str, str], Figure] = {}
    for pop in sorted(by_population):
        rows = by_population[pop]
        found[(pop, "")] = choose(rows, pop, rule)
        if areas:
            for area in sorted({str(r["area"]) for r in rows}):
                in_area = [r for r in rows if r["area"] == area]
                found[(pop, area)] = choose(in_area, pop, rule)
    return found


def is_window(survey: str) -> bool:
    return survey.startswith(WINDOW_PREFIX)
