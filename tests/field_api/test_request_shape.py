"""Requests the API cannot take as sent are refused by name, never half-understood.

A query parameter a route does not take, and one given twice (field_api/query_check.py):
seen answering 200 with every population for `?popualtion=taimyr`, and with the last of
two `population=` values only. A bbox of other than four finite numbers; a JSON body sent
with another Content-Type.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Clients


@pytest.mark.parametrize(
    "path", ["/api/v1/observations", "/api/v1/counts", "/api/v1/changes", "/api/v1/herds"]
)
def test_a_misspelt_filter_is_refused_by_name(sqlite_api: Clients, path: str) -> None:
    answer = sqlite_api.researcher.get(path, params={"popualtion": "taimyr"})
    assert answer.status_code == 400, answer.text
    [error] = answer.json()["errors"]
    assert error["code"] == "unknown_parameter" and error["field"] == "popualtion"
    assert "'popualtion'" in error["message"]


def test_the_refusal_lists_what_the_route_takes(sqlite_api: Clients) -> None:
    answer = sqlite_api.researcher.get("/api/v1/observations", params={"popualtion": "taimyr"})
    message = answer.json()["errors"][0]["message"]
    for name in ("bbox", "datetime", "population", "method", "survey", "limit", "next"):
        assert name in message
    takes_none = sqlite_api.researcher.get("/api/v1/me", params={"x": "1"})
    assert (
        takes_none.status_code == 400 and "takes none" in takes_none.json()["errors"][0]["message"]
    )


def test_a_filter_given_twice_is_refused(sqlite_api: Clients) -> None:
    query = [("population", "lena-olenek"), ("population", "taimyr")]
    answer = sqlite_api.researcher.get("/api/v1/observations", params=query)
    assert answer.status_code == 400
    [error] = answer.json()["errors"]
    assert error["code"] == "repeated_parameter" and error["field"] == "population"
    several = sqlite_api.researcher.get(
        "/api/v1/observations", params={"population": "lena-olenek,taimyr"}
    )
    assert several.status_code == 200  # the documented way to ask for several


def test_lang_is_taken_everywhere(sqlite_api: Clients) -> None:
    answer = sqlite_api.researcher.get("/api/v1/observations", params={"lang": "ru", "limit": 1})
    assert answer.status_code == 200


def test_every_documented_query_parameter_is_taken(sqlite_api: Clients) -> None:
    """What the OpenAPI document lists for a route, the check lets through: a value that is
    wrong for the parameter may be refused, but never as unknown or repeated."""
    spec = sqlite_api.researcher.get("/openapi.json").json()
    checked = 0
    for path, operations in spec["paths"].items():
        get = operations.get("get")
        if not path.startswith("/api/v1/") or "{" in path or get is None:
            continue
        names = [p["name"] for p in get.get("parameters", []) if p["in"] == "query"]
        if not names:
            continue
        answer = sqlite_api.admin.get(path, params=dict.fromkeys(names, "x"))
        codes = [e.get("code") for e in _errors(answer.json())]
        assert "unknown_parameter" not in codes and "repeated_parameter" not in codes, path
        checked += 1
    assert checked >= 5


def _errors(body: Any) -> list[dict[str, Any]]:
    return body.get("errors", []) if isinstance(body, dict) else []


@pytest.mark.parametrize("bbox", ["NaN,60,130,70", "120,60,inf,70", "120,60,130"])
def test_a_bbox_of_other_than_four_finite_numbers_says_so(sqlite_api: Clients, bbox: str) -> None:
    answer = sqlite_api.researcher.get("/api/v1/observations", params={"bbox": bbox})
    assert answer.status_code == 422
    [error] = answer.json()["errors"]
    assert error["field"] == "bbox" and "four numbers" in error["message"]


@pytest.mark.parametrize("path", ["/api/v1/surveys", "/api/v1/herds/decisions"])
def test_a_json_body_sent_as_a_form_is_told_the_content_type(
    sqlite_api: Clients, path: str
) -> None:
    """`curl -d '{...}'` sends application/x-www-form-urlencoded: seen answering "body: must
    be a JSON object" for a JSON object."""
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    answer = sqlite_api.admin.post(path, content=b'{"id": "s-1"}', headers=form)
    assert answer.status_code == 415
    [error] = answer.json()["errors"]
    assert error["field"] == "Content-Type"
    assert "application/x-www-form-urlencoded" in error["message"]
    as_json = sqlite_api.admin.post(path, json={})
    assert as_json.status_code == 422  # read as JSON, then its fields are checked
