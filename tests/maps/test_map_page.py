"""The map page's own markup, styles and script: files in maps/templates and maps/static."""

from __future__ import annotations

from domain.records import HerdCount
from maps.herd_map import herd_count_map, render_html
from maps.style import map_css, map_js, static_text

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
