"""From filters to a herd-count map: store aggregates in, maps.herd_map out (HTTP-free).

Shared by GET /maps/herd-counts, the viewer and `herdwatch map`. The store does the
aggregation (in SQL); this module only picks the cell size, fills in empty periods and
decides whether few enough sightings are left to draw them one by one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

import folium

from data.reference import boundaries_geojson
from data.store import ObservationStore
from domain.records import HerdCount, Observation, ObservationQuery, Period
from domain.seasons import SeasonCalendar, period_key
from field_api.settings import Settings
from geo.coords import to_equal_area
from geo.grid import CELL_SIZES_M, cell_size_for_extent, parse_cell_key
from maps.assets import MapAssets
from maps.herd_map import herd_count_map

# Lon/lat box of the Sakha Republic: the extent when the filter names no area.
STUDY_AREA = (105.5, 55.5, 163.0, 77.0)


@dataclass(frozen=True, slots=True)
class HerdMapData:
    """What one map shows: the cell counts, their size, the periods and any sightings."""

    counts: list[HerdCount]
    cell_size_m: float
    periods: list[str]
    sightings: list[Observation]


def load_map_data(
    store: ObservationStore,
    query: ObservationQuery,
    *,
    every: Period,
    settings: Settings,
    cell_size_m: float | None = None,
) -> HerdMapData:
    """Aggregate in the store at a cell size that suits the extent, then fetch few sightings."""
    calendar = settings.season_calendar
    size = cell_size_m or cell_size_for_extent(*bbox_extent_m(query.bbox or STUDY_AREA))
    counts = store.herd_counts(query, every=every, by="cell", cell_size_m=size, seasons=calendar)
    finer = None if cell_size_m else _finer_size_for(counts, size)
    if finer is not None:  # the data fill a small part of the area: look closer
        size = finer
        counts = store.herd_counts(
            query, every=every, by="cell", cell_size_m=size, seasons=calendar
        )
    periods = fill_periods({c.period for c in counts}, every, calendar)
    return HerdMapData(counts, size, periods, _few_sightings(store, query, counts, settings))


def bbox_extent_m(bbox: Sequence[float]) -> tuple[float, float]:
    """Width and height in EPSG:3576 metres of a lon/lat box (edges sampled: they curve)."""
    west, south, east, north = bbox
    if east < west:  # crosses 180°
        east += 360.0
    steps = [i / 8 for i in range(9)]
    lons = [west + (east - west) * t for t in steps for _ in (0, 1)]
    lats = [lat for _ in steps for lat in (south, north)]
    lons += [west, east] * len(steps)
    lats += [south + (north - south) * t for t in steps for _ in (0, 1)]
    xs, ys = to_equal_area([((lon + 180) % 360) - 180 for lon in lons], lats)
    return float(xs.max() - xs.min()), float(ys.max() - ys.min())


def _finer_size_for(counts: Sequence[HerdCount], size: float) -> float | None:
    """A smaller listed cell size when the occupied cells span only a few cells."""
    if not counts:
        return None
    indices = [parse_cell_key(c.key) for c in counts]
    width = (max(i for i, _ in indices) - min(i for i, _ in indices) + 1) * size
    height = (max(j for _, j in indices) - min(j for _, j in indices) + 1) * size
    better = cell_size_for_extent(width, height)
    return better if better < size and better in CELL_SIZES_M else None


def fill_periods(present: set[str], every: Period, calendar: SeasonCalendar) -> list[str]:
    """Every period from the first to the last present, empty ones included, in time order."""
    if not present:
        return []
    if every == "year":
        years = sorted(int(p) for p in present)
        return [f"{y:04d}" for y in range(years[0], years[-1] + 1)]
    if every == "month":
        months = sorted(int(p[:4]) * 12 + int(p[5:7]) - 1 for p in present)
        return [f"{m // 12:04d}-{m % 12 + 1:02d}" for m in range(months[0], months[-1] + 1)]
    names = [name for name, _ in calendar.starts]
    years = sorted(int(p[:4]) for p in present)
    seasons = [f"{y:04d}-{n}" for y in range(years[0], years[-1] + 1) for n in names]
    found = [seasons.index(p) for p in present if p in seasons]
    # Season names no longer in the calendar (it was changed) go last rather than vanish.
    stray = sorted(p for p in present if p not in seasons)
    return (seasons[min(found) : max(found) + 1] if found else []) + stray


def _few_sightings(
    store: ObservationStore,
    query: ObservationQuery,
    counts: Sequence[HerdCount],
    settings: Settings,
) -> list[Observation]:
    """The individual sightings when the filter leaves at most settings.map_sightings_max."""
    total = sum(c.sightings for c in counts)  # free: the aggregate already counted them
    limit = settings.map_sightings_max
    if total == 0 or total > limit:
        return []
    return store.query_observations(replace(query, limit=limit, after=None)).items


def season_period_of(calendar: SeasonCalendar, every: Period) -> Callable[[Observation], str]:
    """The period of one sighting, in its local time, as the store computes it."""

    def period_of(obs: Observation) -> str:
        local = obs.observed_at.astimezone(ZoneInfo(obs.timezone)).date()
        return period_key(local, every, calendar)

    return period_of


def build_herd_map(
    data: HerdMapData,
    *,
    every: Period,
    settings: Settings,
    assets: MapAssets,
    side_html: str = "",
    title: str = "Wild reindeer counted",
) -> folium.Map:
    """The folium map of one HerdMapData, with the Sakha boundary and the configured tiles."""
    return herd_count_map(
        data.counts,
        every=every,
        cell_size_m=data.cell_size_m,
        periods=data.periods,
        sightings=data.sightings,
        boundaries=boundaries_geojson(),
        tile_url=settings.tile_url,
        tile_attribution=settings.tile_attribution,
        assets=assets,
        title=title,
        side_html=side_html,
        period_of=season_period_of(settings.season_calendar, every),
    )


def generated_note(now: datetime | None = None) -> str:
    """A line saying when and from what the map was made (for saved files)."""
    moment = (now or datetime.now(ZoneInfo("UTC"))).strftime("%Y-%m-%d %H:%M UTC")
    return f'<p class="hw-note">Made by Herdwatch on {moment}.</p>'
