"""The de-duplicated herds of one period as GeoJSON Features (the OGC `herds` collection).

Reads the herd cache's grouping (built once per version of the data), so a page of herds
costs a filter and the sighting ids of that page's herds only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from data.store import ObservationStore
from domain.errors import NotFound
from domain.i18n import Message
from domain.periods import parse_period
from domain.seasons import SeasonCalendar
from reports.herd_cache import HerdCache
from reports.herds import HerdTables, sighting_ids_by_herd


@dataclass(frozen=True)
class HerdFilter:
    every: str = "year"
    period: str | None = None  # None: the period of the most recent herd
    populations: tuple[str, ...] = ()
    bbox: tuple[float, float, float, float] | None = None
    start: datetime | None = None  # on the herd's first sighting
    end: datetime | None = None


@dataclass(frozen=True)
class HerdPage:
    features: list[dict[str, Any]]
    matched: int
    period: str | None


def herd_page(
    cache: HerdCache,
    store: ObservationStore,
    seasons: SeasonCalendar,
    wanted: HerdFilter,
    *,
    offset: int,
    limit: int,
) -> HerdPage:
    """One page of the period's herds (in time order of their first sighting)."""
    tables = cache.herds(store, seasons)[1]
    herds = tables.herds
    period = wanted.period
    if period is None and len(herds):
        period = str(herds[wanted.every].to_numpy()[herds["first_seen"].to_numpy().argmax()])
    if period is not None:
        parse_period(wanted.every, period, seasons)  # PeriodError names every or period
    chosen = herds[_mask(herds, wanted, period)].sort_values(["first_seen", "herd_id"])
    page = chosen.iloc[offset : offset + limit]
    ids = sighting_ids_by_herd(tables, page.index)
    features = [herd_feature(row, ids.get(herd, "")) for herd, row in page.iterrows()]
    return HerdPage(features, len(chosen), period)


def _mask(herds: Any, wanted: HerdFilter, period: str | None) -> np.ndarray:
    mask = (herds[wanted.every] == period).to_numpy().copy()  # a view may be read-only
    if wanted.populations:
        mask &= herds["population"].isin(wanted.populations).to_numpy()
    if wanted.bbox is not None:
        west, south, east, north = wanted.bbox
        lon, lat = herds["lon"].to_numpy(), herds["lat"].to_numpy()
        in_lon = (lon >= west) & (lon <= east) if west <= east else (lon >= west) | (lon <= east)
        mask &= in_lon & (lat >= south) & (lat <= north)
    seen = herds["first_seen"].to_numpy()
    if wanted.start is not None:
        mask &= seen >= wanted.start.timestamp()
    if wanted.end is not None:
        mask &= seen <= wanted.end.timestamp()
    return mask


def find_herd(
    cache: HerdCache, store: ObservationStore, seasons: SeasonCalendar, herd_id: str
) -> dict[str, Any]:
    """One herd by its id (its first sighting's id), whatever its period."""
    tables: HerdTables = cache.herds(store, seasons)[1]
    found = tables.herds[tables.herds["herd_id"] == herd_id]
    if found.empty:
        raise NotFound(
            Message("no herd with id {herd_id}", herd_id=str(herd_id)), field="featureId"
        )
    ids = sighting_ids_by_herd(tables, found.index)
    herd = found.index[0]
    return herd_feature(found.iloc[0], ids.get(herd, ""))


def herd_feature(row: Any, sighting_ids: str) -> dict[str, Any]:
    """A herd as a Feature: its place and size from its largest sighting."""
    props = {
        "herd_id": row["herd_id"],
        "population": row["population"],
        "area": row["area"],
        "size": int(row["size"]),
        "sightings": int(row["sightings"]),
        "sighting_ids": sighting_ids.split(),
        "survey_id": row["survey_id"] or None,
        "first_seen": datetime.fromtimestamp(row["first_seen"], UTC).isoformat(),
        "last_seen": datetime.fromtimestamp(row["last_seen"], UTC).isoformat(),
        "year": row["year"],
        "season": row["season"],
        "month": row["month"],
    }
    point = [round(float(row["lon"]), 6), round(float(row["lat"]), 6)]
    return {
        "type": "Feature",
        "id": row["herd_id"],
        "geometry": {"type": "Point", "coordinates": point},
        "properties": props,
    }
