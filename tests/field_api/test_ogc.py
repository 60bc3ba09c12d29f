"""/ogc: OGC API – Features Part 1 over the store: documents, paging, filters, roles, errors."""

from __future__ import annotations

import pytest

from domain.records import ObservationQuery
from field_api.routes import ogc
from tests.ogc_sample import SURVEY, seed

ITEMS = "/ogc/collections/observations/items"


@pytest.fixture
def api(sqlite_api):
    sqlite_api.retracted = seed(sqlite_api.store)
    return sqlite_api


@pytest.fixture
def both(store, settings):
    """Clients over the parametrised store (SQLite and PostGIS), with the sample data."""
    from fastapi.testclient import TestClient

    from field_api.app import create_app
    from tests.conftest import Clients

    app = create_app(settings, store)
    with TestClient(app):
        clients = Clients(app, store)
        clients.retracted = seed(store)
        yield clients


def active(api, **filters):
    query = ObservationQuery(limit=10_000, **filters)
    return {str(o.id): o for o in api.store.query_observations(query).items}


def walk(client, url, params=None, rel="next"):
    """Every page from url on, following `rel` links; the features in the order read."""
    features, pages = [], 0
    body = client.get(url, params=params).json()
    while True:
        pages += 1
        features += body["features"]
        assert body["numberReturned"] == len(body["features"])
        link = next((x["href"] for x in body["links"] if x["rel"] == rel), None)
        if link is None:
            return features, pages
        body = client.get(link).json()


