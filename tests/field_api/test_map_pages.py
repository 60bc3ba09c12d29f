"""GET /maps/herd-counts, /viewer and the exports: roles, bad input, and the numbers they show."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from data.exports import pages
from domain.periods import fill_periods
from domain.records import Observation, ObservationQuery
from domain.seasons import SeasonCalendar
from field_api.routes import exports
from maps.service import bbox_extent_m
from tests.factories import make_observation

YAKUTSK = ZoneInfo("Asia/Yakutsk")
MAP = "/maps/herd-counts"
EXPORTS = ("/api/v1/observations.csv", "/api/v1/observations.geojson")
ROLES = [
    ("anonymous", 401),
    ("bad_token", 401),
    ("observer", 403),
    ("researcher", 200),
    ("admin", 200),
]


def observations() -> list[Observation]:
    """25 sightings: two populations, two years, one retracted later by the test that needs it."""
    out = []
    for n in range(25):
        population = "sundrun" if n % 5 == 0 else "lena-olenek"
        when = datetime(2022 + n % 2, 7, 1 + n, 10, tzinfo=YAKUTSK)
        out.append(make_observation(n, population=population, observed_at=when, count=10 + n))
    return out


@pytest.fixture
def api(sqlite_api):
    sqlite_api.store.add_observations(observations(), actor="olga")
    return sqlite_api


def totals(html: str) -> tuple[int, int]:
    sightings = re.search(r'id="hw-total-sightings">([\d,]+)<', html)
    animals = re.search(r'id="hw-total-animals">([\d,]+)<', html)
    assert sightings and animals
    return int(sightings.group(1).replace(",", "")), int(animals.group(1).replace(",", ""))


# --- GET /maps/herd-counts ------------------------------------------------------------------


@pytest.mark.parametrize(("role", "status"), ROLES)
def test_map_roles(api, role, status):
    response = api.by_role()[role].get(MAP)
    assert response.status_code == status
    if status != 200:
        assert response.headers["content-type"].startswith("application/problem+json")


def test_map_is_one_self_contained_page_with_the_totals(api):
    response = api.researcher.get(MAP, params={"every": "year", "view": "sightings"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert not re.findall(r"<(?:script|link)[^>]+(?:src|href)=", html)  # scripts inlined
    assert "L.map(" in html and "L.Control" in html
    assert totals(html) == (25, sum(10 + n for n in range(25)))


def test_map_takes_the_listing_filters(api):
    raw = {"view": "sightings"}
    html = api.researcher.get(MAP, params={"population": "sundrun", "every": "month", **raw}).text
    assert totals(html) == (5, sum(10 + n for n in range(0, 25, 5)))
    window = "2023-01-01T00:00:00Z/2023-12-31T23:59:59Z"
    assert totals(api.admin.get(MAP, params={"datetime": window, **raw}).text)[0] == 12


@pytest.mark.parametrize(
    "params",
    [
        {"every": "week"},
        {"every": ""},
        {"cell_km": "wide"},
        {"cell_km": "0"},
        {"cell_km": "5000"},
        {"bbox": "1,2,3"},
        {"bbox": "a,b,c,d"},
        {"datetime": "yesterday"},
        {"population": "caribou"},
        {"method": "helicopter"},
        {"limit": "many"},
        {"next": "!!"},
    ],
)
def test_map_rejects_bad_filters_naming_the_field(api, params):
    response = api.researcher.get(MAP, params=params)
    assert response.status_code == 422
    body = response.json()
    named = body["errors"][0]["field"] if body["errors"] else body["detail"]
    assert list(params)[0] in named


def test_map_with_a_fixed_cell_size(api):
    html = api.researcher.get(MAP, params={"cell_km": "25"}).text
    assert "25 km × 25 km equal-area cells" in html


def test_map_of_nothing_is_still_a_page(api):
    html = api.researcher.get(MAP, params={"population": "taimyr"}).text
    assert totals(html) == (0, 0) and "No sightings match" in html


def test_map_counts_leave_out_retracted_sightings(api):
    first = observations()[0]
    api.observer.delete(f"/api/v1/observations/{first.id}")
    raw = api.researcher.get(MAP, params={"view": "sightings"}).text
    assert totals(raw) == (24, sum(10 + n for n in range(1, 25)))


# --- GET /viewer ----------------------------------------------------------------------------


def test_viewer_sends_a_stranger_to_the_login_page_and_back(api):
    response = api.anonymous.get("/viewer?every=month", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/viewer%3Fevery%3Dmonth"


def test_viewer_after_signing_in_with_the_form(api):
    login = api.anonymous.post(
        "/login", data={"token": api.tokens["rita"], "next": "/viewer"}, follow_redirects=False
    )
    assert login.status_code == 303 and login.headers["location"] == "/viewer"
    page = api.anonymous.get("/viewer")
    assert page.status_code == 200
    assert 'id="hw-filters"' in page.text and "Signed in as rita" in page.text


def test_viewer_turns_an_observer_away(api):
    response = api.observer.get("/viewer")
    assert response.status_code == 403 and "for researchers" in response.text


def test_viewer_with_a_revoked_token_goes_to_login(api):
    response = api.bad_token.get("/viewer", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_viewer_serves_scripts_from_herdwatch(api):
    html = api.researcher.get("/viewer").text
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/static/vendor/") for s in sources)
    for source in sources:
        assert api.anonymous.get(source).status_code == 200


def test_viewer_filter_form_changes_the_totals_and_keeps_its_choices(api):
    everything = totals(api.researcher.get("/viewer", params={"view": "sightings"}).text)
    form = [
        ("view", "sightings"),
        ("population", "sundrun"),
        ("every", "month"),
        ("from", "2022-01-01"),
        ("to", "2022-12-31"),
    ]
    html = api.researcher.get("/viewer", params=form).text
    sundrun_2022 = [10 + n for n in range(25) if n % 5 == 0 and n % 2 == 0]
    assert everything == (25, sum(10 + n for n in range(25)))
    assert totals(html) == (len(sundrun_2022), sum(sundrun_2022))
    assert 'value="sundrun" checked' in html and 'value="lena-olenek">' in html
    assert '<option value="month" selected>' in html and 'value="2022-01-01"' in html


def test_viewer_export_links_download_exactly_what_is_shown(api):
    form = [
        ("population", "sundrun"),
        ("population", "lena-olenek"),
        ("from", "2023-01-01"),
        ("view", "sightings"),  # the exports are sightings: the raw view shows the same
    ]
    html = api.researcher.get("/viewer", params=form).text
    shown = totals(html)
    csv_link = re.search(r'id="hw-export-csv" href="([^"]+)"', html)
    geojson_link = re.search(r'id="hw-export-geojson" href="([^"]+)"', html)
    assert csv_link and geojson_link
    csv_text = api.researcher.get(csv_link.group(1).replace("&amp;", "&")).text
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    features = api.researcher.get(geojson_link.group(1).replace("&amp;", "&")).json()["features"]
    assert (len(rows), sum(int(r["count"]) for r in rows)) == shown
    assert (len(features), sum(f["properties"]["count"] for f in features)) == shown


@pytest.mark.parametrize(
    "params",
    [
        {"from": "last spring"},
        {"to": "2024-13-01"},
        {"every": "week"},
        {"population": "caribou"},
        {"method": "helicopter"},
        {"bbox": "1,2"},
        {"from": "2024-02-01", "to": "2024-01-01"},
    ],
)
def test_viewer_answers_bad_filters_with_a_readable_page(api, params):
    response = api.researcher.get("/viewer", params=params)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert 'id="hw-error"' in response.text


# --- exports -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", EXPORTS)
@pytest.mark.parametrize(("role", "status"), ROLES)
def test_export_roles(api, path, role, status):
    assert api.by_role()[role].get(path).status_code == status


@pytest.mark.parametrize("path", EXPORTS)
@pytest.mark.parametrize(
    "params",
    [
        {"bbox": "x"},
        {"population": "caribou"},
        {"datetime": "soon"},
        {"limit": "lots"},
        {"method": "sled"},
    ],
)
def test_export_rejects_bad_filters(api, path, params):
    assert api.researcher.get(path, params=params).status_code == 422


def test_exports_stream_every_page(api, monkeypatch):
    monkeypatch.setattr(pages, "EXPORT_PAGE", 4)  # 25 records → 7 pages
    text = api.researcher.get("/api/v1/observations.csv", params={"limit": "2"}).text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 25 and len({r["id"] for r in rows}) == 25
    assert list(rows[0]) == list(exports.CSV_COLUMNS)
    collection = json.loads(api.researcher.get("/api/v1/observations.geojson").text)
    assert collection["type"] == "FeatureCollection" and len(collection["features"]) == 25
    assert collection["features"][0]["geometry"]["type"] == "Point"


def test_csv_export_keeps_lon_lat_and_composition(api):
    rows = list(csv.DictReader(io.StringIO(api.researcher.get("/api/v1/observations.csv").text)))
    first = make_observation(0)
    row = next(r for r in rows if r["id"] == str(first.id))
    assert (float(row["lon"]), float(row["lat"])) == (first.lon, first.lat)
    assert (row["adult_females"], row["calves"], row["yearlings"]) == ("20", "6", "2")
    assert row["unclassified"] == ""


def test_empty_exports_are_still_valid(api):
    empty = api.researcher.get("/api/v1/observations.geojson?population=taimyr").json()
    assert empty["features"] == []
    assert api.researcher.get("/api/v1/observations.csv?population=taimyr").text.count("\n") == 1


# --- static files and helpers ------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "../../assets.py",
        "leaflet/package.json",
        "nothing.js",
        "..%2F..%2Fassets.py",
        "leaflet/dist/",
    ],
)
def test_static_route_serves_only_vendored_scripts(api, path):
    assert api.anonymous.get(f"/static/vendor/{path}").status_code == 404


def test_fill_periods_keeps_empty_periods_in_order():
    calendar = SeasonCalendar()
    assert fill_periods({"2019", "2022"}, "year", calendar) == ["2019", "2020", "2021", "2022"]
    months = fill_periods({"2023-11", "2024-02"}, "month", calendar)
    assert months == ["2023-11", "2023-12", "2024-01", "2024-02"]
    seasons = fill_periods({"2023-rut", "2024-calving"}, "season", calendar)
    assert seasons == ["2023-rut", "2023-winter", "2024-calving"]
    assert fill_periods(set(), "year", calendar) == []


def test_cell_size_follows_the_extent(api):
    width, height = bbox_extent_m((105.5, 55.5, 163.0, 77.0))
    assert 1_500_000 < width < 3_500_000 and 1_500_000 < height < 3_500_000
    small = api.researcher.get(MAP, params={"bbox": "128,71,130,72"}).text
    assert "5 km × 5 km equal-area cells" in small or "10 km × 10 km equal-area cells" in small
    assert "100 km × 100 km" in api.researcher.get(MAP, params={"cell_km": "100"}).text


def test_few_sightings_are_drawn_one_by_one_many_are_not(api):
    assert "Individual sightings (25)" in api.researcher.get(MAP).text
    api.store.add_observations([make_observation(100 + n) for n in range(600)], actor="olga")
    assert "Individual sightings" not in api.researcher.get(MAP).text
    assert api.store.count_observations(ObservationQuery()) == 625
