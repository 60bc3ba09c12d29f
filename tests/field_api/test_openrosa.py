"""ODK Collect's conversation with Herdwatch, replayed on the wire (both store backends).

HEAD then a multipart POST with the XML and a JPEG; a submission split over two POSTs; a
re-send after a lost answer; an edit with meta/deprecatedID; and the refusals an observer
sees on the tablet.
"""

from __future__ import annotations

import hashlib
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from data.store import ObservationStore
from domain.records import Survey
from field_api.app import create_app
from field_api.settings import Settings
from tests.field_api.odk_collect import Sighting, StoredPhotos, basic, jpeg, multipart

NS = {"or": "http://openrosa.org/http/response", "xf": "http://openrosa.org/xforms/xformsList"}


@dataclass
class Collect:
    """A client speaking as ODK Collect, with the users' credentials and the photo sink."""

    client: TestClient
    store: ObservationStore
    photos: StoredPhotos
    auth: dict[str, dict[str, str]]

    def post(self, sighting: Sighting, photos: dict[str, bytes] | None = None, **kw: Any) -> Any:
        user = kw.pop("user", "olga")
        return self.client.post(
            "/openrosa/submission",
            headers=self.auth[user],
            **multipart(sighting.xml(), photos or {}, **kw),
        )


def _collect(store: ObservationStore, settings: Settings) -> Iterator[Collect]:
    app = create_app(settings, store)
    photos = StoredPhotos(store)  # the observations' photo store, read back
    tokens = {
        "olga": store.add_user("olga", "observer"),
        "ivan": store.add_user("ivan", "observer"),
        "rita": store.add_user("rita", "researcher"),
        "adam": store.add_user("adam", "admin"),
    }
    auth = {name: basic(name, token) for name, token in tokens.items()}
    # The forms' survey, open to the observers who send them (data/survey_access.py).
    store.add_survey(
        Survey(
            "LO-2024-06",
            "aerial",
            datetime(2024, 6, 1, tzinfo=UTC),
            team=("olga", "ivan"),
            created_by="rita",
        )
    )
    with TestClient(app) as client:
        yield Collect(client, store, photos, auth)


@pytest.fixture
def collect(store: ObservationStore, settings: Settings) -> Iterator[Collect]:
    yield from _collect(store, settings)


@pytest.fixture
def sqlite_collect(sqlite_store: ObservationStore, settings: Settings) -> Iterator[Collect]:
    yield from _collect(sqlite_store, settings)


def _message(response: Any) -> str:
    root = ET.fromstring(response.content)
    assert root.tag == f"{{{NS['or']}}}OpenRosaResponse"
    message = root.find("or:message", NS)
    assert message is not None and message.text
    return message.text