def test_landing_conformance_and_definition_are_open(api):
    landing = api.anonymous.get("/ogc/").json()
    rels = {link["rel"] for link in landing["links"]}
    assert {"service-desc", "service-doc", "conformance", "data"} <= rels
    classes = api.anonymous.get("/ogc/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in classes
    definition = api.anonymous.get("/ogc/api")
    assert definition.headers["content-type"].startswith("application/vnd.oai.openapi+json")
    paths = definition.json()["paths"]
    bbox = next(
        p
        for p in paths["/collections/observations/items"]["get"]["parameters"]
        if p["name"] == "bbox"
    )
    assert bbox["schema"]["minItems"] == 4 and bbox["style"] == "form" and not bbox["explode"]


@pytest.mark.parametrize(
    "path", ["/ogc/collections", "/ogc/collections/observations", ITEMS, f"{ITEMS}/x"]
)
def test_data_needs_a_token(api, path):
    assert api.anonymous.get(path).status_code == 401
    assert api.bad_token.get(path).status_code == 401


def test_collections_describe_extent_and_links(api):
    body = api.researcher.get("/ogc/collections").json()
    assert [c["id"] for c in body["collections"]] == ["observations", "herds", "surveys"]
    observations = body["collections"][0]
    west, south, east, north = observations["extent"]["spatial"]["bbox"][0]
    values = active(api).values()
    assert (west, east) == (min(o.lon for o in values), max(o.lon for o in values))
    assert (south, north) == (min(o.lat for o in values), max(o.lat for o in values))
    start, end = observations["extent"]["temporal"]["interval"][0]
    assert start.startswith("2024-07-10T01:00") and end.startswith("2025-08")
    assert observations["itemType"] == "feature"
    one = api.researcher.get("/ogc/collections/observations").json()
    assert one == observations
    surveys = api.researcher.get("/ogc/collections/surveys").json()
    assert surveys["extent"]["spatial"]["bbox"][0] == [125.5, 70.5, 127.5, 71.5]


def test_every_page_once_forwards_and_back(both):
    api = both
    expected = active(api)
    features, pages = walk(api.researcher, ITEMS, {"limit": "7"})
    assert [f["id"] for f in features] == list(expected) and pages == -(-len(expected) // 7)
    assert api.retracted[0] not in {f["id"] for f in features}
    last = api.researcher.get(ITEMS, params={"limit": "7"}).json()
    while next((x for x in last["links"] if x["rel"] == "next"), None):
        last = api.researcher.get(
            next(x["href"] for x in last["links"] if x["rel"] == "next")
        ).json()
    prev_link = next(x["href"] for x in last["links"] if x["rel"] == "prev")
    back, _ = walk(api.researcher, prev_link, rel="prev")
    ids = [f["id"] for f in back]
    pages_back = [ids[i : i + 7] for i in range(0, len(ids), 7)]
    assert [i for page in reversed(pages_back) for i in page] + [
        f["id"] for f in last["features"]
    ] == list(expected)


def test_number_matched_only_when_cheap(api, monkeypatch):
    body = api.researcher.get(ITEMS, params={"limit": "5"}).json()
    assert body["numberMatched"] == len(active(api)) and body["numberReturned"] == 5
    monkeypatch.setattr(ogc, "MATCHED_UP_TO", 15)
    body = api.researcher.get(ITEMS, params={"limit": "5"}).json()
    assert "numberMatched" not in body and body["numberReturned"] == 5
    few = api.researcher.get(ITEMS, params={"survey_id": SURVEY.id}).json()
    assert few["numberMatched"] == len(few["features"]) == 12


def test_limit_is_clamped_not_refused(api, monkeypatch):
    api.store  # noqa: B018
    body = api.researcher.get(ITEMS, params={"limit": "1000000"}).json()
    assert body["numberReturned"] == len(active(api))
    app_settings = api.researcher.app.state.settings
    monkeypatch.setattr(app_settings, "page_limit_max", 4)
    assert api.researcher.get(ITEMS, params={"limit": "50"}).json()["numberReturned"] == 4


@pytest.mark.parametrize(
    ("params", "check"),
    [
        (
            {"bbox": "125.5,70.2,126.5,70.8"},
            lambda o: 125.5 <= o.lon <= 126.5 and 70.2 <= o.lat <= 70.8,
        ),
        ({"datetime": "2025-01-01T00:00:00Z/.."}, lambda o: o.observed_at.year == 2025),
        ({"datetime": "../2024-12-31T00:00:00Z"}, lambda o: o.observed_at.year == 2024),
        ({"population": "yana-indigirka"}, lambda o: o.population == "yana-indigirka"),
        ({"count_method": "photo"}, lambda o: o.count_method == "photo"),
        ({"survey_id": SURVEY.id}, lambda o: o.survey_id == SURVEY.id),
        (
            {"count_method": "visual", "bbox": "124,69,127,72", "population": "lena-olenek"},
            lambda o: o.count_method == "visual" and o.lon <= 127 and o.population == "lena-olenek",
        ),
    ],
)
def test_filters_select_the_expected_subset(both, params, check):
    api = both
    features, _ = walk(api.researcher, ITEMS, {**params, "limit": "9"})
    expected = [i for i, o in active(api).items() if check(o)]
    assert expected and [f["id"] for f in features] == expected


def test_crs84_may_be_named(api):
    crs84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    response = api.researcher.get(
        ITEMS, params={"crs": crs84, "bbox-crs": crs84, "bbox": "124,69,127,72"}
    )
    assert response.status_code == 200 and response.headers["content-crs"] == f"<{crs84}>"


def test_an_instant_selects_that_moment(api):
    first = next(iter(active(api).values()))
    body = api.researcher.get(ITEMS, params={"datetime": first.observed_at.isoformat()}).json()
    assert [f["id"] for f in body["features"]] == [str(first.id)]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"ooga": "booga"}, "ooga"),
        ({"limit": "unlimited"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "10,80,20,70"}, "bbox"),
        ({"datetime": "yesterday"}, "datetime"),
        ({"datetime": "2025-01-01T00:00:00Z/2024-01-01T00:00:00Z"}, "datetime"),
        ({"population": "caribou"}, "population"),
        ({"count_method": "aerial"}, "count_method"),
        ({"next": "not-a-cursor"}, "next"),
        ({"f": "xml"}, "f"),
        ({"dateTime": "2024-01-01T00:00:00Z"}, "dateTime"),
        ({"crs": "http://www.opengis.net/def/crs/EPSG/0/3576"}, "crs"),
        ({"bbox-crs": "EPSG:4326"}, "bbox-crs"),
    ],
)
def test_bad_parameters_are_400_naming_them(api, params, field):
    response = api.researcher.get(ITEMS, params=params)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == field


def test_huge_parameter_values_are_400_not_500(api):
    assert api.researcher.get(ITEMS, params={"bbox": "1" * 5000}).status_code == 400
    assert api.researcher.get(ITEMS, params={"limit": "9" * 400}).json()["numberReturned"] > 0
    assert api.researcher.get(f"{ITEMS}/{'x' * 3000}").status_code == 404


