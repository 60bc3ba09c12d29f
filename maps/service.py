"""From filters to a herd-count map: store aggregates in, maps.herd_map out (HTTP-free).

Shared by GET /maps/herd-counts, the viewer and `herdwatch map`. The store does the
aggregation (in SQL); this module only picks the cell size, fills in empty periods and
decides whether few enough sightings are left to draw them one by one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import folium

from domain.i18n import Translator, translator
from domain.periods import fill_periods
from domain.records import HerdCount, Observation, ObservationQuery, Page, Period
from domain.seasons import SeasonCalendar
from geo.coords import to_equal_area
from geo.grid import CELL_SIZES_M, cell_size_for_extent, parse_cell_key
from maps.assets import MapAssets
from maps.herd_map import SAKHA_BOUNDS, herd_count_map


class MapSource(Protocol):
    """What a map reads from a store (data.store.ObservationStore is one)."""

    def herd_counts(
        self,
        query: ObservationQuery,
        *,
        every: Period,
        by: str = ...,
        cell_size_m: float = ...,
        seasons: SeasonCalendar | None = ...,
    ) -> list[HerdCount]: ...

    def query_observations(self, query: ObservationQuery) -> Page: ...


@dataclass(frozen=True, slots=True)
class MapOptions:
    """What every map takes from the configuration (field_api builds it from Settings)."""

    seasons: SeasonCalendar = field(default_factory=SeasonCalendar)
    sightings_max: int = 500  # draw the sightings one by one up to this many
    tile_url: str = ""
    tile_attribution: str = ""
    boundaries: dict[str, Any] | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class HerdMapData:
    """What one map shows: the cell counts, their size, the periods and any sightings."""

    counts: list[HerdCount]
    cell_size_m: float
    periods: list[str]
    sightings: list[Observation]
    view: str = "sightings"  # "herds": de-duplicated herds (the report's); "sightings": raw


def load_map_data(
    store: MapSource,
    query: ObservationQuery,
    *,
    every: Period,
    options: MapOptions,
    cell_size_m: float | None = None,
    view: str = "sightings",
) -> HerdMapData:
    """Aggregate in the store at a cell size that suits the extent, then fetch few sightings."""
    calendar = options.seasons
    size = cell_size_m or cell_size_for_extent(*bbox_extent_m(query.bbox or SAKHA_BOUNDS))
    counts = store.herd_counts(query, every=every, by="cell", cell_size_m=size, seasons=calendar)
    finer = None if cell_size_m else _finer_size_for(counts, size)
    if finer is not None:  # the data fill a small part of the area: look closer
        size = finer
        counts = store.herd_counts(
            query, every=every, by="cell", cell_size_m=size, seasons=calendar
        )
    periods = fill_periods({c.period for c in counts}, every, calendar)
    sightings = _few_sightings(store, query, counts, options.sightings_max)
    return HerdMapData(counts, size, periods, sightings, view)


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


def _few_sightings(
    store: MapSource,
    query: ObservationQuery,
    counts: Sequence[HerdCount],
    limit: int,
) -> list[Observation]:
    """The individual sightings when the filter leaves at most `limit` of them."""
    total = sum(c.sightings for c in counts)  # free: the aggregate already counted them
    if total == 0 or total > limit:
        return []
    return store.query_observations(replace(query, limit=limit, after=None)).items


def build_herd_map(
    data: HerdMapData,
    *,
    every: Period,
    options: MapOptions,
    assets: MapAssets,
    side_html: str = "",
    title: str | None = None,
    t: Translator | None = None,
) -> folium.Map:
    """The folium map of one HerdMapData, with the boundaries and tiles of the options, in
    t's language (English when None)."""
    return herd_count_map(
        data.counts,
        every=every,
        cell_size_m=data.cell_size_m,
        periods=data.periods,
        sightings=data.sightings,
        boundaries=options.boundaries,
        tile_url=options.tile_url,
        tile_attribution=options.tile_attribution,
        assets=assets,
        title=title,
        side_html=side_html,
        seasons=options.seasons,
        view=data.view,
        t=t,
    )


def generated_note(now: datetime | None = None, t: Translator | None = None) -> str:
    """A line saying when and from what the map was made (for saved files), in t's language."""
    from markupsafe import escape

    t = t or translator()
    moment = t.format_datetime(now or datetime.now(ZoneInfo("UTC")))
    note = t.gettext("Made by Herdwatch on {moment} UTC.").format(moment=moment)
    return f'<p class="hw-note">{escape(note)}</p>'
