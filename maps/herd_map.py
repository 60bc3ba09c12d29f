"""Herd-count maps over time: counts per equal-area cell and period, drawn with folium.

Pure: HerdCount rows (already aggregated by the store) in, a folium.Map out. This is the
one module that knows folium wants [lat, lon]; everything handed in is lon/lat.

The page stays small whatever the number of observations: the cells are sent once as a
compact JSON table, and a small script draws one period at a time (graduated circles per
population layer), driven by a time slider.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import folium
from branca.element import Element, MacroElement
from folium.plugins import MarkerCluster
from markupsafe import Markup

from domain.i18n import Translator, translator
from domain.periods import local_period_key
from domain.records import COMPOSITION_FIELDS, COUNT_METHODS, POPULATIONS, HerdCount, Observation
from domain.seasons import SeasonCalendar
from domain.terms import COUNT_METHOD_NAMES, PER_PERIOD, PERIOD_HEADINGS, name_of, period_label
from maps.assets import MapAssets, inline_header, no_assets, use_assets
from maps.boundaries import boundary_layer, geojson_bounds
from maps.style import (
    map_css,
    map_js,
    population_colour,
    population_label,
    render,
    script_messages,
    templates,
)

# The largest circle, in pixels; areas (not radii) scale with the count.
MAX_RADIUS_PX = 28
PeriodOf = Callable[[Observation], str]
# Sakha's extent (lon/lat) for an empty map.
SAKHA_BOUNDS = (105.5, 55.5, 163.0, 77.0)


@dataclass(frozen=True, slots=True)
class PeriodTotal:
    """Sightings and animals of one period, summed over the populations on the map."""

    period: str
    sightings: int
    animals: int
    calves: int
    adult_females: int
    herds: int = 0


def herd_count_map(
    counts: Sequence[HerdCount],
    *,
    every: str,
    cell_size_m: float,
    periods: Sequence[str] | None = None,
    sightings: Sequence[Observation] = (),
    boundaries: dict[str, Any] | None = None,
    tile_url: str = "",
    tile_attribution: str = "",
    assets: MapAssets | None = None,
    title: str | None = None,
    side_html: str = "",
    seasons: SeasonCalendar | None = None,
    view: str = "sightings",
    t: Translator | None = None,
) -> folium.Map:
    """A herd-count map over time from cell counts (HerdCount rows with by="cell").

    Args:
        counts: cell counts per period and population (key "ix:iy", lon/lat the cell centre).
        every: "year", "season" or "month": named in the legend.
        cell_size_m: the EPSG:3576 cell size the counts were aggregated with.
        periods: the slider's periods in time order; defaults to the sorted periods present.
        sightings: individual observations to draw clustered (the caller passes them only
            when the filter leaves few).
        boundaries: a GeoJSON FeatureCollection of regions (name in `shapeName`).
        tile_url: a base-map tile URL template; empty for none (the boundaries give shape).
        side_html: HTML placed above the totals in the side panel (e.g. a filter form).
        seasons: the calendar of every="season" (the default calendar when None).
        view: "herds" when the counts are de-duplicated herds (HerdCount.herds set, the
            report's minimum counts), "sightings" when they are sums of raw sightings.
        t: the page's language (English when None): every word, number, date and period
            label on the page, and the words its script shows.
    """
    t = t or translator()
    title = title or t.gettext("Wild reindeer counted")
    assets = assets or MapAssets()
    period_list = list(periods) if periods is not None else sorted({c.period for c in counts})
    populations = _populations(counts, sightings)
    # maxZoom on the map itself: with no tile layer Leaflet (and the clusters) need it.
    m = folium.Map(
        location=[66.0, 130.0], zoom_start=4, tiles=None, control_scale=True, maxZoom=13, minZoom=2
    )
    use_assets(m, assets)
    if tile_url:
        folium.TileLayer(
            tiles=tile_url,
            attr=tile_attribution or t.gettext("base map"),
            name=t.gettext("Base map"),
            overlay=False,
            control=False,
        ).add_to(m)
    if boundaries:
        boundary_layer(boundaries, t).add_to(m)
    groups = [folium.FeatureGroup(name=_layer_label(p, t), show=True) for p in populations]
    for group in groups:
        group.add_to(m)
    cluster = _sightings_cluster(sightings, t) if sightings else None
    if cluster is not None:
        cluster.add_to(m)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    data = map_payload(counts, period_list, populations, sightings, _period_of(every, seasons), t=t)
    data["view"] = view
    totals = period_totals(counts, period_list)
    TimeSlider(
        data,
        groups,
        cluster,
        every=every,
        cell_size_m=cell_size_m,
        bounds=_bounds(counts, boundaries),
    ).add_to(m)
    _add_page(
        m,
        data,
        totals,
        assets=assets,
        title=title,
        every=every,
        side_html=side_html,
        cell_size_m=cell_size_m,
        view=view,
        t=t,
    )
    return m


def render_html(m: folium.Map) -> str:
    """The whole page as one HTML string."""
    html: str = m.get_root().render()
    return html


def _populations(counts: Sequence[HerdCount], sightings: Sequence[Observation]) -> list[str]:
    """Populations present, in the reference list's order, then others by name."""
    present = {c.population for c in counts} | {o.population for o in sightings}
    order = {p: i for i, p in enumerate(POPULATIONS)}
    return sorted(present, key=lambda p: (order.get(p, len(order)), p))


def _layer_label(population: str, t: Translator) -> str:
    colour, name = population_colour(population), population_label(population, t)
    return render("layer_label.html", t, colour=colour, name=name)


def _sightings_cluster(sightings: Sequence[Observation], t: Translator) -> MarkerCluster:
    n = t.format_number(len(sightings))
    cluster = MarkerCluster(
        name=t.gettext("Individual sightings ({n})").format(n=n),
        show=True,
        options={"maxClusterRadius": 40},
    )
    no_assets(cluster)
    return cluster


def _bounds(counts: Sequence[HerdCount], boundaries: dict[str, Any] | None) -> list[list[float]]:
    """[[south, west], [north, east]] around the cells, else around Sakha."""
    if counts:
        lons = [unwrap_lon(c.lon) for c in counts]
        lats = [c.lat for c in counts]
        west, south, east, north = min(lons), min(lats), max(lons), max(lats)
        pad = 1.0
        return [[south - pad, west - pad], [north + pad, east + pad]]
    west, south, east, north = (
        geojson_bounds(boundaries, "Sakha Republic") if boundaries else SAKHA_BOUNDS
    )
    return [[south, west], [north, east]]


def unwrap_lon(lon: float) -> float:
    """Chukotka runs past 180°: draw 170°W as 190°E so the Far East stays in one piece."""
    return lon + 360.0 if lon < -90.0 else lon


def map_payload(
    counts: Sequence[HerdCount],
    periods: Sequence[str],
    populations: Sequence[str],
    sightings: Sequence[Observation] = (),
    period_of: PeriodOf | None = None,
    *,
    t: Translator | None = None,
) -> dict[str, Any]:
    """The compact table the page's script draws from (also what the tests read back).

    counts[i] holds period i's rows: [population index, cell index, animals, sightings,
    adult males, adult females, yearlings, calves, unclassified, herds (0 for raw sightings)].
    Population names and the sightings' local times are in t's language.
    """
    t = t or translator()
    period_index = {p: i for i, p in enumerate(periods)}
    pop_index = {p: i for i, p in enumerate(populations)}
    cells: dict[str, int] = {}
    cell_rows: list[list[Any]] = []
    by_period: list[list[list[int]]] = [[] for _ in periods]
    for c in counts:
        if c.period not in period_index:
            continue
        if c.key not in cells:
            cells[c.key] = len(cell_rows)
            cell_rows.append([round(c.lat, 4), round(unwrap_lon(c.lon), 4), c.key])
        by_period[period_index[c.period]].append(
            [
                pop_index[c.population],
                cells[c.key],
                c.animals,
                c.sightings,
                c.adult_males,
                c.adult_females,
                c.yearlings,
                c.calves,
                c.unclassified,
                c.herds or 0,
            ]
        )
    return {
        "periods": list(periods),
        "populations": [
            {"id": p, "name": population_label(p, t), "colour": population_colour(p)}
            for p in populations
        ],
        "cells": cell_rows,
        "counts": by_period,
        "max_animals": max((c.animals for c in counts), default=0),
        "sightings": _sighting_rows(
            sightings, period_index, pop_index, period_of or (lambda o: ""), t
        ),
    }


def _sighting_rows(
    sightings: Sequence[Observation],
    period_index: dict[str, int],
    pop_index: dict[str, int],
    period_of: PeriodOf,
    t: Translator,
) -> list[list[list[Any]]]:
    """Per period: [lat, lon, count, local time, population, composition..., method, survey,
    id] (the id lets a popup ask the server for the sighting's photos)."""
    rows: list[list[list[Any]]] = [[] for _ in period_index]
    for obs in sightings:
        i = period_index.get(period_of(obs))
        if i is None:
            continue
        composition = [getattr(obs.composition, n) for n in COMPOSITION_FIELDS]
        local = obs.observed_at.astimezone(ZoneInfo(obs.timezone))
        rows[i].append(
            [
                round(obs.lat, 5),
                round(unwrap_lon(obs.lon), 5),
                obs.count,
                t.format_datetime(local),
                pop_index[obs.population],
                *composition,
                obs.count_method,
                obs.survey_id or "",
                str(obs.id),
            ]
        )
    return rows


def _period_of(every: str, seasons: SeasonCalendar | None) -> PeriodOf:
    """The period of a sighting in its own local time, as the store computes a count's."""

    def period_of(obs: Observation) -> str:
        return local_period_key(obs.observed_at, obs.timezone, every, seasons)

    return period_of


def period_totals(counts: Sequence[HerdCount], periods: Sequence[str]) -> list[PeriodTotal]:
    """Totals per period over every population and cell (periods with none give zeros)."""
    sums = {p: [0, 0, 0, 0, 0] for p in periods}
    for c in counts:
        if c.period in sums:
            row = sums[c.period]
            row[0] += c.sightings
            row[1] += c.animals
            row[4] += c.herds or 0
            row[2] += c.calves
            row[3] += c.adult_females
    return [PeriodTotal(p, *sums[p]) for p in periods]


def _totals_rows(totals: Sequence[PeriodTotal], view: str, t: Translator) -> list[dict[str, str]]:
    """The totals beside the map, one row per period, with a bar each (the bars are the chart)."""
    peak = max((row.animals for row in totals), default=0) or 1
    return [
        {
            "period": row.period,
            "label": period_label(row.period, t),
            "sightings": t.format_number(row.herds if view == "herds" else row.sightings),
            "animals": t.format_number(row.animals),
            "calves": _calves_per_100(row, t),
            "bar": f"{100.0 * row.animals / peak:.1f}",  # a CSS width, not text
        }
        for row in totals
    ]


def _calves_per_100(row: PeriodTotal, t: Translator) -> str:
    if not row.adult_females:
        return "–"
    return t.format_number(round(100 * row.calves / row.adult_females))


def script_words(
    t: Translator, periods: Sequence[str], every: str, cell_size_m: float
) -> dict[str, Any]:
    """What the page's script shows, in t's language: its messages, the slider's period
    labels, the count methods' names and the number symbols of the server's numbers."""
    from babel.numbers import get_decimal_symbol, get_group_symbol

    return {
        "lang": t.lang,
        "messages": script_messages(t),
        "periods": [period_label(p, t) for p in periods],
        "period_heading": name_of(PERIOD_HEADINGS, every, t),
        "cell_km": cell_km_label(cell_size_m, t),
        "count_methods": {m: name_of(COUNT_METHOD_NAMES, m, t) for m in COUNT_METHODS},
        "group": get_group_symbol(t.locale),
        "decimal": get_decimal_symbol(t.locale),
    }


def cell_km_label(cell_size_m: float, t: Translator) -> str:
    """A cell's side in km as the locale writes it: "100", "12.5" ("12,5" in Russian)."""
    return t.format_number(cell_size_m / 1000)


def _script_json(value: Any) -> str:
    # No "<" at all inside a data <script>: "</script" would end it early, and "<!--<script"
    # (say, in a survey id) would make the browser read past its end. JSON reads \u003c as "<".
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).replace("<", "\\u003c")


