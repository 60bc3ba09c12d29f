"""Maps of de-duplicated herds: the kept herd grouping as the map's source of cell counts.

The map shows what the report counts: per period and population, the herds of the one
survey the report takes the minimum count from (reports.minimum), each herd in the cell and
period of the sighting that defines it. Herds are grouped over all sightings first and
filtered afterwards, so a filter never splits a herd. maps.service draws these counts as
it draws raw sightings' (it reads them through the same MapSource protocol).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from data.store import ObservationStore
from domain.census import CensusRule
from domain.errors import InvalidInput
from domain.i18n import Message
from domain.records import HerdCount, ObservationQuery, Page, Period, Survey
from domain.seasons import SeasonCalendar
from geo.grid import cell_centre_lon_lat
from maps.service import MapSource
from reports.herd_cache import HerdCache
from reports.herds import HerdTables
from reports.minimum import choose
from reports.population import herds_with_surveys

CLASSES = ("adult_males", "adult_females", "yearlings", "calves", "unclassified")
VIEWS = ("herds", "sightings")


def map_source(
    view: str,
    store: ObservationStore,
    cache: HerdCache,
    seasons: SeasonCalendar,
    census: CensusRule | None = None,
) -> MapSource:
    """What a map draws: de-duplicated herds from the kept grouping, or the store's raw
    sightings (aggregated in SQL)."""
    if view not in VIEWS:
        raise InvalidInput(Message("view must be herds or sightings"), field="view")
    if view == "sightings":
        return store
    inputs, tables = cache.herds(store, seasons)
    return HerdMapSource(store, tables, inputs.surveys, census)


class HerdMapSource:
    """Cell counts of de-duplicated herds (herd_counts) and raw sightings (from the store)."""

    def __init__(
        self,
        store: ObservationStore,
        tables: HerdTables,
        surveys: dict[str, Survey],
        census: CensusRule | None = None,
    ) -> None:
        self._store, self._tables, self._surveys = store, tables, surveys
        self._census = census or CensusRule()

    def query_observations(self, query: ObservationQuery) -> Page:
        return self._store.query_observations(query)

    def herd_counts(
        self,
        query: ObservationQuery,
        *,
        every: Period,
        by: str = "cell",
        cell_size_m: float = 50_000.0,
        seasons: SeasonCalendar | None = None,
    ) -> list[HerdCount]:
        """Herds of each period's counting surveys, summed per cell (by="cell" only)."""
        if by != "cell":
            raise InvalidInput(Message("herd maps are drawn by cell"), field="by")
        herds = counting_herds(
            herds_with_surveys(self._tables), query, every, self._census, self._surveys
        )
        return cell_counts(herds, every, cell_size_m)


def counting_herds(
    herds: pd.DataFrame,
    query: ObservationQuery,
    every: Period,
    census: CensusRule,
    surveys: dict[str, Survey],
) -> pd.DataFrame:
    """The filtered herds of each (period, population)'s counting survey."""
    chosen = herds[_filter(herds, query, surveys)]
    if len(chosen) == 0:
        return chosen
    totals = chosen.groupby([every, "population", "survey"], sort=True).agg(
        minimum_count=("size", "sum"), herds=("size", "size"), season=("season_name", "first")
    )
    groups: dict[tuple[str, str], list[dict[Any, Any]]] = {}
    for (period, population, survey), row in zip(
        totals.index, totals.to_dict("records"), strict=True
    ):
        groups.setdefault((str(period), str(population)), []).append({"survey": survey, **row})
    counting = {
        (period, pop, choose(rows, pop, census).survey) for (period, pop), rows in groups.items()
    }
    keys = pd.MultiIndex.from_arrays([chosen[every], chosen["population"], chosen["survey"]])
    return chosen[keys.isin(list(counting))]


def _filter(herds: pd.DataFrame, query: ObservationQuery, surveys: dict[str, Survey]) -> np.ndarray:
    """Which herds the query selects, by their defining sighting (place, population, survey)
    and their first sighting (time)."""
    if query.methods:
        raise InvalidInput(
            Message(
                "a herd merges sightings counted in different ways, so herds cannot be filtered "
                "by count method: filter by survey method, or show raw sightings (view=sightings)"
            ),
            field="method",
        )
    keep = np.ones(len(herds), dtype=bool)
    if query.populations:
        keep &= herds["population"].isin(query.populations).to_numpy()
    if query.survey_id is not None:
        keep &= (herds["survey_id"] == query.survey_id).to_numpy()
    if query.survey_methods:
        method = herds["survey_id"].map({k: s.method for k, s in surveys.items()})
        keep &= method.isin(query.survey_methods).to_numpy()
    keep &= _in_time(herds["first_seen"].to_numpy(), query.start, query.end)
    if query.bbox is not None:
        west, south, east, north = query.bbox
        lon, lat = herds["lon"].to_numpy(), herds["lat"].to_numpy()
        if east < west:  # the box crosses 180°
            keep &= (lon >= west) | (lon <= east)
        else:
            keep &= (lon >= west) & (lon <= east)
        keep &= (lat >= south) & (lat <= north)
    return keep


def _in_time(first_seen: np.ndarray, start: datetime | None, end: datetime | None) -> np.ndarray:
    keep = np.ones(len(first_seen), dtype=bool)
    if start is not None:
        keep &= first_seen >= int(start.timestamp())
    if end is not None:
        keep &= first_seen <= end.timestamp()
    return keep


def cell_counts(herds: pd.DataFrame, every: Period, cell_size_m: float) -> list[HerdCount]:
    """HerdCount rows per period, population and EPSG:3576 cell, cells keyed "ix:iy"."""
    if len(herds) == 0:
        return []
    cells = herds.assign(
        ix=np.floor(herds["x"].to_numpy() / cell_size_m).astype(np.int64),
        iy=np.floor(herds["y"].to_numpy() / cell_size_m).astype(np.int64),
        **{c: herds[c].clip(lower=0) for c in CLASSES},  # -1: not recorded
    )
    grouped = cells.groupby([every, "population", "ix", "iy"], sort=True).agg(
        herds=("size", "size"),
        sightings=("sightings", "sum"),
        animals=("size", "sum"),
        **{c: (c, "sum") for c in CLASSES},
    )
    counts = []
    for (period, population, ix, iy), row in zip(
        grouped.index, grouped.to_dict("records"), strict=True
    ):
        lon, lat = cell_centre_lon_lat(int(ix), int(iy), cell_size_m)
        counts.append(
            HerdCount(
                period=str(period),
                population=str(population),
                key=f"{ix}:{iy}",
                lon=lon,
                lat=lat,
                sightings=int(row["sightings"]),
                animals=int(row["animals"]),
                adult_males=int(row["adult_males"]),
                adult_females=int(row["adult_females"]),
                yearlings=int(row["yearlings"]),
                calves=int(row["calves"]),
                unclassified=int(row["unclassified"]),
                herds=int(row["herds"]),
            )
        )
    return counts
