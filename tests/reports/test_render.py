"""A report of the (synthetic) demo data, rendered as PDF, HTML, CSV and GeoPackage.

The PDF pages are also rendered to PNG with pdftoppm into test-artifacts/ for a person
to look at; the assertions read the PDF's text, pages and images with poppler's tools.
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import statsmodels.api as sm
from PIL import Image

from reports.charts import render_charts
from reports.population import PopulationReport, build_population_report
from reports.render import to_csv, to_gpkg, to_html, to_pdf
from tests.reports.sample import demo_store


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> PopulationReport:
    store = demo_store(tmp_path_factory.mktemp("demo") / "demo.db")
    report = build_population_report(store, "year", "2024")
    store.close()
    return report


@pytest.fixture(scope="module")
def pdf_path(demo_report: PopulationReport, artifacts_dir: Path) -> Path:
    images = render_charts(demo_report)
    path = artifacts_dir / "report-demo-2024.pdf"
    path.write_bytes(to_pdf(demo_report, images))
    (artifacts_dir / "report-demo-2024.html").write_text(to_html(demo_report, images))
    return path


def poppler(*args: str) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def test_pdf_text_has_every_section_and_says_what_was_counted(pdf_path: Path):
    text = poppler("pdftotext", "-layout", str(pdf_path), "-")
    headings = (
        "Wild reindeer population report: 2024",
        "Minimum counts by population and area, each from one survey",
        "Each survey's own minimum count",
        "Trend across years",
        "Sex and age composition",
        "Survey effort and counts per unit of effort",
        "Map of the period",
        "Methods",
    )
    words = (
        "Minimum count",
        "Calves /",
        "100 cows",
        "Annual change",
        "Lena-Olenek",
        "Taimyr",
        "SYNTHETIC",
        "never a sum across surveys",
        "From survey",
        "quasi-Poisson",
        "EPSG:3576",
    )
    for expected in headings + words:
        assert expected in text
    assert "Σ(yᵢ − R·xᵢ)²" in text  # the DejaVu font carries the formula's characters


def test_pdf_pages_map_on_its_own_page_and_four_figures(pdf_path: Path):
    pages = int(re.search(r"Pages:\s+(\d+)", poppler("pdfinfo", str(pdf_path))).group(1))
    assert 4 <= pages <= 8
    texts = [
        poppler("pdftotext", "-f", str(n), "-l", str(n), str(pdf_path), "-")
        for n in range(1, pages + 1)
    ]
    map_pages = [n for n, page in enumerate(texts, start=1) if "Map of the period" in page]
    assert len(map_pages) == 1 and map_pages[0] > 1
    listed = poppler("pdfimages", "-list", str(pdf_path)).splitlines()[2:]
    images = [line for line in listed if line.split()[2] == "image"]  # not their alpha masks
    assert len(images) == 4  # counts, trend, composition charts and the map
    assert [line.split()[0] for line in images].count(str(map_pages[0])) == 1


def test_pdf_pages_render_to_png(pdf_path: Path, artifacts_dir: Path):
    prefix = artifacts_dir / "report-demo-2024-page"
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf_path), str(prefix)], check=True)
    pngs = sorted(artifacts_dir.glob("report-demo-2024-page-*.png"))
    assert len(pngs) >= 4
    for png in pngs:
        pixels = np.asarray(Image.open(png).convert("L"))
        assert pixels.std() > 5  # not a blank page


def test_report_trend_equals_a_statsmodels_glm_on_its_own_counts(demo_report: PopulationReport):
    counts = demo_report.trend_counts
    own = counts[counts["population"] != "all populations"]
    for population, trend in demo_report.trends.items():
        if population == "all populations":  # a population factor and one common slope
            pops = sorted(set(own["population"]))
            levels = (own["population"].to_numpy()[:, None] == np.array(pops)).astype(float)
            years = own["year"].to_numpy(dtype=float) - own["year"].min()
            x = np.column_stack([levels, years])
        else:
            series = own[own["population"] == population]
            x = sm.add_constant(series["year"].to_numpy(dtype=float) - series["year"].min())
        y = (own if population == "all populations" else series)["minimum_count"]
        fit = sm.GLM(y.to_numpy(dtype=float), x, family=sm.families.Poisson()).fit(
            scale="X2", use_t=True
        )
        low, high = np.expm1(fit.conf_int(alpha=0.05)[-1])
        assert trend.rate == pytest.approx(np.expm1(fit.params[-1]), abs=1e-6)
        assert (trend.rate_low, trend.rate_high) == pytest.approx((low, high), abs=1e-6)
    assert len(demo_report.trends) == 7  # six populations and all together, 2019-2024


def test_html_is_self_contained(demo_report: PopulationReport):
    html = to_html(demo_report)
    assert html.count("data:image/png;base64,") == 4
    assert "http://" not in html and "https://" not in html


def test_html_escapes_the_report_text(demo_report: PopulationReport):
    hostile = '<script>alert("x")</script>'
    summary = demo_report.summary.assign(survey=hostile)  # a survey id is data
    report = replace(demo_report, summary=summary, methods=(hostile,))
    for lang in ("en", "ru"):
        images = dict.fromkeys(("counts", "trend", "composition", "map"), b"png")
        html = to_html(report, images, lang)
        assert "<script" not in html
        escaped = html.count("&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;")
        assert escaped == len(summary) + 1  # each table row, and the methods


def test_csv_tables_and_the_geopackage_agree(demo_report: PopulationReport, tmp_path: Path):
    summary = list(csv.DictReader(io.StringIO(to_csv(demo_report, "summary"))))
    total = [r for r in summary if r["population"] == "all populations"][0]
    path = tmp_path / "herds.gpkg"
    to_gpkg(demo_report, path)
    herds = gpd.read_file(path, layer="herds")
    assert herds.crs.to_epsg() == 4326 and len(herds) == len(demo_report.herds)
    # The minimum count is the sum of the herds of each population's counting survey.
    surveys = list(csv.DictReader(io.StringIO(to_csv(demo_report, "surveys"))))
    used = {(r["population"], r["survey"]) for r in surveys if r["used"] == "True"}
    counting = herds[
        [(p, s) in used for p, s in zip(herds["population"], herds["survey"], strict=True)]
    ]
    assert int(counting["size"].sum()) == int(total["minimum_count"])
    assert int(herds["size"].sum()) > int(total["minimum_count"])  # repeated surveys
    assert set(herds.geom_type) == {"Point"}
    assert herds["sighting_ids"].str.split().str.len().sum() == int(total["sightings"])


def test_every_report_names_its_software_and_data_version(
    demo_report: PopulationReport, pdf_path: Path
):
    version = ".".join(str(v) for v in demo_report.data_version)
    assert len(demo_report.data_version) == 4 and demo_report.data_version[0] > 0
    assert f"store data version {version}" in to_html(demo_report)
    text = subprocess.run(
        ["pdftotext", str(pdf_path), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert text.count(f"store data version {version}") >= 3  # the subtitle and each footer
    assert "Herdwatch 0." in text


def test_the_geopackage_keeps_times_as_datetimes(demo_report: PopulationReport, tmp_path: Path):
    path = tmp_path / "herds.gpkg"
    to_gpkg(demo_report, path)
    herds = gpd.read_file(path, layer="herds")
    assert str(herds["first_seen"].dtype).startswith("datetime64")
    assert herds["first_seen"].min().year == 2024


def test_whole_numbers_in_the_csvs_are_written_as_whole_numbers(demo_report: PopulationReport):
    for table in ("summary", "surveys", "composition", "effort", "trend_counts", "herds"):
        rows = list(csv.DictReader(io.StringIO(to_csv(demo_report, table))))
        for column in ("minimum_count", "previous_minimum_count", "herds", "size", "calves"):
            values = [r[column] for r in rows if column in r and r[column]]
            assert not [v for v in values if v.endswith(".0")], (table, column)
    summary = list(csv.DictReader(io.StringIO(to_csv(demo_report, "summary"))))
    assert any(r["change_pct"] and "." in r["change_pct"] for r in summary)  # floats stay


def test_the_map_has_a_scale_bar_and_a_size_key(demo_report: PopulationReport):
    from reports.charts import map_figure

    ax = map_figure(demo_report).axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert any(re.fullmatch(r"[\d,]+ km", t) for t in texts)
    keys = [c for c in ax.get_children() if c.__class__.__name__ == "Legend"]
    titles = [k.get_title().get_text() for k in keys]
    assert "herd size" in titles and len(keys) == 2


def test_every_configured_population_has_its_own_colour():
    from maps.style import POPULATION_COLOURS, population_colour

    extra = ["kolyma-upland", "olenek-forest", "anabar"]
    colours = [population_colour(p) for p in extra]
    assert len(set(colours)) == 3 and not set(colours) & set(POPULATION_COLOURS.values())
    assert colours == [population_colour(p) for p in extra]  # stable