def _openrosa(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["X-OpenRosa-Version"] == "1.0"
    assert response.headers["content-type"].startswith("text/xml")
    return _message(response)


def test_head_then_post_with_a_jpeg_stores_the_sighting_and_its_photo(collect: Collect) -> None:
    head = collect.client.head("/openrosa/submission", headers=collect.auth["olga"])
    assert head.status_code == 204
    assert head.headers["X-OpenRosa-Version"] == "1.0"
    assert int(head.headers["X-OpenRosa-Accept-Content-Length"]) == 16 * 1024 * 1024
    photo = jpeg(7)
    sighting = Sighting(photos=("1718861400123.jpg",))
    posted = collect.post(sighting, {"1718861400123.jpg": photo})
    said = _openrosa(posted, 201)
    assert said.startswith("Herd sighting received, with 1 photo. Thank you!")
    assert str(sighting.instance_id) in said
    assert posted.headers["X-OpenRosa-Accept-Content-Length"] == str(16 * 1024 * 1024)
    root = ET.fromstring(posted.content)
    assert root.get("items") == "0" and root[0].get("nature") == "submit_success"

    obs = collect.store.get_observation(sighting.instance_id)
    # "lat lon alt acc" on the wire → [lon, lat] here; accuracy is the fourth number.
    assert (obs.lon, obs.lat, obs.accuracy_m) == (128.8712, 71.6543, 4.8)
    assert obs.count == 240 and obs.observer == "olga" and obs.revision == 1
    assert obs.composition.as_dict() == {
        "adult_males": 40, "adult_females": 120, "yearlings": None, "calves": 55,
        "unclassified": None,
    }  # fmt: skip
    assert (obs.population, obs.count_method, obs.survey_id) == (
        "lena-olenek",
        "visual",
        "LO-2024-06",
    )
    assert (
        obs.notes == "moving north-east <slowly> & calm" and obs.device_id == "collect:Xy12AbCdEf"
    )
    assert obs.observed_at.isoformat() == "2024-06-20T14:30:00+09:00"
    assert obs.timezone == "Asia/Yakutsk"
    stored = collect.photos.stored[(sighting.instance_id, "1718861400123.jpg")]
    assert hashlib.sha256(stored).digest() == hashlib.sha256(photo).digest()


def test_the_same_observation_is_readable_through_the_api_as_geojson(collect: Collect) -> None:
    sighting = Sighting(
        location="62.03 129.73 120 12.5", observed_at="2024-01-05T09:00:00.000+11:00"
    )
    _openrosa(collect.post(sighting), 201)
    adam = TestClient(
        collect.client.app, headers={"Authorization": f"Bearer {_token(collect, 'adam')}"}
    )
    feature = adam.get(f"/api/v1/observations/{sighting.instance_id}").json()
    assert feature["geometry"]["coordinates"] == [129.73, 62.03]
    assert feature["properties"]["accuracy_m"] == 12.5
    # The tablet's offset is kept, and its zone is the Yakutian one with that offset.
    assert feature["properties"]["observed_at"] == "2024-01-05T09:00:00+11:00"
    assert feature["properties"]["timezone"] == "Asia/Srednekolymsk"


def _token(collect: Collect, name: str) -> str:
    import base64

    encoded = collect.auth[name]["Authorization"].split()[1]
    return base64.b64decode(encoded).decode().split(":", 1)[1]


def test_a_split_submission_stores_one_observation_and_its_photo(collect: Collect) -> None:
    # The photo did not fit beside the XML under X-OpenRosa-Accept-Content-Length: Collect
    # sends the XML alone, marked incomplete, then the XML again with the photo.
    photo = jpeg(5)
    sighting = Sighting(photos=("big.jpg",))
    first = collect.post(sighting, incomplete=True)
    assert "Herd sighting received" in _openrosa(first, 201)
    assert collect.photos.stored == {}
    second = collect.post(sighting, {"big.jpg": photo})
    assert "Already received, with 1 photo." in _openrosa(second, 201)
    assert collect.store.count_observations(_all()) == 1
    assert collect.photos.stored == {(sighting.instance_id, "big.jpg"): photo}
    # A file the instance does not name is not kept.
    third = collect.post(sighting, {"stray.jpg": jpeg(6)})
    _openrosa(third, 201)
    assert list(collect.photos.stored) == [(sighting.instance_id, "big.jpg")]


def _all() -> Any:
    from domain.records import ObservationQuery

    return ObservationQuery()


def test_a_resend_after_a_lost_answer_stores_nothing_new(collect: Collect) -> None:
    sighting = Sighting(photos=("p.jpg",))
    photo = jpeg(3)
    _openrosa(collect.post(sighting, {"p.jpg": photo}), 201)  # the answer is lost on the way
    again = collect.post(sighting, {"p.jpg": photo})
    assert "Already received" in _openrosa(again, 201)
    assert collect.store.count_observations(_all()) == 1
    assert collect.store.history(sighting.instance_id)[-1].revision == 1
    assert len(collect.photos.stored) == 1


def test_same_instance_with_other_content_is_a_conflict(collect: Collect) -> None:
    sighting = Sighting()
    _openrosa(collect.post(sighting), 201)
    said = _openrosa(collect.post(replace(sighting, count="250")), 409)
    assert "meta/deprecatedID" in said
    assert collect.store.get_observation(sighting.instance_id).count == 240


def test_an_edit_with_deprecated_id_is_a_new_revision_and_its_resend_a_no_op(
    collect: Collect,
) -> None:
    original = Sighting()
    _openrosa(collect.post(original), 201)
    classes = {"adult_males": "40", "calves": "60"}
    edit = replace(
        original, instance_id=uuid.uuid4(), deprecated_id=original.instance_id,
        count="260", classes=classes, photos=("e.jpg",),
    )  # fmt: skip
    said = _openrosa(collect.post(edit, {"e.jpg": jpeg(9)}), 201)
    assert "Edit received (revision 2)" in said
    obs = collect.store.get_observation(original.instance_id)
    assert (obs.revision, obs.count, obs.composition.calves, obs.composition.adult_females) == (
        2, 260, 60, None,
    )  # fmt: skip
    assert collect.store.count_observations(_all()) == 1
    assert (original.instance_id, "e.jpg") in collect.photos.stored
    _openrosa(collect.post(edit, {"e.jpg": jpeg(9)}), 201)  # the edit again: nothing new
    _openrosa(collect.post(original), 201)  # and the original again: nothing new either
    assert [r.revision for r in collect.store.history(original.instance_id)] == [1, 2]
    # An edit of the edit is based on the revision the first edit produced.
    second = replace(edit, instance_id=uuid.uuid4(), deprecated_id=edit.instance_id, count="270")
    assert "revision 3" in _openrosa(collect.post(second), 201)
    # An edit of the stale original now conflicts: it was based on revision 1.
    stale = replace(
        original,
        instance_id=uuid.uuid4(),
        deprecated_id=original.instance_id,
        count="1",
        classes={},
    )
    assert "revision 3" in _openrosa(collect.post(stale), 409)
    assert collect.store.get_observation(original.instance_id).count == 270


def test_an_edit_whose_answer_was_lost_before_it_was_noted_is_not_applied_twice(
    sqlite_collect: Collect,
) -> None:
    collect = sqlite_collect
    original = Sighting()
    _openrosa(collect.post(original), 201)
    edit = replace(
        original, instance_id=uuid.uuid4(), deprecated_id=original.instance_id, count="300"
    )
    _openrosa(collect.post(edit), 201)
    # As if the server stopped between the edit and noting its instance.
    with collect.store._write() as conn:  # type: ignore[attr-defined]
        conn.execute(
            "DELETE FROM openrosa_instances WHERE instance_id = ?", (str(edit.instance_id),)
        )
    _openrosa(collect.post(edit), 201)
    assert [r.revision for r in collect.store.history(original.instance_id)] == [1, 2]


def test_an_edit_of_an_instance_never_received_is_stored_once(collect: Collect) -> None:
    edit = Sighting(deprecated_id=uuid.uuid4())
    _openrosa(collect.post(edit), 201)
    assert collect.store.get_observation(edit.instance_id).revision == 1


def test_another_observer_cannot_edit_olgas_sighting_but_an_admin_can(collect: Collect) -> None:
    original = Sighting()
    _openrosa(collect.post(original), 201)
    edit = replace(
        original,
        instance_id=uuid.uuid4(),
        deprecated_id=original.instance_id,
        count="5",
        classes={},
    )
    assert "olga" in _openrosa(collect.post(edit, user="ivan"), 403)
    _openrosa(collect.post(edit, user="adam"), 201)
    assert collect.store.get_observation(original.instance_id).count == 5


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"count": "abc"}, "count"),
        ({"count": "-1"}, "count"),
        ({"count": "1000001"}, "count"),
        ({"count": "100"}, "count"),  # the classes add up to 215
        ({"location": "71.6 abc 0 5"}, "location"),
        ({"location": "128.9 71.6 0 5"}, "location"),  # lon lat swapped: latitude 128.9
        ({"location": ""}, "location"),
        ({"observed_at": "2024-06-20T14:30:00"}, "observed_at"),
        ({"observed_at": "2999-01-01T00:00:00.000+09:00"}, "observed_at"),
        ({"population": "atlantis"}, "population"),
        ({"count_method": "guess"}, "count_method"),
        ({"survey_id": "x" * 101}, "survey_id"),
        ({"classes": {"calves": "-3"}}, "calves"),
    ],
)
def test_an_invalid_submission_is_refused_naming_the_field(
    sqlite_collect: Collect, change: dict[str, Any], field: str
) -> None:
    said = _openrosa(sqlite_collect.post(replace(Sighting(), **change)), 422)
    assert said.startswith("Not stored: ") and f"{field}: " in said
    assert sqlite_collect.store.count_observations(_all()) == 0


