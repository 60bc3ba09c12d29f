"""The rendered map's numbers against counts computed here, independently, from the sightings."""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pyproj import Transformer

from data.reference import boundaries_geojson
from data.sqlite import SQLiteStore
from domain.records import Composition, HerdCount, Observation, ObservationQuery
from maps.assets import MapAssets
from maps.herd_map import herd_count_map, render_html, size_key
from tests.factories import make_observation

CELL_M = 100_000.0
TO_3576 = Transformer.from_crs("EPSG:4326", "EPSG:3576", always_xy=True)
# Places in three populations' ranges, two zones, and a January night that is still the
# previous year in UTC: periods must follow the observer's local calendar.
PLACES = {
    "lena-olenek": (122.5, 72.3, "Asia/Yakutsk"),
    "sundrun": (152.0, 70.6, "Asia/Srednekolymsk"),
    "forest": (128.0, 60.5, "Asia/Yakutsk"),
}


def sightings() -> list[Observation]:
    """60 sightings over three years and three populations, spread over several cells."""
    out = []
    for n in range(60):
        population = list(PLACES)[n % 3]
        lon, lat, tz = PLACES[population]
        when = datetime(2021 + n % 3, 1 + (n * 5) % 12, 1 + n % 27, 0, 30, tzinfo=ZoneInfo(tz))
        out.append(
            make_observation(
                n,
                population=population,
                timezone=tz,
                observed_at=when,
                lon=lon + (n % 7) * 0.9,
                lat=lat + (n % 5) * 0.6,
                count=10 + n,
                composition=Composition(
                    adult_males=n % 4, adult_females=5, yearlings=None, calves=n % 3, unclassified=1
                ),
            )
        )
    return out


def expected_cells(observations: list[Observation]) -> dict[tuple[str, str, str], list[int]]:
    """(year, population, "ix:iy") → [animals, sightings, then the five sex/age classes]."""
    sums: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0] * 7)
    for obs in observations:
        x, y = TO_3576.transform(obs.lon, obs.lat)
        cell = f"{math.floor(x / CELL_M)}:{math.floor(y / CELL_M)}"
        year = str(obs.observed_at.astimezone(ZoneInfo(obs.timezone)).year)
        row = sums[(year, obs.population, cell)]
        c = obs.composition
        for i, value in enumerate(
            (obs.count, 1, c.adult_males, c.adult_females, c.yearlings, c.calves, c.unclassified)
        ):
            row[i] += value or 0
    return dict(sums)


def page_data(html: str) -> dict[str, Any]:
    match = re.search(
        r'<script type="application/json" id="hw-map-data">(.*?)</script>', html, re.S
    )
    assert match, "the map's data table is missing"
    data: dict[str, Any] = json.loads(match.group(1).replace("<\\/", "</"))
    return data


def cells_in_page(data: dict[str, Any]) -> dict[tuple[str, str, str], list[int]]:
    found = {}
    for i, rows in enumerate(data["counts"]):
        for pop, cell, animals, n, *classes, herds in rows:
            assert herds == 0  # raw sightings: no herds behind the counts
            key = (data["periods"][i], data["populations"][pop]["id"], data["cells"][cell][2])
            found[key] = [animals, n, *classes]
    return found


def js_strings(html: str) -> str:
    """The page with folium's JSON escapes undone, to read the layer names as drawn.

    The data table is left out: JSON.parse reads it as data, never as HTML (its own escaping
    is tested in test_map_page.py)."""
    html = re.sub(r'<script type="application/json" id="hw-map-data">.*?</script>', "", html)
    for escaped, plain in (("\\u003c", "<"), ("\\u003e", ">"), ("\\u0026", "&"), ('\\"', '"')):
        html = html.replace(escaped, plain)
    return html


@pytest.fixture
def observations() -> list[Observation]:
    return sightings()


@pytest.fixture
def counts(sqlite_store: SQLiteStore, observations: list[Observation]) -> list[HerdCount]:
    sqlite_store.add_observations(observations, actor="olga")
    return sqlite_store.herd_counts(ObservationQuery(), every="year", by="cell", cell_size_m=CELL_M)


def render(counts: list[HerdCount], **options: Any) -> str:
    return render_html(herd_count_map(counts, every="year", cell_size_m=CELL_M, **options))


def test_cell_counts_in_the_page_match_an_independent_count(counts, observations):
    assert cells_in_page(page_data(render(counts))) == expected_cells(observations)


def test_totals_table_matches_an_independent_count(counts, observations):
    html = render(counts, periods=["2020", "2021", "2022", "2023"])
    per_year: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for (year, _, _), row in expected_cells(observations).items():
        per_year[year][0] += row[1]
        per_year[year][1] += row[0]
    row = r'data-period="(\d{4})">.*?hw-sightings">([\d,]+)<.*?hw-animals">([\d,]+)<'
    rows = re.findall(row, html)
    table = {year: [int(s.replace(",", "")), int(a.replace(",", ""))] for year, s, a in rows}
    assert table == {"2020": [0, 0], **per_year}  # an empty year stays on the slider, with zeros
    total = sum(o.count for o in observations)
    assert f'id="hw-total-animals">{total:,}<' in html


