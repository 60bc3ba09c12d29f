"""Uploads, re-sends, listing, edits and retraction through HTTP (on every backend)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Clients
from tests.factories import make_collection, make_feature

URL = "/api/v1/observations"


def put(api: Clients, feature: dict[str, Any], **params: str):  # type: ignore[no-untyped-def]
    return api.observer.put(f"{URL}/{feature['id']}", json=feature, params=params)


def test_put_creates_then_resend_is_200_then_changed_count_is_409(api: Clients) -> None:
    feature = make_feature()
    first = put(api, feature)
    assert first.status_code == 201 and first.json()["status"] == "created"
    assert first.headers["location"] == f"http://testserver/api/v1/observations/{feature['id']}"
    again = put(api, feature)
    assert again.status_code == 200 and again.json()["status"] == "unchanged"
    feature["properties"]["count"] += 1
    changed = put(api, feature)
    assert changed.status_code == 409
    assert changed.json()["differing"] == ["count"]
    assert changed.json()["errors"][0]["field"] == "properties.count"


def test_latitude_95_is_422_naming_the_latitude(api: Clients) -> None:
    feature = make_feature(coordinates=[126.0, 95.0])
    response = put(api, feature)
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "geometry.coordinates[1]"
    assert "latitude" in error["message"]
    assert api.researcher.get(f"{URL}/{feature['id']}").status_code == 404


def test_record_comes_back_filtered_by_bbox_and_datetime(api: Clients) -> None:
    feature = make_feature()
    put(api, feature)
    found = api.researcher.get(
        URL,
        params={"bbox": "125,70,127,72", "datetime": "2024-07-01T00:00:00Z/2024-07-31T00:00:00Z"},
    )
    assert found.status_code == 200
    assert found.headers["content-type"].startswith("application/geo+json")
    body = found.json()
    assert body["type"] == "FeatureCollection"
    assert [f["id"] for f in body["features"]] == [feature["id"]]
    props = body["features"][0]["properties"]
    assert props["count"] == feature["properties"]["count"] and props["observer"] == "olga"
    assert body["features"][0]["geometry"]["coordinates"] == feature["geometry"]["coordinates"]
    elsewhere = api.researcher.get(URL, params={"bbox": "140,60,150,70"}).json()
    assert elsewhere["features"] == []
    later = api.researcher.get(URL, params={"datetime": "2025-01-01T00:00:00Z/.."}).json()
    assert later["features"] == []


def test_projected_utm_coordinates_are_transformed(api: Clients) -> None:
    # UTM zone 52N (EPSG:32652): 500 km east, 7,880 km north is about 129.0 E, 71.0 N.
    feature = make_feature(coordinates=[500000.0, 7880000.0])
    assert put(api, feature, crs="EPSG:32652").status_code == 201
    lon, lat = api.observer.get(f"{URL}/{feature['id']}").json()["geometry"]["coordinates"]
    assert abs(lon - 129.0) < 1e-6 and 70.9 < lat < 71.1
    bad = put(api, make_feature(1), crs="EPSG:999999")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "crs"


@pytest.mark.parametrize("crs", ["EPSG:4978", "EPSG:5714"])  # geocentric; vertical
def test_a_crs_that_is_not_a_maps_is_refused_and_nothing_stored(api: Clients, crs: str) -> None:
    """Seen: EPSG:4978 took x, y for metres from the Earth's centre: the North Pole."""
    feature = make_feature(coordinates=[500000.0, 7880000.0])
    bad = put(api, feature, crs=crs)
    assert bad.status_code == 422
    [error] = bad.json()["errors"]
    assert error["field"] == "crs" and "not a map's coordinate system" in error["message"]
    assert api.observer.get(f"{URL}/{feature['id']}").status_code == 404


def test_batch_stores_valid_records_and_explains_invalid_ones(api: Clients) -> None:
    collection = make_collection(5)
    collection["features"][1]["properties"]["count"] = -3
    collection["features"][3]["properties"]["composition"]["calves"] = 500
    response = api.observer.post(f"{URL}/batch", json=collection)
    assert response.status_code == 200
    body = response.json()
    assert body["summary"] == {"created": 3, "unchanged": 0, "conflict": 0, "gone": 0, "invalid": 2}
    statuses = [r["status"] for r in body["results"]]
    assert statuses == ["created", "invalid", "created", "invalid", "created"]
    assert body["results"][1]["errors"][0]["field"] == "features[1].properties.count"
    assert "cannot exceed the count" in body["results"][3]["errors"][0]["message"]
    assert body["results"][3]["id"] == collection["features"][3]["id"]
    again = api.observer.post(f"{URL}/batch", json=collection).json()
    assert again["summary"]["unchanged"] == 3 and again["summary"]["created"] == 0


def test_listing_pages_with_next_links_until_done(api: Clients) -> None:
    api.observer.post(f"{URL}/batch", json=make_collection(12))
    url, seen = f"{URL}?limit=5", []
    while url:
        body = api.researcher.get(url).json()
        seen += [f["id"] for f in body["features"]]
        url = body["next"]
    assert len(seen) == 12 == len(set(seen))