def test_a_refused_photo_refuses_the_submission_before_anything_is_stored(
    sqlite_collect: Collect,
) -> None:
    sighting = Sighting(photos=("x.jpg",))
    said = _openrosa(sqlite_collect.post(sighting, {"x.jpg": b"GIF89a not a photo"}), 422)
    assert "x.jpg" in said
    assert sqlite_collect.store.count_observations(_all()) == 0


def test_a_photo_answer_that_is_no_file_name_refuses_the_submission(
    sqlite_collect: Collect,
) -> None:
    """Seen: `../../evil.jpg` stored the sighting (201) and silently left the photo out."""
    sighting = Sighting(photos=("../../evil.jpg",))
    said = _openrosa(sqlite_collect.post(sighting, {"../../evil.jpg": jpeg(8)}), 422)
    assert "evil.jpg" in said
    assert sqlite_collect.store.count_observations(_all()) == 0


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b"<herd_sighting", 400, "not well-formed"),
        (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]>'
            b'<herd_sighting id="herd_sighting"><count>&b;</count></herd_sighting>',
            400,
            "entities",
        ),
        (
            b'<herd_sighting id="herd_sighting"><count>1</count></herd_sighting>',
            400,
            "meta/instanceID",
        ),
        (
            b'<herd_sighting id="herd_sighting"><meta><instanceID>uuid:nope</instanceID></meta>'
            b"</herd_sighting>",
            400,
            "meta/instanceID",
        ),
        (
            f'<other id="other"><meta><instanceID>uuid:{uuid.uuid4()}</instanceID></meta>'
            "</other>".encode(),
            404,
            "herd_sighting",
        ),
    ],
)
def test_xml_that_is_not_an_instance_of_the_form_is_refused(
    sqlite_collect: Collect, body: bytes, status: int, words: str
) -> None:
    response = sqlite_collect.client.post(
        "/openrosa/submission", headers=sqlite_collect.auth["olga"], **multipart(body, {})
    )
    assert words in _openrosa(response, status)


