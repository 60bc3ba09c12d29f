"""The map page's own markup, styles and script: files in maps/templates and maps/static."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest

from domain.records import HerdCount
from maps.herd_map import herd_count_map, render_html
from maps.style import map_css, map_js, static_text
from tests.factories import make_observation

CELL_M = 100_000.0


def page(counts: list[HerdCount], **options) -> str:
    return render_html(herd_count_map(counts, every="year", cell_size_m=CELL_M, **options))


def test_script_and_styles_are_files_read_once():
    assert static_text("herd_map.js") is static_text("herd_map.js")
    assert "function draw(i)" in map_js() and "#hw-side" in map_css()


def test_the_page_inlines_the_script_and_styles():
    html = page([HerdCount("2024", "sundrun", "1:1", 130.0, 65.0, 1, 5)])
    assert f"<style>{map_css()}</style>" in html
    assert map_js() in html  # inside the slider's script, which defines map, groups and opts
    script = html[html.index("var opts = ") : html.index(map_js())]
    assert script.count("\n") >= 1  # the file's first line (a comment) cannot swallow opts


HOSTILE = '"><script>alert(1)</script>'


class Parsed(HTMLParser):
    """Script elements and visible text of a page, as a browser's tokenizer splits them."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.scripts = 0
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.scripts += tag == "script"

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_names_periods_and_the_title_are_shown_as_text_never_run():
    plain = Parsed(page([HerdCount("2024", "sundrun", "1:1", 130.0, 65.0, 1, 5)], title="T"))
    odd = HerdCount(HOSTILE, HOSTILE, "1:1", 130.0, 65.0, 1, 5)
    hostile = Parsed(page([odd], title=HOSTILE))
    assert hostile.scripts == plain.scripts  # no element added by the data
    assert hostile.text.count(HOSTILE) == 3  # <title>, <h1> and the totals row heading


def test_the_side_panel_shows_the_callers_html_and_the_totals():
    counts = [HerdCount(p, "sundrun", "1:1", 130.0, 65.0, 2, 30) for p in ("2023", "2024")]
    html = page(counts, side_html='<form id="caller-form"></form>')
    side = html[html.index('<aside id="hw-side">') : html.index("</aside>")]
    assert '<h1>Wild reindeer counted</h1><form id="caller-form"></form>' in side
    assert "per year in 100 km × 100 km equal-area cells" in side
    assert side.count('class="hw-num hw-animals">30<') == 2
    assert 'id="hw-total-sightings">4<' in side and 'id="hw-total-animals">60<' in side
    assert 'style="width:100.0%"' in side


@pytest.mark.parametrize("text", ["<!--<script>", "</script><script>alert(1)</script>"])
def test_no_text_in_the_data_can_end_or_stretch_its_script(text):
    sighting = make_observation(1, survey_id=text)
    year = str(sighting.observed_at.year)
    counts = [HerdCount(year, sighting.population, "1:1", sighting.lon, sighting.lat, 1, 5)]
    html = page(counts, sightings=[sighting])
    start = html.index('<script type="application/json" id="hw-map-data">')
    body = html[html.index(">", start) + 1 : html.index("</script>", start)]
    assert "<" not in body  # neither "</script" nor "<!--" can change where the script ends
    [[row]] = json.loads(body)["sightings"]
    assert row[11] == text  # the survey id as typed, once parsed
    assert row[12] == str(sighting.id)  # a popup asks the server for its photos by it