def test_patch_with_current_revision_then_stale_revision(api: Clients) -> None:
    feature = make_feature()
    put(api, feature)
    ok = api.observer.patch(
        f"{URL}/{feature['id']}", json={"revision": 1, "properties": {"count": 60}}
    )
    assert ok.status_code == 200 and ok.json()["properties"]["revision"] == 2
    stale = api.observer.patch(
        f"{URL}/{feature['id']}", json={"revision": 1, "properties": {"count": 61}}
    )
    assert stale.status_code == 409 and stale.json()["errors"][0]["field"] == "revision"
    invalid = api.observer.patch(
        f"{URL}/{feature['id']}", json={"revision": 2, "properties": {"count": 1}}
    )
    assert invalid.status_code == 422  # composition now exceeds the count
    fixed = api.observer.patch(
        f"{URL}/{feature['id']}", json={"revision": 2, "properties": {"observer": "x"}}
    )
    assert fixed.status_code == 422 and fixed.json()["errors"][0]["field"] == "properties.observer"


def test_a_patch_that_changes_nothing_makes_no_revision(api: Clients) -> None:
    """Seen: an empty PATCH made revision 2, and another device's edit of 1 a 409."""
    feature = make_feature()
    put(api, feature)
    url = f"{URL}/{feature['id']}"
    for properties in ({}, {"count": feature["properties"]["count"]}):
        same = api.observer.patch(url, json={"revision": 1, "properties": properties})
        assert same.status_code == 200 and same.json()["properties"]["revision"] == 1
    edit = {"revision": 1, "properties": {"count": 60}}
    assert api.observer.patch(url, json=edit).json()["properties"]["revision"] == 2
    lost_answer = api.observer.patch(url, json=edit)  # the same edit sent again
    assert lost_answer.status_code == 200 and lost_answer.json()["properties"]["revision"] == 2
    history = api.observer.get(f"{url}/history").json()["revisions"]
    assert [r["action"] for r in history] == ["create", "edit"]
    api.observer.request("DELETE", url, json={"reason": "double entry"})
    assert api.observer.patch(url, json={"revision": 3, "properties": {}}).status_code == 410


def test_delete_retracts_and_a_later_put_is_410(api: Clients) -> None:
    feature = make_feature()
    put(api, feature)
    gone = api.observer.request("DELETE", f"{URL}/{feature['id']}", json={"reason": "double entry"})
    assert gone.status_code == 200 and gone.json()["properties"]["status"] == "retracted"
    assert put(api, feature).status_code == 410
    assert api.observer.delete(f"{URL}/{feature['id']}").status_code == 410
    history = api.observer.get(f"{URL}/{feature['id']}/history").json()["revisions"]
    assert [r["action"] for r in history] == ["create", "retract"]
    assert history[1]["reason"] == "double entry"
    assert api.researcher.get(URL).json()["features"] == []


def test_changes_feed_for_a_syncing_tablet(api: Clients) -> None:
    api.observer.post(f"{URL}/batch", json=make_collection(3))
    first = api.observer.get("/api/v1/changes", params={"since": 0}).json()
    assert len(first["features"]) == 3
    assert (
        api.observer.get("/api/v1/changes", params={"since": first["cursor"]}).json()["features"]
        == []
    )
    assert api.other_observer.get("/api/v1/changes").json()["features"] == []
    assert len(api.researcher.get("/api/v1/changes").json()["features"]) == 3


def test_surveys_created_listed_and_read_with_effort(api: Clients) -> None:
    survey = {
        "id": "aerial-2024-07-lena",
        "method": "aerial",
        "started_at": "2024-07-10T08:00:00+09:00",
        "team": ["Ivanov", "Petrova"],
        "platform": "An-2",
        "geometry": {"type": "LineString", "coordinates": [[126.0, 71.0], [127.0, 71.0]]},
    }
    created = api.researcher.post("/api/v1/surveys", json=survey)
    assert created.status_code == 201
    assert 34 < created.json()["effort_km"] < 38  # one degree of longitude at 71° N is ~36 km
    assert api.researcher.post("/api/v1/surveys", json=survey).status_code == 200
    assert (
        api.researcher.post("/api/v1/surveys", json={**survey, "method": "foot"}).status_code == 409
    )
    assert api.researcher.get("/api/v1/surveys").json()["surveys"][0]["id"] == survey["id"]
    assert api.researcher.get(f"/api/v1/surveys/{survey['id']}").json()["team"] == [
        "Ivanov",
        "Petrova",
    ]
    assert api.researcher.get("/api/v1/surveys/unknown").status_code == 404


def test_counts_sum_raw_sightings_and_say_so(api: Clients) -> None:
    collection = make_collection(4)
    api.observer.post(f"{URL}/batch", json=collection)
    body = api.researcher.get("/api/v1/counts", params={"every": "year"}).json()
    assert "raw sightings" in body["note"]
    [row] = body["counts"]
    assert row["animals"] == sum(f["properties"]["count"] for f in collection["features"])
    assert row["sightings"] == 4


def test_health_and_docs_answer_without_a_token(api: Clients) -> None:
    assert api.anonymous.get("/health").json()["status"] == "ok"
    assert api.anonymous.get("/docs").status_code == 200
    assert "/api/v1/observations/batch" in api.anonymous.get("/openapi.json").json()["paths"]


def test_an_upload_with_an_unknown_token_is_told_the_token_is_not_valid(
    sqlite_api: Clients,
) -> None:
    """Seen: told to send a token, which it had sent (a GET was told the right thing)."""
    feature = make_feature()
    url = f"{URL}/{feature['id']}"
    wrong = sqlite_api.anonymous.put(url, json=feature, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert "not valid or was revoked" in wrong.json()["errors"][0]["message"]
    assert wrong.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert wrong.json()["errors"][0]["field"] == "Authorization"  # it said "body"
    missing = sqlite_api.anonymous.put(url, json=feature)
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"] == "Bearer"
    assert "send Authorization: Bearer" in missing.json()["errors"][0]["message"]