def test_layers_legend_and_boundary_are_on_the_page(counts):
    html = render(counts, boundaries=boundaries_geojson())
    for name in ("Lena-Olenek", "Sundrun", "Forest (taiga)"):
        assert f'<span class="hw-layer-name">{name}</span>' in js_strings(html)
    assert "Yana-Indigirka" not in html  # no sightings, no layer
    assert "equal-area cells (EPSG:3576)" in html and "not de-duplicated" in html
    assert "Animals counted per cell" in html and "hw-period-slider" in html
    assert "Sakha Republic" in html and "hw-boundary-sakha" in html
    assert "L.control.layers" in html


def test_page_loads_scripts_only_from_herdwatch(counts):
    assets = MapAssets(base_url="/static/vendor")
    html = render(counts, boundaries=boundaries_geojson(), assets=assets)
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/static/vendor/") for s in sources)
    assert "cdn" not in html.lower() and "https://" not in html


def test_inlined_page_has_no_links_at_all(counts):
    inline = MapAssets(
        inline={
            p: f"/* {p} */"
            for p in (
                "leaflet/dist/leaflet.js",
                "leaflet.markercluster/dist/leaflet.markercluster.js",
                "leaflet/dist/leaflet.css",
                "leaflet.markercluster/dist/MarkerCluster.css",
                "leaflet.markercluster/dist/MarkerCluster.Default.css",
            )
        }
    )
    html = render(counts, assets=inline)
    assert not re.findall(r"<(?:script|link)[^>]+(?:src|href)=", html)
    assert "/* leaflet/dist/leaflet.js */" in html


def test_tile_url_is_the_configured_one(counts):
    html = render(counts, tile_url="/tiles/{z}/{x}/{y}.png", tile_attribution="local tiles")
    assert '"/tiles/{z}/{x}/{y}.png"' in html and "local tiles" in html
    assert "tile.openstreetmap.org" not in render(counts)


def test_sightings_are_clustered_per_period_with_their_numbers(counts, observations):
    html = render(counts, sightings=observations)
    data = page_data(html)
    assert "L.markerClusterGroup" in html and "Individual sightings (60)" in html
    drawn = {(data["periods"][i], s[2]) for i, rows in enumerate(data["sightings"]) for s in rows}
    local_year = {
        (str(o.observed_at.astimezone(ZoneInfo(o.timezone)).year), o.count) for o in observations
    }
    assert drawn == local_year
    assert sum(len(rows) for rows in data["sightings"]) == len(observations)


def test_no_sightings_means_no_cluster_layer(counts):
    assert "L.markerClusterGroup" not in render(counts)


def test_empty_map_still_draws_the_boundary():
    html = render_html(
        herd_count_map([], every="month", cell_size_m=CELL_M, boundaries=boundaries_geojson())
    )
    assert page_data(html)["counts"] == [] and "hw-boundary-sakha" in html
    assert 'id="hw-total-animals">0<' in html


def test_population_names_are_escaped():
    odd = HerdCount("2024", "<b>x</b>", "1:1", 130.0, 65.0, 1, 5)
    html = render([odd])
    assert "<b>x</b>" not in js_strings(html)
    assert '<span class="hw-layer-name">&lt;b&gt;x&lt;/b&gt;</span>' in js_strings(html)


def test_chukotka_stays_east_of_180(counts):
    far_east = replace(counts[0], lon=-175.0, key="99:99")
    data = page_data(render([far_east]))
    assert data["cells"][0][1] == 185.0


def test_size_key_rounds_to_readable_counts():
    assert size_key(0) == []
    assert size_key(3_147) == [3_000, 800, 200]
    assert size_key(7) == [7, 1]


def test_the_sightings_include_a_new_year_night_that_utc_puts_in_the_old_year(observations):
    utc = ZoneInfo("UTC")
    assert any(o.observed_at.astimezone(utc).year != o.observed_at.year for o in observations)
    assert len({o.id for o in observations}) == len(observations)


def test_text_in_the_page_is_never_run_as_a_template():
    odd = HerdCount("2024", "{{ 7 * 7 }}", "1:1", 130.0, 65.0, 1, 5)
    html = render_html(
        herd_count_map([odd], every="year", cell_size_m=CELL_M, side_html="<p>{{ 6 * 7 }}</p>")
    )
    assert "<p>{{ 6 * 7 }}</p>" in html and '"id":"{{ 7 * 7 }}"' in html
    assert "42" not in html.split('id="hw-side"')[1].split("</aside>")[0]