def test_a_post_without_the_xml_part_or_not_multipart_is_refused(sqlite_collect: Collect) -> None:
    c, auth = sqlite_collect.client, sqlite_collect.auth["olga"]
    no_xml = c.post(
        "/openrosa/submission", headers=auth, files=[("a.jpg", ("a.jpg", jpeg(), "image/jpeg"))]
    )
    assert "xml_submission_file" in _openrosa(no_xml, 400)
    as_json = c.post("/openrosa/submission", headers=auth, json={"count": 1})
    assert "multipart" in _openrosa(as_json, 400)


def test_a_body_over_the_limit_is_refused_with_the_limit(
    tmp_path: Any, sqlite_store: ObservationStore
) -> None:
    settings = Settings(database_url="sqlite://", max_body_bytes=4096, _env_file=None)  # type: ignore[call-arg]
    collect = next(_collect(sqlite_store, settings))
    response = collect.post(
        Sighting(photos=("big.jpg",)), {"big.jpg": b"\xff\xd8\xff" + b"0" * 8000}
    )
    assert "4,096 bytes" in _openrosa(response, 413)
    assert collect.store.count_observations(_all()) == 0


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer whatever"}, 401),
        ({"Authorization": "Basic !!!not-base64"}, 401),
        ("wrong-token", 401),
        ("wrong-user", 401),
        ("rita", 403),
    ],
)
def test_every_endpoint_wants_an_observers_basic_credentials(
    sqlite_collect: Collect, headers: Any, status: int
) -> None:
    c = sqlite_collect
    if headers == "wrong-token":
        headers = basic("olga", "not-her-token")
    elif headers == "wrong-user":
        headers = basic("ivan", _token(c, "olga"))
    elif headers == "rita":
        headers = c.auth["rita"]
    for method, path in (
        ("GET", "/openrosa/formList"),
        ("GET", "/openrosa/forms/herd_sighting"),
        ("HEAD", "/openrosa/submission"),
        ("POST", "/openrosa/submission"),
    ):
        kw = multipart(Sighting().xml(), {}) if method == "POST" else {}
        response = c.client.request(method, path, headers=headers, **kw)
        assert response.status_code == status, (method, path)
        assert response.headers["X-OpenRosa-Version"] == "1.0"
        if status == 401:
            assert response.headers["WWW-Authenticate"].startswith("Basic realm=")
    assert c.store.count_observations(_all()) == 0