def test_observers_see_their_own(api):
    features, _ = walk(api.observer, ITEMS, {"limit": "11"})
    assert features and {f["properties"]["observer"] for f in features} == {"olga"}
    theirs = next(i for i, o in active(api).items() if o.observer == "ivan")
    assert api.observer.get(f"{ITEMS}/{theirs}").status_code == 403
    assert api.observer.get("/ogc/collections/herds/items").status_code == 403
    assert api.observer.get("/ogc/collections/surveys/items").status_code == 200


def test_one_feature_with_its_links(api):
    some = next(iter(active(api)))
    body = api.researcher.get(f"{ITEMS}/{some}").json()
    assert body["id"] == some and body["geometry"]["type"] == "Point"
    assert {"self", "collection", "alternate"} <= {link["rel"] for link in body["links"]}
    assert api.researcher.get(f"{ITEMS}/{api.retracted[0]}").status_code == 404
    assert api.researcher.get(f"{ITEMS}/00000000-0000-0000-0000-000000000000").status_code == 404
    assert api.researcher.get("/ogc/collections/caribou/items").status_code == 404


def test_herds_of_a_chosen_period(api):
    url = "/ogc/collections/herds/items"
    latest = api.researcher.get(url).json()
    assert latest["features"] and all(f["properties"]["year"] == "2025" for f in latest["features"])
    year = api.researcher.get(url, params={"every": "year", "period": "2024"}).json()
    ids = {i for f in year["features"] for i in f["properties"]["sighting_ids"]}
    assert ids == {i for i, o in active(api).items() if o.observed_at.year == 2024}
    herd = year["features"][0]
    one = api.researcher.get(f"{url}/{herd['id']}").json()
    assert one["properties"]["sighting_ids"] == herd["properties"]["sighting_ids"]
    paged, _ = walk(api.researcher, url, {"every": "year", "period": "2024", "limit": "1"})
    assert [f["id"] for f in paged] == [f["id"] for f in year["features"]]
    box = {"every": "year", "period": "2024", "bbox": "124,69,125.1,72"}
    inside = api.researcher.get(url, params=box).json()["features"]
    assert inside and all(f["geometry"]["coordinates"][0] <= 125.1 for f in inside)
    assert len(inside) < len(year["features"])
    box["population"] = "yana-indigirka"
    assert api.researcher.get(url, params=box).json()["features"] == []
    bad = api.researcher.get(url, params={"every": "year", "period": "2024-07"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "period"
    assert api.researcher.get(url, params={"every": "week"}).status_code == 400
    assert api.researcher.get(url, params={"offset": "-1"}).status_code == 400


def test_surveys_are_tracks_with_effort(api):
    body = api.researcher.get("/ogc/collections/surveys/items").json()
    [survey] = body["features"]
    assert survey["id"] == SURVEY.id and survey["geometry"]["type"] == "LineString"
    assert survey["properties"]["effort_km"] > 0
    assert (
        api.researcher.get("/ogc/collections/surveys/items", params={"bbox": "0,0,1,1"}).json()[
            "features"
        ]
        == []
    )
    assert (
        api.researcher.get("/ogc/collections/surveys/items", params={"method": "foot"}).json()[
            "features"
        ]
        == []
    )
    assert (
        api.researcher.get(f"/ogc/collections/surveys/items/{SURVEY.id}").json()["id"] == SURVEY.id
    )


def test_queryables_name_the_filter_parameters(api):
    body = api.researcher.get("/ogc/collections/observations/queryables").json()
    assert {"population", "count_method", "survey_id", "observed_at", "geometry"} <= set(
        body["properties"]
    )
    assert body["properties"]["count_method"]["enum"] == ["visual", "photo", "estimate"]
    herds = api.researcher.get("/ogc/collections/herds/queryables").json()
    assert "period" in herds["description"]


def test_browsers_get_html(api):
    page = api.researcher.get(
        ITEMS, params={"limit": "10"}, headers={"Accept": "text/html,application/xhtml+xml"}
    )
    assert page.headers["content-type"].startswith("text/html")
    assert 'id="ogc-features"' in page.text and "Next page" in page.text
    landing = api.anonymous.get("/ogc/?f=html")
    assert landing.headers["content-type"].startswith("text/html") and "/ogc/api" in landing.text
    collections = api.researcher.get("/ogc/collections?f=html").text
    assert "Herd sightings" in collections and "<script" not in collections
