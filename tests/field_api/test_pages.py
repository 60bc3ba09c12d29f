"""The browser pages rendered from field_api/templates: what they show, and that it is escaped."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from domain.records import COUNT_METHODS, SURVEY_METHODS, ObservationQuery
from field_api.pages import render_page, templates
from field_api.viewer import ViewerFilters, error_page, viewer_side_html

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


def side_panel(settings, user: str = "rita", **overrides) -> Tags:
    """The viewer's side panel for filters given directly (the form parser is bypassed)."""
    values = {"populations": (), "method": "", "start": "", "end": "", "every": "year", "bbox": ""}
    filters = ViewerFilters(**{**values, **overrides}, query=ObservationQuery())
    return Tags(viewer_side_html(filters, settings, user=user))


def test_viewer_form_offers_every_choice_and_checks_all_populations_by_default(settings):
    page = side_panel(settings)
    boxes = [b for b in page.named("input") if b.get("type") == "checkbox"]
    assert [b["value"] for b in boxes] == list(settings.populations)
    assert all(b["name"] == "population" and "checked" in b for b in boxes)
    options = [o["value"] for o in page.named("option")]
    assert options == [
        "",
        *SURVEY_METHODS,
        *COUNT_METHODS,
        "month",
        "season",
        "year",
        "herds",
        "sightings",
    ]
    assert [s["name"] for s in page.named("select")] == ["method", "every", "view"]
    fields = [i["name"] for i in page.named("input") if i.get("type") != "checkbox"]
    assert fields == ["from", "to", "bbox"]
    assert {"type": "submit", "id": "hw-apply"} in page.named("button")
    links = {a["id"]: a["href"] for a in page.named("a")}
    assert links == {
        "hw-export-geojson": "/api/v1/observations.geojson",
        "hw-export-csv": "/api/v1/observations.csv",
        "hw-export-map": "/maps/herd-counts?every=year&view=herds",
    }


def test_viewer_form_keeps_its_choices_and_links_exactly_them(settings):
    page = side_panel(
        settings,
        populations=("sundrun", "forest"),
        method="photo",
        start="2024-01-01",
        end="2024-06-30",
        every="month",
        bbox="120,60,160,75",
    )
    checked = [b["value"] for b in page.named("input") if "checked" in b]
    assert checked == ["sundrun", "forest"]
    selected = [o["value"] for o in page.named("option") if "selected" in o]
    assert selected == ["photo", "month", "herds"]
    values = {i["name"]: i.get("value") for i in page.named("input") if i.get("type") != "checkbox"}
    assert values == {"from": "2024-01-01", "to": "2024-06-30", "bbox": "120,60,160,75"}
    links = {a["id"]: a["href"] for a in page.named("a")}
    query = "population=sundrun%2Cforest&method=photo&datetime=2024-01-01T00%3A00%3A00%2B09%3A00"
    assert links["hw-export-csv"].startswith(f"/api/v1/observations.csv?{query}")
    assert links["hw-export-map"].endswith("&bbox=120%2C60%2C160%2C75&every=month&view=herds")


def test_viewer_form_escapes_what_it_echoes(settings):
    page = side_panel(settings, bbox=HOSTILE, method=HOSTILE, user=HOSTILE)
    assert page.named("script") == []
    assert {"name": "bbox", "value": HOSTILE, "placeholder": "minLon,minLat,maxLon,maxLat"} in (
        page.named("input")
    )
    assert "Signed in as " + HOSTILE in "".join(page.text)