def test_form_list_points_at_the_form_whose_md5_it_gives(sqlite_collect: Collect) -> None:
    c, auth = sqlite_collect.client, sqlite_collect.auth["olga"]
    listing = c.get("/openrosa/formList", headers=auth)
    assert listing.headers["X-OpenRosa-Version"] == "1.0"
    [item] = ET.fromstring(listing.content).findall("xf:xform", NS)
    assert item.findtext("xf:formID", namespaces=NS) == "herd_sighting"
    assert item.find("xf:manifestUrl", NS) is None  # the built-in form has no media
    url = item.findtext("xf:downloadUrl", namespaces=NS)
    assert url == "http://testserver/openrosa/forms/herd_sighting"
    form = c.get(url, headers=auth)
    assert form.status_code == 200 and form.headers["X-OpenRosa-Version"] == "1.0"
    md5 = hashlib.md5(form.content, usedforsecurity=False).hexdigest()
    assert item.findtext("xf:hash", namespaces=NS) == f"md5:{md5}"
    # What is served is what pyxform made of the shipped form, and it parses as an XForm.
    from pyxform.xls2xform import convert

    from data.xlsform import herd_sighting_workbook
    from field_api.openrosa_form import form_spec

    spec = form_spec(c.app.state.settings)  # type: ignore[attr-defined]
    assert form.content == convert(herd_sighting_workbook(spec)).xform.encode()
    root = ET.fromstring(form.content)
    assert root.tag == "{http://www.w3.org/1999/xhtml}html"
    instance = root.find(".//{http://www.w3.org/2002/xforms}herd_sighting")
    assert instance is not None and instance.get("id") == "herd_sighting"
    assert instance.get("version") == item.findtext("xf:version", namespaces=NS)
    assert c.get("/openrosa/forms/other", headers=auth).status_code == 404
    assert c.get("/openrosa/formList?formID=other", headers=auth).text.count("<xform>") == 0


def test_an_administrators_form_maps_its_questions_by_name_and_splits_in_three(
    tmp_path: Any, sqlite_store: ObservationStore
) -> None:
    from tests.data.test_xlsform import _admin_form

    path = _admin_form(tmp_path, [])
    settings = Settings(database_url="sqlite://", openrosa_form=path, _env_file=None)  # type: ignore[call-arg]
    collect = next(_collect(sqlite_store, settings))
    c, auth = collect.client, collect.auth["olga"]
    [item] = ET.fromstring(c.get("/openrosa/formList", headers=auth).content).findall(
        "xf:xform", NS
    )
    assert item.findtext("xf:formID", namespaces=NS) == "kobo_reindeer"
    manifest_url = item.findtext("xf:manifestUrl", namespaces=NS)
    assert manifest_url == "http://testserver/openrosa/forms/kobo_reindeer/manifest"
    manifest = ET.fromstring(c.get(manifest_url, headers=auth).content)
    mf = "{http://openrosa.org/xforms/xformsManifest}"
    [media] = manifest.findall(f"{mf}mediaFile")
    url = media.findtext(f"{mf}downloadUrl")
    assert url and c.get(url, headers=auth).content == b"\x89PNG not really"
    md5 = hashlib.md5(b"\x89PNG not really", usedforsecurity=False).hexdigest()
    assert media.findtext(f"{mf}hash") == f"md5:{md5}"
    assert c.get(url.replace("map.png", "..%2Fsecret"), headers=auth).status_code == 404

    instance_id = uuid.uuid4()
    xml = (
        '<kobo_reindeer id="kobo_reindeer" version="7" xmlns:orx="http://openrosa.org/xforms">'
        "<where><location>70.25 140.5 12 9</location></where>"
        "<observed_at>2024-03-01T12:00:00.000+11:00</observed_at><count>31</count>"
        "<observer_mood>cold</observer_mood><photo>one.jpg</photo><photo_2>two.jpg</photo_2>"
        f"<orx:meta><orx:instanceID>uuid:{instance_id}</orx:instanceID></orx:meta>"
        "</kobo_reindeer>"
    ).encode()
    one, two = jpeg(1), jpeg(2)
    for files, incomplete in (({}, True), ({"one.jpg": one}, True), ({"two.jpg": two}, False)):
        response = c.post(
            "/openrosa/submission", headers=auth, **multipart(xml, files, incomplete=incomplete)
        )
        _openrosa(response, 201)
    obs = collect.store.get_observation(instance_id)
    assert (obs.lon, obs.lat, obs.accuracy_m, obs.count) == (140.5, 70.25, 9.0, 31)
    assert (obs.population, obs.count_method, obs.timezone) == (
        "unknown",
        "visual",
        "Asia/Srednekolymsk",
    )
    assert collect.photos.stored == {(instance_id, "one.jpg"): one, (instance_id, "two.jpg"): two}
    # A submission of the built-in form is not for this server now.
    assert "kobo_reindeer" in _openrosa(collect.post(Sighting()), 404)


