"""The browser pages rendered from field_api/templates: what they show, and that it is escaped."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from field_api.pages import render_page, templates
from field_api.viewer import error_page

HOSTILE = '"><script>alert(1)</script>'


class Tags(HTMLParser):
    """The start tags of a page with their attributes, and its text, as a browser reads them."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def named(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


def test_the_environment_is_made_once_and_escapes():
    assert templates() is templates()
    assert templates().autoescape is True
    with pytest.raises(Exception, match="undefined"):
        render_page("login.html", next="/viewer")  # a missing name fails, never renders blank


def test_login_page_has_its_form(sqlite_api):
    page = Tags(sqlite_api.anonymous.get("/login?next=/viewer%3Fevery%3Dmonth").text)
    inputs = {attrs["name"]: attrs for attrs in page.named("input")}
    assert inputs["next"] == {"type": "hidden", "name": "next", "value": "/viewer?every=month"}
    assert inputs["token"]["type"] == "password" and inputs["token"]["id"] == "token"
    assert [b["id"] for b in page.named("button")] == ["sign-in"]
    assert page.named("form") == [{"method": "post", "action": "/login"}]
    assert "Access token" in page.text and "Sign in" in page.text


def test_login_page_escapes_what_the_link_carries(sqlite_api):
    response = sqlite_api.anonymous.get("/login", params={"next": "/" + HOSTILE, "error": HOSTILE})
    page = Tags(response.text)
    assert page.named("script") == []
    assert {"type": "hidden", "name": "next", "value": "/" + HOSTILE} in page.named("input")
    assert HOSTILE in page.text  # shown as text, not run


def test_a_failed_sign_in_says_so_and_keeps_where_it_was_going(sqlite_api):
    response = sqlite_api.anonymous.post("/login", data={"token": "nope", "next": "/viewer?x=1"})
    page = Tags(response.text)
    assert response.status_code == 401
    assert "That token is not valid or was revoked." in page.text
    assert {"type": "hidden", "name": "next", "value": "/viewer?x=1"} in page.named("input")


@pytest.mark.parametrize("filters_back", [False, True])
def test_error_page_escapes_its_message(filters_back):
    response = error_page(422, HOSTILE, filters_back=filters_back)
    page = Tags(bytes(response.body).decode())
    assert response.status_code == 422 and page.named("script") == []
    assert HOSTILE in page.text
    assert (page.named("a") == [{"href": "/viewer"}]) is filters_back
    assert [f["action"] for f in page.named("form")] == ["/logout"]