def _add_page(
    m: folium.Map,
    data: dict[str, Any],
    totals: Sequence[PeriodTotal],
    *,
    assets: MapAssets,
    title: str,
    every: str,
    side_html: str,
    cell_size_m: float,
    view: str,
    t: Translator,
) -> None:
    """Title, styles, the side panel (caller's HTML + totals) and the data table."""
    root: Any = m.get_root()  # a branca Figure: header, html and script sections
    head = render(
        "map_head.html",
        t,
        title=title,
        inline_assets=Markup(inline_header(assets)),
        css=Markup(map_css()),
    )
    root.header.add_child(RawHtml(head), name="hw_head")
    words = script_words(t, data["periods"], every, cell_size_m)
    body = render(
        "map_body.html",
        t,
        title=title,
        side_html=Markup(side_html),  # the caller's HTML, e.g. the viewer's filter form
        per_period=name_of(PER_PERIOD, every, t),
        period_heading=words["period_heading"],
        km=words["cell_km"],
        rows=_totals_rows(totals, view, t),
        herds_view=view == "herds",
        sightings=t.format_number(sum(r.herds if view == "herds" else r.sightings for r in totals)),
        animals=t.format_number(sum(r.animals for r in totals)),
        payload=Markup(_script_json(data)),
        words=Markup(_script_json(words)),
    )
    root.html.add_child(RawHtml(body), name="hw_side")


