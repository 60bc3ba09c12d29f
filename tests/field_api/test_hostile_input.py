"""The inputs that once answered 500 (issue 10), on both backends: each is a 4xx naming the
field, nothing is half-stored, and a year-1 record already in the store breaks no view."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.conftest import Clients
from tests.factories import make_feature, make_observation

OBS = "/api/v1/observations"
SURVEY = {"id": "s1", "method": "aerial", "started_at": "2024-07-10T08:00:00+09:00"}
YEAR_ZERO = "0001-01-01T00:00:00+14:00"  # its UTC instant is in year 0


def _fields(response: Any) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


def _deep(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


def _stored(api: Clients) -> int:
    return len(api.admin.get(OBS).json()["features"])


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00Z", YEAR_ZERO, "1899-12-31T23:59:00Z"])
def test_times_before_1900_are_refused_naming_the_field(api: Clients, when: str) -> None:
    feature = make_feature(observed_at=when)
    response = api.observer.put(f"{OBS}/{feature['id']}", json=feature)
    assert response.status_code == 422, response.text
    assert _fields(response) == ["properties.observed_at"]
    assert "1900-01-01" in response.json()["detail"]
    survey = api.researcher.post("/api/v1/surveys", json={**SURVEY, "started_at": when})
    assert survey.status_code == 422 and _fields(survey) == ["started_at"]
    assert _stored(api) == 0


def test_one_bad_time_in_a_batch_is_reported_alone_and_the_rest_stored(api: Clients) -> None:
    features = [make_feature(0, observed_at=YEAR_ZERO), make_feature(1), make_feature(2)]
    response = api.observer.post(
        f"{OBS}/batch", json={"type": "FeatureCollection", "features": features}
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["invalid", "created", "created"]
    assert [e["field"] for e in results[0]["errors"]] == ["features[0].properties.observed_at"]
    assert _stored(api) == 2


def test_a_patch_to_year_zero_is_refused(api: Clients) -> None:
    feature = make_feature()
    assert api.observer.put(f"{OBS}/{feature['id']}", json=feature).status_code == 201
    patch = {"revision": 1, "properties": {"observed_at": YEAR_ZERO}}
    response = api.observer.patch(f"{OBS}/{feature['id']}", json=patch)
    assert response.status_code == 422, response.text
    assert _fields(response) == ["properties.observed_at"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", f"{OBS}/9a4c8f4e-0000-4000-8000-000000000001"),
        ("POST", f"{OBS}/batch"),
        ("PATCH", f"{OBS}/9a4c8f4e-0000-4000-8000-000000000001"),
        ("POST", "/api/v1/surveys"),
        ("POST", "/api/v1/herds/decisions"),
    ],
)
def test_json_nested_990_deep_is_a_400(api: Clients, method: str, path: str) -> None:
    response = api.admin.request(
        method, path, content=_deep(990), headers={"Content-Type": "application/json"}
    )
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"] == "application/problem+json"


# Text a backend cannot store (NUL: PostgreSQL text refuses it) or should not (other C0
# controls, lone surrogates), refused the same way on both backends.
BAD_TEXT = ["a\x00b", "tab\x07bell", "\ud800"]


@pytest.mark.parametrize("text", BAD_TEXT, ids=["nul", "bell", "surrogate"])
@pytest.mark.parametrize("prop", ["notes", "device_id", "survey_id"])
def test_unstorable_characters_in_text_are_named(api: Clients, text: str, prop: str) -> None:
    feature = make_feature(**{prop: text})
    body = json.dumps(feature).encode()  # ASCII, "\ud800" escaped as a tablet might send it
    response = api.observer.put(
        f"{OBS}/{feature['id']}", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert _fields(response) == [f"properties.{prop}"]
    assert _stored(api) == 0


@pytest.mark.parametrize(
    "change",
    [{"notes": "a\x00b"}, {"name": "x\x00"}, {"team": ["olga", "\x00"]}, {"platform": "\x00"}],
)
def test_unstorable_characters_in_a_survey_are_named(api: Clients, change: dict[str, Any]) -> None:
    response = api.researcher.post("/api/v1/surveys", json={**SURVEY, **change})
    assert response.status_code == 422, response.text
    assert _fields(response)[0].startswith(next(iter(change)))
    assert api.researcher.get("/api/v1/surveys").json()["surveys"] == []


@pytest.mark.parametrize(
    "geometry",
    [
        b'{"type":"LineString","coordinates":[[126,71],[NaN,71.5]]}',
        b'{"type":"LineString","coordinates":[[126,71],[Infinity,71.5]]}',
        b'{"type":"LineString","coordinates":[[126,71],["126",71.5]]}',
        b'{"type":"Polygon","coordinates":[[[126,71],[127,71],[127,72],[126,71]]],"junk":1}',
        b'{"type":"LineString","coordinates":[[126,71],[127,71.5]],"bbox":"x"}',
    ],
    ids=["nan", "infinity", "string", "extra-key", "bbox"],
)
def test_bad_survey_geometry_is_a_422_and_nothing_is_stored(api: Clients, geometry: bytes) -> None:
    body = (
        b'{"id":"s1","method":"aerial","started_at":"2024-07-10T08:00:00+09:00","geometry":'
        + geometry
        + b"}"
    )
    for _ in range(2):  # and a retry gets the same answer, not a 500
        response = api.researcher.post(
            "/api/v1/surveys", content=body, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 422, response.text
        assert _fields(response)[0].startswith("geometry")
    assert api.researcher.get("/api/v1/surveys").json()["surveys"] == []


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/changes?since=99999999999999999999", "since"),
        ("/api/v1/changes?since=-1", "since"),
        ("/api/v1/counts?by=cell&cell_km=1e-300", "cell_km"),
        ("/maps/herd-counts?cell_km=1e-300", "cell_km"),
        ("/api/v1/counts?by=cell&cell_km=nan", "cell_km"),
        (f"{OBS}?survey=a%00b", "survey"),
        (f"{OBS}?next=a%00b", "next"),
        (f"{OBS}?population=a%00b", "population"),
        ("/api/v1/surveys?next=a%00b", "next"),
        ("/api/v1/observations.csv?survey=%00", "survey"),
    ],
)
def test_bad_parameters_are_named(api: Clients, path: str, field: str) -> None:
    response = api.admin.get(path)
    assert 400 <= response.status_code < 500, response.text
    assert field in _fields(response), response.text


@pytest.mark.parametrize(
    "path", ["/api/v1/surveys/a%00b", "/static/vendor/x.js%00.py", "/api/v1/surveys/%ff"]
)
def test_nul_in_a_path_is_a_4xx(api: Clients, path: str) -> None:
    response = api.admin.get(path)
    assert 400 <= response.status_code < 500, response.text


def test_a_stored_year_one_record_breaks_no_view(api: Clients) -> None:
    """Stored before the range check existed: every period, season and map view still works."""
    early = make_observation(0, observed_at=datetime(1, 1, 1, tzinfo=UTC))
    lmt = make_observation(1, observed_at=datetime(1910, 7, 1, 3, tzinfo=UTC))
    api.store.add_observations([early, lmt, make_observation(2)], actor="olga")
    for every in ("season", "month", "year"):
        for path in (f"/maps/herd-counts?every={every}", f"/viewer?every={every}"):
            response = api.admin.get(path)
            assert response.status_code == 200, (path, response.text[:300])
            assert len(response.content) < 3_000_000, path  # not 24,000 empty months
        counts = api.admin.get(f"/api/v1/counts?every={every}")
        assert counts.status_code == 200, counts.text
    report = api.admin.get("/api/v1/reports?every=season&period=2024-post-calving&format=csv")
    assert report.status_code == 200, report.text[:300]
    features = {f["id"]: f for f in api.admin.get(OBS).json()["features"]}
    for feature in features.values():
        offset = feature["properties"]["observed_at"][-6:]
        assert offset[0] in "+-" and offset[3] == ":" and len(offset) == 6, offset
    assert features[str(lmt.id)]["properties"]["observed_at"].startswith(
        "1910-07-01T11:38:00+08:38"
    )


def test_a_422_lists_every_problem_of_a_feature_at_once(api: Clients) -> None:
    bad = {
        "count": "forty",
        "timezone": "Mars/Olympus",
        "population": "atlantis",
        "observed_at": "0001-01-01T00:00:00Z",
        "coordinates": [500, 71],
    }
    expected = {
        "properties.count",
        "properties.timezone",
        "properties.population",
        "properties.observed_at",
        "geometry.coordinates[0]",
    }
    feature = make_feature(7, **bad)
    response = api.observer.put(f"{OBS}/{feature['id']}", json=feature)
    assert response.status_code == 422
    assert set(_fields(response)) == expected
    batch = api.observer.post(
        f"{OBS}/batch", json={"type": "FeatureCollection", "features": [make_feature(8, **bad)]}
    )
    [result] = batch.json()["results"]
    assert {e["field"] for e in result["errors"]} == {f"features[0].{f}" for f in expected}
