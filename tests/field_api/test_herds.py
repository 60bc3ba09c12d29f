"""Herds API: de-duplicated herds, candidates, and decisions kept with who and when."""

from __future__ import annotations

import uuid

import pytest

from domain.seasons import SeasonCalendar
from tests.reports.sample import sightings

URL = "/api/v1/herds"
IDS = [str(o.id) for o in sightings()]  # last year, first team, second team, far away


@pytest.fixture
def api(sqlite_api):
    sqlite_api.store.add_observations(sightings(), actor="olga")
    return sqlite_api


def herd_sizes(api):
    body = api.researcher.get(URL, params={"every": "year", "period": "2024"}).json()
    return sorted(f["properties"]["size"] for f in body["features"])


def test_herds_of_a_period_with_their_sightings(api):
    body = api.researcher.get(URL, params={"every": "year", "period": "2024"}).json()
    assert body["numberMatched"] == 2
    two_teams = [f for f in body["features"] if f["properties"]["size"] == 400][0]
    assert sorted(two_teams["properties"]["sighting_ids"]) == sorted(IDS[1:3])
    assert two_teams["geometry"]["type"] == "Point" and two_teams["id"] == IDS[1]


def test_candidates_show_the_matched_pair(api):
    year = {"every": "year", "period": "2024"}
    body = api.researcher.get(f"{URL}/candidates", params=year).json()
    [pair] = body["candidates"]
    assert {pair["a"], pair["b"]} == set(IDS[1:3]) and pair["same_herd"] is True
    # EPSG:3576 keeps areas, not distances: east-west lengths here come out ~2% long.
    assert pair["km"] == pytest.approx(3.0, abs=0.1) and pair["hours"] == pytest.approx(2.0)


def test_merge_then_split_are_kept_with_who_and_when(api):
    merge = {"action": "merge", "observation_ids": [IDS[1], IDS[3]], "note": "photo match"}
    merged = api.researcher.post(f"{URL}/decisions", json=merge)
    assert merged.status_code == 201 and merged.json()["actor"] == "rita"
    assert herd_sizes(api) == [400]
    split_off = {"action": "split", "observation_ids": [IDS[3]]}
    split = api.admin.post(f"{URL}/decisions", json=split_off)
    assert split.status_code == 201
    assert sorted(split.json()["other_ids"]) == sorted(IDS[1:3])
    assert herd_sizes(api) == [50, 400]
    listed = api.researcher.get(f"{URL}/decisions").json()["decisions"]
    assert [(d["action"], d["actor"]) for d in listed] == [("merge", "rita"), ("split", "adam")]
    assert listed[0]["note"] == "photo match" and listed[0]["decided_at"]


def test_reject_undoes_an_automatic_match(api):
    reject = {"action": "reject", "observation_ids": IDS[1:3]}
    response = api.researcher.post(f"{URL}/decisions", json=reject)
    assert response.status_code == 201
    assert herd_sizes(api) == [50, 380, 400]
    api.researcher.post(f"{URL}/decisions", json={"action": "confirm", "observation_ids": IDS[1:3]})
    assert herd_sizes(api) == [50, 400]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "confirm", "observation_ids": [IDS[1]]}, "observation_ids"),
        ({"action": "merge", "observation_ids": [IDS[1], IDS[1]]}, "observation_ids"),
        ({"action": "merge", "observation_ids": [IDS[1], str(uuid.uuid4())]}, "observation_ids[1]"),
        ({"action": "split", "observation_ids": [IDS[3]]}, "observation_ids"),
        ({"action": "split", "observation_ids": [IDS[0], IDS[3]]}, "observation_ids"),
        ({"action": "glue", "observation_ids": IDS[1:3]}, "action"),
        ({"action": "merge", "observation_ids": ["not-a-uuid", IDS[1]]}, "observation_ids[0]"),
    ],
)
def test_bad_decisions_are_422_naming_the_field(api, body, field):
    response = api.researcher.post(f"{URL}/decisions", json=body)
    assert response.status_code == 422, response.json()
    assert field in [e["field"] for e in response.json()["errors"]]
    assert api.researcher.get(f"{URL}/decisions").json()["decisions"] == []


@pytest.mark.parametrize(
    ("role", "status"), [("anonymous", 401), ("observer", 403), ("researcher", 201)]
)
def test_only_researchers_decide(api, role, status):
    body = {"action": "confirm", "observation_ids": IDS[1:3]}
    assert api.by_role()[role].post(f"{URL}/decisions", json=body).status_code == status
    listed = api.by_role()[role].get(f"{URL}/decisions").status_code
    assert listed == (200 if status == 201 else status)


def test_bad_period_names_the_field(api):
    response = api.researcher.get(URL, params={"every": "year", "period": "last"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "period"
    # Arabic-Indic digits are digits to a regular expression's \d: seen passing as a year
    for period in ("\u0662\u0660\u0662\u0664", "\u0662\u0660\u0662\u0664-07"):
        every = "year" if "-" not in period else "month"
        other = api.researcher.get(URL, params={"every": every, "period": period})
        assert other.status_code == 422 and other.json()["errors"][0]["field"] == "period"


def test_herds_are_worked_out_once_per_version_of_the_data(api):
    state = api.researcher.app.state
    assert herd_sizes(api) == [50, 400]
    report = api.researcher.get(
        "/api/v1/reports", params={"every": "year", "period": "2024", "format": "csv"}
    )
    assert report.status_code == 200
    assert state.herd_cache.builds == 1  # the listing and the report shared one grouping
    far = sightings()[3]
    api.observer.put(
        f"/api/v1/observations/{uuid.UUID(int=99)}",
        json={
            "type": "Feature",
            "id": str(uuid.UUID(int=99)),
            "geometry": {"type": "Point", "coordinates": [far.lon + 5, far.lat]},
            "properties": {"observed_at": far.observed_at.isoformat(), "count": 70},
        },
    )
    assert herd_sizes(api) == [50, 70, 400]  # the upload moved the version: worked out again
    assert state.herd_cache.builds == 2
    again = api.researcher.get(
        "/api/v1/reports", params={"every": "year", "period": "2024", "format": "csv"}
    )
    assert state.herd_cache.builds == 2 and again.text != report.text


def test_without_the_cache_every_request_works_the_herds_out(api):
    from reports.herd_cache import HerdCache

    cache = HerdCache(keep=False)
    first = cache.herds(api.store, SeasonCalendar())[1]
    second = cache.herds(api.store, SeasonCalendar())[1]
    assert cache.builds == 2 and first is not second
    assert first.herds.equals(second.herds)
