"""Errors in the asker's language: the same code, field and status, the words translated.

The language comes from ?lang=, then the viewer's cookie, then Accept-Language. Only
the human text changes: a client that reads `code` and `field` keeps working.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.conftest import Clients
from tests.factories import make_collection, make_feature

URL = "/api/v1/observations"
RU = {"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.8"}
CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)


def _put(client: Any, feature: dict[str, Any], **kw: Any) -> httpx.Response:
    return client.put(f"{URL}/{feature['id']}", json=feature, **kw)


def _russian(text: str) -> bool:
    return CYRILLIC.search(text) is not None


def test_a_422_in_russian_names_the_field_with_the_same_code_and_field(sqlite_api: Clients):
    feature = make_feature(count="many")
    english = _put(sqlite_api.observer, feature)
    russian = _put(sqlite_api.observer, feature, headers=RU)
    assert english.status_code == russian.status_code == 422
    en, ru = english.json(), russian.json()
    assert (ru["code"], ru["status"]) == (en["code"], en["status"]) == ("validation_error", 422)
    assert [e["field"] for e in ru["errors"]] == [e["field"] for e in en["errors"]]
    assert [e["code"] for e in ru["errors"]] == [e["code"] for e in en["errors"]]
    assert en["detail"] == "properties.count: must be a whole number"
    assert ru["detail"] == "properties.count: нужно целое число"  # the field path kept as is
    assert ru["title"] == "Неверные данные" and en["title"] == "Invalid input"
    assert russian.headers["Content-Language"] == "ru"
    assert english.headers["Content-Language"] == "en"
    assert russian.headers["Vary"] == "Accept-Language, Cookie"


def test_lang_in_the_query_wins_over_the_header_and_the_cookie(sqlite_api: Clients):
    feature = make_feature(count=2_000_000)
    asked = _put(
        sqlite_api.observer, feature, params={"lang": "ru"}, headers={"Accept-Language": "en"}
    )
    body = asked.json()
    assert body["detail"] == "properties.count: значение должно быть не больше 1\u00a0000\u00a0000"
    sqlite_api.observer.cookies.set("herdwatch_lang", "ru")
    by_cookie = _put(sqlite_api.observer, feature, headers={"Accept-Language": "en"})
    assert by_cookie.json()["detail"] == body["detail"]
    english = _put(sqlite_api.observer, feature, params={"lang": "en"})
    assert english.json()["detail"] == "properties.count: must be at most 1,000,000"
    assert english.json()["errors"][0]["field"] == body["errors"][0]["field"] == "properties.count"


def test_every_message_of_a_batch_is_in_russian(sqlite_api: Clients):
    collection = make_collection(3)
    collection["features"][1]["properties"]["population"] = "atlantis"
    del collection["features"][2]["properties"]["observed_at"]
    receipt = sqlite_api.observer.post(f"{URL}/batch", json=collection, headers=RU)
    assert receipt.status_code == 200 and receipt.headers["Content-Language"] == "ru"
    results = receipt.json()["results"]
    assert results[0]["status"] == "created"
    [population] = results[1]["errors"]
    assert population["field"] == "features[1].properties.population"
    assert population["code"] == "unknown_population"
    assert population["message"].startswith(
        "features[1].properties.population: 'atlantis' не входит в список: lena-olenek"
    )
    [missing] = results[2]["errors"]
    assert missing["message"] == "features[2].properties.observed_at: обязательное поле"


def test_a_valid_upload_and_a_listing_carry_no_language(sqlite_api: Clients):
    """Nothing is translated on success, so nothing is negotiated (the listing is hot)."""
    created = _put(sqlite_api.observer, make_feature(1), headers=RU)
    listed = sqlite_api.researcher.get(URL, headers=RU)
    assert created.status_code == 201 and listed.status_code == 200
    assert "Content-Language" not in created.headers and "Content-Language" not in listed.headers


def _wrong_type(api: Clients) -> httpx.Response:
    return _put(api.observer, make_feature(count=[1]), headers=RU)


def _missing(api: Clients) -> httpx.Response:
    feature = make_feature()
    del feature["properties"]["count"]
    return _put(api.observer, feature, headers=RU)


def _too_large(api: Clients) -> httpx.Response:
    limit = api.observer.app.state.settings.max_body_bytes  # type: ignore[attr-defined]
    blob = b'{"type":"FeatureCollection","features":[' + b" " * (limit + 10) + b"]}"
    headers = {**RU, "content-type": "application/json"}
    return api.observer.post(f"{URL}/batch", content=blob, headers=headers)


def _wrong_role(api: Clients) -> httpx.Response:
    return _put(api.researcher, make_feature(), headers=RU)


def _no_token(api: Clients) -> httpx.Response:
    return _put(api.anonymous, make_feature(), headers=RU)


def _bad_token(api: Clients) -> httpx.Response:
    return api.bad_token.get(URL, headers=RU)


def _not_found(api: Clients) -> httpx.Response:
    return api.researcher.get(f"{URL}/{uuid.uuid4()}", headers=RU)


def _conflict(api: Clients) -> httpx.Response:
    feature = make_feature(7)
    assert _put(api.observer, feature).status_code == 201
    return _put(
        api.observer, {**feature, "properties": {**feature["properties"], "count": 99}}, headers=RU
    )


def _control_character(api: Clients) -> httpx.Response:
    return api.observer.get(f"{URL}?population=a%00b", headers=RU)


def _no_route(api: Clients) -> httpx.Response:
    return api.observer.get("/api/v1/nowhere", headers=RU)


CASES: list[tuple[Callable[[Clients], httpx.Response], int, str, str | None, str]] = [
    (
        _wrong_type,
        422,
        "validation_error",
        "properties.count",
        "properties.count: нужно целое число",
    ),
    (_missing, 422, "validation_error", "properties.count", "properties.count: обязательное поле"),
    (_too_large, 413, "payload_too_large", "body", "тело запроса больше"),
    (_wrong_role, 403, "forbidden", None, "роли researcher это не разрешено"),
    (_no_token, 401, "unauthorized", "Authorization", "передайте Authorization: Bearer <токен>"),
    (_bad_token, 401, "unauthorized", None, "этот токен недействителен"),
    (_not_found, 404, "not_found", "id", "нет наблюдения с id"),
    (_conflict, 409, "conflict", None, "наблюдение с этим id уже сохранено"),
    (
        _control_character,
        400,
        "invalid_parameter",
        "population",
        "population: содержит управляющий",
    ),
    (_no_route, 404, "not_found", None, "по этому адресу ничего нет"),
]


@pytest.mark.parametrize(
    ("call", "status", "code", "field", "detail"), CASES, ids=[c[0].__name__ for c in CASES]
)
def test_each_kind_of_error_answers_in_russian(
    sqlite_api: Clients,
    call: Callable[[Clients], httpx.Response],
    status: int,
    code: str,
    field: str | None,
    detail: str,
):
    response = call(sqlite_api)
    body = response.json()
    assert (response.status_code, body["status"], body["code"]) == (status, status, code)
    assert body["detail"].startswith(detail), body["detail"]
    assert _russian(body["title"]), body["title"]
    if field is not None:
        assert body["errors"][0]["field"] == field
    for error in body["errors"]:
        assert _russian(error["message"]), error
    assert response.headers["Content-Language"] == "ru"


def test_odk_collect_is_answered_in_its_language(sqlite_api: Clients):
    """ODK Collect sends the tablet's Accept-Language; its OpenRosa messages follow it."""
    basic = base64.b64encode(f"olga:{sqlite_api.tokens['olga']}".encode()).decode()
    headers = {"Authorization": f"Basic {basic}", "Content-Type": "text/plain"}
    english = sqlite_api.anonymous.post("/openrosa/submission", content=b"x", headers=headers)
    russian = sqlite_api.anonymous.post(
        "/openrosa/submission", content=b"x", headers={**headers, "Accept-Language": "ru-RU"}
    )
    assert english.status_code == russian.status_code == 400
    assert "send multipart/form-data with xml_submission_file" in english.text
    assert "отправьте multipart/form-data с xml_submission_file" in russian.text
    assert russian.headers["Content-Language"] == "ru"
