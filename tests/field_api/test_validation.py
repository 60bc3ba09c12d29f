"""Bad input gets a clear error that names the field, and nothing is stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import Clients
from tests.factories import make_collection, make_feature

URL = "/api/v1/observations"


def _put(api: Clients, feature: dict[str, Any]):  # type: ignore[no-untyped-def]
    return api.observer.put(f"{URL}/{feature['id']}", json=feature)


CASES = [
    ("count as text", {"count": "forty"}, "properties.count"),
    ("count as float", {"count": 40.5}, "properties.count"),
    ("count as bool", {"count": True}, "properties.count"),
    ("negative count", {"count": -1}, "properties.count"),
    ("missing count", {"count": None}, "properties.count"),
    ("naive time", {"observed_at": "2024-07-10T10:00:00"}, "properties.observed_at"),
    ("not a time", {"observed_at": "yesterday"}, "properties.observed_at"),
    (
        "future time",
        {"observed_at": (datetime.now(UTC) + timedelta(hours=2)).isoformat()},
        "properties.observed_at",
    ),
    ("unknown zone", {"timezone": "Mars/Olympus"}, "properties.timezone"),
    ("unknown method", {"count_method": "guess"}, "properties.count_method"),
    ("unknown population", {"population": "atlantis"}, "properties.population"),
    ("negative calves", {"composition": {"calves": -2}}, "properties.composition.calves"),
    (
        "classified over count",
        {"count": 5, "composition": {"adult_females": 4, "calves": 3}},
        "properties.composition",
    ),
    ("unknown property", {"cuont": 4}, "properties.cuont"),
    ("negative accuracy", {"accuracy_m": -5}, "properties.accuracy_m"),
]


@pytest.mark.parametrize(("label", "change", "field"), CASES, ids=[c[0] for c in CASES])
def test_each_bad_property_is_named(
    sqlite_api: Clients, label: str, change: dict[str, Any], field: str
) -> None:
    feature = make_feature()
    for key, value in change.items():
        if value is None:
            feature["properties"].pop(key)
        else:
            feature["properties"][key] = value
    response = _put(sqlite_api, feature)
    assert response.status_code == 422, label
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["errors"][0]["field"] == field
    assert body["errors"][0]["message"] and body["detail"]
    assert response.headers["content-type"] == "application/problem+json"
    assert (
        sqlite_api.store.count_observations(
            __import__("domain.records").records.ObservationQuery(include_retracted=True)
        )
        == 0
    )


GEOMETRY_CASES = [
    ("longitude 200", [200.0, 70.0], "geometry.coordinates[0]"),
    ("latitude -91", [126.0, -91.0], "geometry.coordinates[1]"),
    ("one coordinate", [126.0], "geometry.coordinates"),
    ("text coordinate", ["126", 70.0], "geometry.coordinates[0]"),
]


@pytest.mark.parametrize(
    ("label", "coords", "field"), GEOMETRY_CASES, ids=[c[0] for c in GEOMETRY_CASES]
)
def test_impossible_coordinates_are_named(
    sqlite_api: Clients, label: str, coords: list[Any], field: str
) -> None:
    response = _put(sqlite_api, make_feature(coordinates=coords))
    assert response.status_code == 422, label
    assert response.json()["errors"][0]["field"] == field


def test_structural_errors(sqlite_api: Clients) -> None:
    feature = make_feature()
    url = f"{URL}/{feature['id']}"
    not_json = sqlite_api.observer.put(
        url, content=b"{not json", headers={"content-type": "application/json"}
    )
    assert not_json.status_code == 400 and not_json.json()["code"] == "invalid_json"
    wrong_type = sqlite_api.observer.put(url, json={**feature, "type": "FeatureCollection"})
    assert wrong_type.status_code == 422 and wrong_type.json()["errors"][0]["field"] == "type"
    polygon = {
        **feature,
        "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 0]]]},
    }
    assert sqlite_api.observer.put(url, json=polygon).status_code == 422
    other_id = sqlite_api.observer.put(f"{URL}/{make_feature(5)['id']}", json=feature)
    assert other_id.status_code == 422 and other_id.json()["errors"][0]["field"] == "id"
    assert sqlite_api.observer.put(f"{URL}/not-a-uuid", json=feature).status_code == 422
    assert sqlite_api.observer.put(url, json=[1, 2, 3]).status_code == 422
    empty = sqlite_api.observer.put(url)
    assert empty.status_code == 400 and "empty" in empty.json()["detail"]


def test_batch_envelope_errors(sqlite_api: Clients) -> None:
    batch = f"{URL}/batch"
    assert sqlite_api.observer.post(batch, json={"type": "Feature"}).status_code == 422
    assert (
        sqlite_api.observer.post(batch, json={"type": "FeatureCollection"}).json()["errors"][0][
            "field"
        ]
        == "features"
    )
    assert (
        sqlite_api.observer.post(
            batch, json={"type": "FeatureCollection", "features": "x"}
        ).status_code
        == 422
    )
    mixed = sqlite_api.observer.post(
        batch, json={"type": "FeatureCollection", "features": [7, None, make_feature()]}
    )
    assert [r["status"] for r in mixed.json()["results"]] == ["invalid", "invalid", "created"]


def test_batch_over_the_limit_is_413_and_stores_nothing(sqlite_api: Clients) -> None:
    sqlite_api.observer.app.state.settings.max_batch_size = 10  # type: ignore[attr-defined]
    response = sqlite_api.observer.post(f"{URL}/batch", json=make_collection(11))
    assert response.status_code == 413 and response.json()["errors"][0]["field"] == "features"
    assert sqlite_api.researcher.get(URL).json()["features"] == []


def test_huge_body_is_413(sqlite_api: Clients) -> None:
    limit = sqlite_api.observer.app.state.settings.max_body_bytes  # type: ignore[attr-defined]
    blob = b'{"type":"FeatureCollection","features":[' + b" " * (limit + 10) + b"]}"
    response = sqlite_api.observer.post(
        f"{URL}/batch", content=blob, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413 and response.json()["code"] == "payload_too_large"
    feature = make_feature(notes="x" * 5000)
    assert _put(sqlite_api, feature).status_code == 422  # notes over 4,000 characters


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "a,b,c,d"}, "bbox"),
        ({"bbox": "0,80,10,70"}, "bbox"),
        ({"datetime": "last week"}, "datetime"),
        ({"datetime": "2024-07-10T00:00:00"}, "datetime"),
        ({"datetime": "2025-01-01T00:00:00Z/2024-01-01T00:00:00Z"}, "datetime"),
        ({"population": "atlantis"}, "population"),
        ({"method": "telepathy"}, "method"),
        ({"limit": "0"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"limit": "1000000"}, "limit"),
        ({"next": "garbage!"}, "next"),
    ],
)
def test_bad_filters_are_named(sqlite_api: Clients, params: dict[str, str], field: str) -> None:
    response = sqlite_api.researcher.get(URL, params=params)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


def test_bad_survey_input(sqlite_api: Clients) -> None:
    base = {"id": "s1", "method": "aerial", "started_at": "2024-07-10T08:00:00+09:00"}
    balloon = sqlite_api.researcher.post("/api/v1/surveys", json={**base, "method": "balloon"})
    assert balloon.status_code == 422
    late = sqlite_api.researcher.post(
        "/api/v1/surveys", json={**base, "ended_at": "2024-07-09T08:00:00+09:00"}
    )
    assert late.status_code == 422 and late.json()["errors"][0]["field"] == "ended_at"
    bad_geom = sqlite_api.researcher.post(
        "/api/v1/surveys", json={**base, "geometry": {"type": "Point", "coordinates": [1, 2]}}
    )
    assert bad_geom.status_code == 422 and bad_geom.json()["errors"][0]["field"] == "geometry"
    broken = sqlite_api.researcher.post(
        "/api/v1/surveys", json={**base, "geometry": {"type": "LineString"}}
    )
    assert broken.status_code == 422
    assert broken.json()["errors"][0]["field"] == "geometry.coordinates"  # not .LineString.
    assert (
        sqlite_api.researcher.post("/api/v1/surveys", json={**base, "id": "has spaces"}).status_code
        == 422
    )