def test_an_xml_external_entity_is_refused_before_it_is_read(sqlite_collect: Collect) -> None:
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE h [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b'<herd_sighting id="herd_sighting"><notes>&e;</notes></herd_sighting>'
    )
    response = sqlite_collect.client.post(
        "/openrosa/submission", headers=sqlite_collect.auth["olga"], **multipart(xxe, {})
    )
    assert "root:" not in _openrosa(response, 400)


# One sighting, then one change at a time: (OpenRosa answers, the API property changes).
_SAME_VERDICTS: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({}, {}),
    ({"count": "0", "classes": {}}, {"count": 0, "composition": {}}),
    ({"count": "1000000"}, {"count": 1_000_000}),
    ({"count": "1000001"}, {"count": 1_000_001}),
    ({"count": "-1", "classes": {}}, {"count": -1, "composition": {}}),
    ({"count": "214"}, {"count": 214}),
    ({"classes": {"calves": "-1"}}, {"composition": {"calves": -1}}),
    ({"population": "atlantis"}, {"population": "atlantis"}),
    ({"population": "sundrun"}, {"population": "sundrun"}),
    ({"count_method": "photo"}, {"count_method": "photo"}),
    ({"count_method": "guess"}, {"count_method": "guess"}),
    ({"survey_id": "s" * 100}, {"survey_id": "s" * 100}),
    ({"survey_id": "s" * 101}, {"survey_id": "s" * 101}),
    ({"notes": "n" * 4001}, {"notes": "n" * 4001}),
    ({"behaviour": "b" * 200}, {"behaviour": "b" * 200}),
    (
        {"observed_at": "2999-01-01T00:00:00.000+09:00"},
        {"observed_at": "2999-01-01T00:00:00+09:00"},
    ),
    ({"location": "90.0 180.0 0 1"}, {"geometry": [180.0, 90.0], "accuracy_m": 1.0}),
    ({"location": "90.5 100.0 0 1"}, {"geometry": [100.0, 90.5], "accuracy_m": 1.0}),
    ({"location": "60.0 180.5 0 1"}, {"geometry": [180.5, 60.0], "accuracy_m": 1.0}),
    ({"location": "60.0 120.0 0 1000001"}, {"geometry": [120.0, 60.0], "accuracy_m": 1_000_001.0}),
]


def test_the_api_and_openrosa_accept_and_refuse_the_same_sightings(sqlite_collect: Collect) -> None:
    """The same rules: every change is accepted by both or refused by both."""
    c = sqlite_collect
    api = TestClient(c.client.app, headers={"Authorization": f"Bearer {_token(c, 'olga')}"})
    verdicts = []
    for answers, properties in _SAME_VERDICTS:
        sighting = replace(Sighting(), **answers)
        base = {
            "observed_at": "2024-06-20T14:30:00+09:00", "count": 240, "population": "lena-olenek",
            "composition": {"adult_males": 40, "adult_females": 120, "calves": 55},
            "accuracy_m": 4.8, "survey_id": "LO-2024-06",
        }  # fmt: skip
        coordinates = properties.pop("geometry", [128.8712, 71.6543])
        feature = {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": coordinates},
            "properties": {**base, **properties},
        }
        api_status = api.put(f"/api/v1/observations/{uuid.uuid4()}", json=feature).status_code
        odk_status = c.post(sighting).status_code
        assert (api_status == 201) == (odk_status == 201), (answers, api_status, odk_status)
        assert api_status in (201, 422) and odk_status in (201, 422)
        verdicts.append(odk_status == 201)
    # 100 characters is a valid survey id, but no survey by that name exists: refused by both.
    assert verdicts.count(True) == 7 and verdicts.count(False) == 13


