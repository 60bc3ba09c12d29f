"""The photo endpoints over HTTP: roles, wrong input, resumable chunks, listing links."""

from __future__ import annotations

import uuid

from tests.conftest import Clients
from tests.factories import make_feature
from tests.photo_files import image_bytes


def _sighting(api: Clients) -> str:
    feature = make_feature(7)
    assert (
        api.observer.put(f"/api/v1/observations/{feature['id']}", json=feature).status_code == 201
    )
    return str(feature["id"])


def test_upload_resend_conflict_listing_and_bytes(api: Clients) -> None:
    oid = _sighting(api)
    url = f"/api/v1/observations/{oid}/photos/herd.jpg"
    data = image_bytes("JPEG", seed=1)
    first = api.observer.put(url, content=data, headers={"Content-Type": "image/jpeg"})
    assert first.status_code == 201 and first.json()["photo"]["size"] == len(data)
    assert api.observer.put(url, content=data).status_code == 200
    other = api.observer.put(url, content=image_bytes("JPEG", seed=2))
    assert other.status_code == 409 and other.json()["errors"][0]["field"] == "name"
    feature = api.researcher.get(f"/api/v1/observations/{oid}").json()
    [listed] = feature["photos"]
    assert listed["name"] == "herd.jpg" and len(listed["sha256"]) == 64
    assert api.researcher.get(listed["href"]).content == data
    thumb = api.researcher.get(listed["thumbnail"])
    assert thumb.headers["content-type"] == "image/jpeg" and thumb.content[:3] == b"\xff\xd8\xff"
    assert api.researcher.get(f"/api/v1/observations/{oid}/photos").json()["photos"] == [listed]


def test_chunks_resume_from_what_the_server_holds(api: Clients) -> None:
    oid = _sighting(api)
    url = f"/api/v1/observations/{oid}/photos/big.png"
    data = image_bytes("PNG", seed=3, side=100)
    size, half = len(data), len(data) // 2
    part = api.observer.put(
        url, content=data[:half], headers={"Content-Range": f"bytes 0-{half - 1}/{size}"}
    )
    assert part.status_code == 202 and part.headers["upload-offset"] == str(half)
    assert api.observer.get(f"{url}/upload").json() == {
        "received": half, "size": size, "complete": False, "sha256": None,
    }  # fmt: skip
    gap = api.observer.put(
        url, content=data[-10:], headers={"Content-Range": f"bytes {size - 10}-{size - 1}/{size}"}
    )
    assert gap.status_code == 416 and gap.json()["received"] == half
    rest = api.observer.put(
        url, content=data[half:], headers={"Content-Range": f"bytes {half}-{size - 1}/{size}"}
    )
    assert rest.status_code == 201
    assert api.observer.get(f"{url}/upload").json()["complete"] is True
    assert api.observer.get(url).content == data


def test_wrong_input_is_a_4xx_naming_the_field(api: Clients) -> None:
    oid = _sighting(api)
    base = f"/api/v1/observations/{oid}/photos"
    cases = [
        (f"{base}/notes.txt", b"just some text, not a photo", {}, "body"),
        (f"{base}/a.jpg", b"", {}, "body"),
        (f"{base}/-bad.jpg", image_bytes(), {}, "name"),
        (f"{base}/a.jpg", image_bytes(), {"Content-Range": "bytes=0-10"}, "Content-Range"),
        (f"{base}/a.jpg", image_bytes(), {"Content-Range": "bytes 0-3/4"}, "Content-Range"),
        (
            f"{base}/a.jpg",
            b"\xff\xd8\xff" + b"0" * 10,
            {"Content-Range": f"bytes 0-12/{1 << 36}"},
            "body",
        ),
        (f"{base}/cut.jpg", image_bytes()[:200], {}, "body"),  # a truncated JPEG
    ]
    for url, body, headers, field in cases:
        response = api.observer.put(url, content=body, headers=headers)
        assert 400 <= response.status_code < 500, (url, response.status_code)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["field"] == field, (url, response.json())
    assert (
        api.observer.put(
            "/api/v1/observations/not-a-uuid/photos/a.jpg", content=image_bytes()
        ).status_code
        == 422
    )
    missing = api.observer.put(
        f"/api/v1/observations/{uuid.uuid4()}/photos/a.jpg", content=image_bytes()
    )
    assert missing.status_code == 404
    huge = api.observer.put(f"{base}/h.jpg", content=b"\xff\xd8\xff" + bytes(17 * 1024 * 1024))
    assert huge.status_code == 413


def test_only_the_observer_or_an_admin_uploads_and_researchers_read(api: Clients) -> None:
    oid = _sighting(api)
    url = f"/api/v1/observations/{oid}/photos/x.jpg"
    data = image_bytes("JPEG", seed=9)
    assert api.anonymous.put(url, content=data).status_code == 401
    assert api.bad_token.put(url, content=data).status_code == 401
    assert api.researcher.put(url, content=data).status_code == 403
    assert api.other_observer.put(url, content=data).status_code == 403
    assert api.admin.put(url, content=data).status_code == 201
    assert api.researcher.get(url).status_code == 200
    assert api.other_observer.get(url).status_code == 403
    assert api.anonymous.get(url).status_code == 401


def test_me_names_the_token_owner(api: Clients) -> None:
    assert api.observer.get("/api/v1/me").json() == {"name": "olga", "role": "observer"}
    assert api.researcher.get("/api/v1/me").json()["role"] == "researcher"
    assert api.bad_token.get("/api/v1/me").status_code == 401
