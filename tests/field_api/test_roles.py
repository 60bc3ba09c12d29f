"""Every endpoint under every role: no token, a bad token, observer, another observer,
researcher and admin. Nobody reads or changes what their role does not allow."""

from __future__ import annotations

import itertools

import pytest

from tests.conftest import Clients
from tests.factories import make_collection, make_feature

ROLES = ("anonymous", "bad_token", "observer", "other_observer", "researcher", "admin")
URL = "/api/v1/observations"
_fresh = itertools.count(1000)


def _own_record(api: Clients) -> str:
    """A new observation owned by the observer "olga"."""
    feature = make_feature(next(_fresh))
    assert api.observer.put(f"{URL}/{feature['id']}", json=feature).status_code == 201
    return str(feature["id"])


def _call(api: Clients, role: str, name: str) -> int:
    client = api.by_role()[role]
    record = _own_record(api)
    fresh = make_feature(next(_fresh))
    survey = {
        "id": f"s-{next(_fresh)}",
        "method": "foot",
        "started_at": "2024-07-10T08:00:00+09:00",
    }
    calls = {
        "put": lambda: client.put(f"{URL}/{fresh['id']}", json=fresh),
        "batch": lambda: client.post(
            f"{URL}/batch", json=make_collection(2, start=next(_fresh) * 10)
        ),
        "list": lambda: client.get(URL),
        "get": lambda: client.get(f"{URL}/{record}"),
        "patch": lambda: client.patch(
            f"{URL}/{record}",
            json={
                "revision": api.store.get_observation(__import__("uuid").UUID(record)).revision,
                "properties": {"notes": "checked"},
            },
        ),
        "delete": lambda: client.delete(f"{URL}/{record}"),
        "history": lambda: client.get(f"{URL}/{record}/history"),
        "changes": lambda: client.get("/api/v1/changes"),
        "survey_create": lambda: client.post("/api/v1/surveys", json=survey),
        "survey_list": lambda: client.get("/api/v1/surveys"),
        "counts": lambda: client.get("/api/v1/counts"),
        "health": lambda: client.get("/health"),
    }
    return calls[name]().status_code


EXPECTED = {
    #                anon bad  obs  other res  admin
    "put": (401, 401, 201, 201, 403, 201),
    "batch": (401, 401, 200, 200, 403, 200),
    "list": (401, 401, 200, 200, 200, 200),
    "get": (401, 401, 200, 403, 200, 200),
    "patch": (401, 401, 200, 403, 403, 200),
    "delete": (401, 401, 200, 403, 403, 200),
    "history": (401, 401, 200, 403, 200, 200),
    "changes": (401, 401, 200, 200, 200, 200),
    "survey_create": (401, 401, 403, 403, 201, 201),
    "survey_list": (401, 401, 200, 200, 200, 200),
    "counts": (401, 401, 403, 403, 200, 200),
    "health": (200, 200, 200, 200, 200, 200),
}


@pytest.mark.parametrize("endpoint", list(EXPECTED))
def test_every_endpoint_under_every_role(api: Clients, endpoint: str) -> None:
    got = {role: _call(api, role, endpoint) for role in ROLES}
    assert got == dict(zip(ROLES, EXPECTED[endpoint], strict=True))


def test_forbidden_calls_change_nothing(sqlite_api: Clients) -> None:
    record = _own_record(sqlite_api)
    for client in (sqlite_api.other_observer, sqlite_api.researcher, sqlite_api.anonymous):
        client.patch(f"{URL}/{record}", json={"revision": 1, "properties": {"count": 1}})
        client.delete(f"{URL}/{record}")
    stored = sqlite_api.store.get_observation(__import__("uuid").UUID(record))
    assert (stored.revision, stored.status) == (1, "active")


def test_observers_list_only_their_own_records(sqlite_api: Clients) -> None:
    _own_record(sqlite_api)
    assert sqlite_api.other_observer.get(URL).json()["features"] == []
    assert len(sqlite_api.observer.get(URL).json()["features"]) == 1
    assert len(sqlite_api.researcher.get(URL).json()["features"]) == 1


def test_revoked_users_are_shut_out(sqlite_api: Clients) -> None:
    sqlite_api.store.revoke_user("olga")
    response = sqlite_api.observer.get(URL)
    assert response.status_code == 401 and response.json()["code"] == "unauthorized"


def test_browser_login_sets_a_session_cookie_and_logout_revokes_it(sqlite_api: Clients) -> None:
    browser = sqlite_api.anonymous
    bad = browser.post("/login", data={"token": "wrong"}, follow_redirects=False)
    assert bad.status_code == 401 and "not valid" in bad.text
    ok = browser.post(
        "/login",
        data={"token": sqlite_api.tokens["rita"], "next": "https://evil.example/"},
        follow_redirects=False,
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/viewer"
    cookie = ok.cookies.get("herdwatch_session")
    assert cookie and cookie != sqlite_api.tokens["rita"]
    assert "httponly" in ok.headers["set-cookie"].lower()
    assert browser.get(URL).status_code == 200
    browser.post("/logout", follow_redirects=False, headers={"Origin": "http://testserver"})
    browser.cookies.set("herdwatch_session", cookie)
    assert browser.get(URL).status_code == 401
    assert sqlite_api.researcher.get(URL).status_code == 200  # the API token still works