def test_after_a_transfer_an_edit_of_an_edit_is_still_an_edit(
    sqlite_collect: Collect, store: ObservationStore, settings: Settings
) -> None:
    """`herdwatch transfer` copies which revision each instance produced."""
    from field_api.cli.transfer import transfer

    original = Sighting()
    _openrosa(sqlite_collect.post(original), 201)
    edit = replace(original, instance_id=uuid.uuid4(), deprecated_id=original.instance_id)
    _openrosa(sqlite_collect.post(replace(edit, count="250")), 201)
    checks = transfer(sqlite_collect.store, store, progress=False)
    assert all(c.ok for c in checks) and "OpenRosa instances" in [c.kind for c in checks]
    app = create_app(settings, store)
    token = store.add_token("olga")
    with TestClient(app) as client:
        second = replace(
            edit, instance_id=uuid.uuid4(), deprecated_id=edit.instance_id, count="260"
        )
        response = client.post(
            "/openrosa/submission", headers=basic("olga", token), **multipart(second.xml(), {})
        )
        assert "revision 3" in _openrosa(response, 201)
    assert store.count_observations(_all()) == 1
    assert store.get_observation(original.instance_id).count == 260


def test_an_edit_changes_only_the_fields_its_form_asks_for(tmp_path: Any) -> None:
    from data.openrosa import fields_asked
    from data.xlsform import file_xform
    from domain.records import POPULATIONS
    from tests.data.test_xlsform import _admin_form

    asked = fields_asked(file_xform(_admin_form(tmp_path, []), POPULATIONS))
    assert {"observed_at", "lon", "lat", "accuracy_m", "count"} <= asked
    assert not asked & {"population", "notes", "composition", "count_method", "survey_id"}
    builtin = fields_asked(served_form_for_tests())
    assert {"population", "notes", "composition", "count_method", "survey_id"} <= builtin


def served_form_for_tests() -> Any:
    from field_api.openrosa_form import served_form

    return served_form(Settings(_env_file=None))  # type: ignore[call-arg]


def test_only_the_sender_or_an_admin_adds_photos_to_a_received_instance(
    sqlite_collect: Collect,
) -> None:
    sighting = Sighting(photos=("p.jpg",))
    _openrosa(sqlite_collect.post(sighting), 201)
    assert "olga" in _openrosa(sqlite_collect.post(sighting, {"p.jpg": jpeg()}, user="ivan"), 403)
    assert sqlite_collect.photos.stored == {}
    _openrosa(sqlite_collect.post(sighting, {"p.jpg": jpeg()}, user="adam"), 201)
    assert list(sqlite_collect.photos.stored) == [(sighting.instance_id, "p.jpg")]


def test_the_xml_as_a_plain_field_is_taken_too(sqlite_collect: Collect) -> None:
    sighting = Sighting()
    response = sqlite_collect.client.post(
        "/openrosa/submission",
        headers=sqlite_collect.auth["olga"],
        data={"xml_submission_file": sighting.xml().decode()},
        files={"unused.txt": ("unused.txt", b"x", "text/plain")},  # makes it multipart
    )
    _openrosa(response, 201)
    assert sqlite_collect.store.get_observation(sighting.instance_id).count == 240


def test_too_many_parts_or_a_huge_answer_is_refused(sqlite_collect: Collect) -> None:
    c = sqlite_collect
    many = {f"{i}.jpg": b"\xff\xd8\xff" for i in range(60)}
    assert "multipart" in _openrosa(c.post(Sighting(), many), 400)
    said = _openrosa(c.post(replace(Sighting(), notes="n" * 3_000_000)), 422)
    assert "notes: 3,000,000 characters; at most 4,000" in said
    assert c.store.count_observations(_all()) == 0


def test_a_served_process_with_a_broken_form_stops_at_start_saying_why(tmp_path: Any) -> None:
    from data.xlsform import FormRefused, write_xlsx

    bad = tmp_path / "bad.xlsx"
    write_xlsx({"survey": [{"type": "integer", "name": "count", "label": "n"}]}, bad)
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'h.db'}", openrosa_form=bad, _env_file=None
    )  # type: ignore[call-arg]
    with pytest.raises(FormRefused, match="no question named observed_at, location"):
        with TestClient(create_app(settings)):
            pass