class RawHtml(Element):
    """HTML put in the page verbatim: branca's Element would read it as a Jinja template,
    so a "{{" in data or in a caller's form value would be evaluated (and parsing the data
    table as a template is slow)."""

    def __init__(self, html: str) -> None:
        super().__init__("")
        self._html = html

    def render(self, **kwargs: Any) -> str:
        return self._html


class TimeSlider(MacroElement):
    """The slider, legend and the script that draws one period's cells into the layers."""

    def __init__(
        self,
        data: dict[str, Any],
        groups: Sequence[folium.FeatureGroup],
        cluster: MarkerCluster | None,
        *,
        every: str,
        cell_size_m: float,
        bounds: list[list[float]],
    ) -> None:
        super().__init__()
        self._name = "TimeSlider"
        self._template = templates().get_template("time_slider.js")
        self.group_names = [g.get_name() for g in groups]
        self.cluster_name = cluster.get_name() if cluster is not None else "null"
        start = _last_period_with_counts(data["counts"])
        self.options = {
            "every": every,
            "cell_km": cell_size_m / 1000,
            "start": start,
            "max_radius": MAX_RADIUS_PX,
            "bounds": bounds,
            "size_key": size_key(data["max_animals"]),
        }
        self.js = map_js()


def _last_period_with_counts(by_period: Sequence[Sequence[Any]]) -> int:
    """Open on the most recent period that has anything to show."""
    for i in range(len(by_period) - 1, -1, -1):
        if by_period[i]:
            return i
    return max(len(by_period) - 1, 0)


def size_key(max_animals: int) -> list[int]:
    """Round counts for the legend's circles: about the largest, a quarter and a sixteenth."""
    if max_animals <= 0:
        return []
    values = []
    for fraction in (1.0, 0.25, 0.0625):
        value = _round_nicely(max_animals * fraction)
        if value >= 1 and value not in values:
            values.append(value)
    return values


def _round_nicely(value: float) -> int:
    if value < 10:
        return max(1, int(value))
    magnitude = 10 ** int(math.log10(value))
    return int(round(value / magnitude) * magnitude)
