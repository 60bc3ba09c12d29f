"""Render a computed report: self-contained HTML, PDF (reportlab), CSV tables, GeoPackage."""

from __future__ import annotations

import base64
import io
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

import geopandas as gpd
import matplotlib
import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined
from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    Image,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from reports.charts import render_charts
from reports.population import PopulationReport
from reports.tables import csv_frame, display_table, herds_frame

# Streams (figures, fonts, pages) go into PDFs as compressed binary, not also ASCII85 text:
# reportlab encodes ASCII85 in pure Python, a quarter of a second for the report's figures,
# and the text form is a quarter larger. Every PDF reader takes binary streams.
rl_config.useA85 = 0

SECTIONS: tuple[tuple[str, str, str | None], ...] = (
    ("summary", "Minimum counts by population and area, each from one survey", "counts"),
    ("surveys", "Each survey's own minimum count", None),
    ("estimates", "Population estimates from strip transects (not minimum counts)", None),
    ("trend", "Trend across years", "trend"),
    ("composition", "Sex and age composition", "composition"),
    ("effort", "Survey effort and counts per unit of effort", None),
)


def key_figures(report: PopulationReport) -> list[tuple[str, str]]:
    """The headline numbers, labelled so that nobody mistakes sightings for herds."""
    total = report.summary.iloc[-1]
    return [
        ("Sightings (raw)", f"{int(total['sightings']):,}"),
        ("De-duplicated herds in the counting surveys", f"{int(total['herds']):,}"),
        ("Minimum count (animals, one survey per population)", f"{int(total['minimum_count']):,}"),
        ("Sighting total (raw, overcounts)", f"{int(total['sighting_total']):,}"),
    ]


def synthetic_warning(report: PopulationReport) -> str | None:
    if "synthetic" in report.herds and bool(report.herds["synthetic"].any()):
        n = int(report.herds["synthetic"].sum())
        return (
            f"{n:,} of these herds include SYNTHETIC records (demo or benchmark data, "
            "flag 'synthetic'): not real survey results."
        )
    return None


# ---------------------------------------------------------------------------------- HTML
@lru_cache(maxsize=1)
def _templates() -> Environment:
    """reports/templates, parsed once per process; autoescape on (titles and notes are data)."""
    return Environment(
        loader=PackageLoader("reports", "templates"), autoescape=True, undefined=StrictUndefined
    )


def sections(report: PopulationReport) -> list[tuple[str, str, str | None]]:
    """The report's sections; the strip-transect estimates only where a survey has them."""
    return [s for s in SECTIONS if s[0] != "estimates" or len(report.estimates)]


def to_html(report: PopulationReport, images: dict[str, bytes] | None = None) -> str:
    """One self-contained HTML page: tables, charts and map inline (no external files)."""
    images = images or render_charts(report)
    template = _templates().get_template("report.html")
    return template.render(
        r=report,
        keys=key_figures(report),
        warning=synthetic_warning(report),
        sections=sections(report),
        tables={name: display_table(report, name) for name, _, _ in sections(report)},
        images={k: base64.b64encode(v).decode() for k, v in images.items()},
    )


# ----------------------------------------------------------------------------------- PDF
def to_pdf(report: PopulationReport, images: dict[str, bytes] | None = None) -> bytes:
    """The same report as a PDF (A4): key figures, tables, charts, map and methods."""
    images = images or render_charts(report)
    styles = _styles()
    story: list[object] = [
        Paragraph(report.title, styles["Title"]),
        Paragraph(_subtitle(report), styles["Normal"]),
    ]
    warning = synthetic_warning(report)
    if warning:
        story.append(Paragraph(warning, styles["warn"]))
    story += [Spacer(1, 3 * mm), _key_table(report), Spacer(1, 3 * mm)]
    for name, heading, chart in sections(report):
        head: list[object] = [Paragraph(heading, styles["Heading2"])]
        if chart:
            head.append(_image(images[chart], 170 * mm))
        story.append(KeepTogether(head))  # a heading never sits alone at a page foot
        story.append(_table(*display_table(report, name), styles))
    story += [
        PageBreak(),
        Paragraph("Map of the period", styles["Heading2"]),
        _image(images["map"], 175 * mm),
    ]
    story.append(Paragraph("Methods", styles["Heading2"]))
    story += [Paragraph(escape(p), styles["small"]) for p in report.methods]
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=report.title,
        author="Herdwatch",
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
    )
    doc.title_provenance = report.provenance
    doc.build(story, onFirstPage=_footer, onLaterPages=_footer)
    return buffer.getvalue()


def _subtitle(report: PopulationReport) -> str:
    return (
        f"Every {report.period.every}: {report.period.key}, compared with "
        f"{report.previous.label}. Generated {report.generated_at:%Y-%m-%d %H:%M} UTC by "
        f"{report.provenance}. "
        "Counted herds, not sightings: each population's minimum count is the sum of "
        "de-duplicated herd sizes of one survey, never a sum of repeated surveys."
    )


@lru_cache(maxsize=1)
def _font() -> str:
    """DejaVu Sans from matplotlib's own files: Helvetica lacks Σ, −, ², ᵢ and km²."""
    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    pdfmetrics.registerFont(TTFont("DejaVuSans", str(folder / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", str(folder / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily("DejaVuSans", normal="DejaVuSans", bold="DejaVuSans-Bold")
    return "DejaVuSans"


def _styles() -> dict[str, ParagraphStyle]:
    sheet = getSampleStyleSheet()
    font = _font()
    for name in ("Title", "Normal", "Heading2"):
        sheet[name].fontName = font if name == "Normal" else "DejaVuSans-Bold"
    styles = {name: sheet[name] for name in ("Title", "Normal", "Heading2")}
    styles["small"] = ParagraphStyle(
        "small", parent=sheet["Normal"], fontSize=8, leading=10, spaceAfter=4
    )
    styles["cell"] = ParagraphStyle("cell", parent=sheet["Normal"], fontSize=6.5, leading=8)
    styles["warn"] = ParagraphStyle(
        "warn", parent=sheet["Normal"], backColor=colors.HexColor("#fff3cd")
    )
    return styles


def _key_table(report: PopulationReport) -> Table:
    labels, values = zip(*key_figures(report), strict=True)
    table = Table([list(labels), list(values)])
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#eef2f5")),
                ("FONTNAME", (0, 0), (-1, -1), _font()),
                ("FONTSIZE", (0, 0), (-1, 0), 7),
                ("FONTSIZE", (0, 1), (-1, 1), 13),
                ("TOPPADDING", (0, 1), (-1, 1), 4),
            ]
        )
    )
    return table


def _table(headers: list[str], rows: list[list[str]], styles: dict[str, ParagraphStyle]) -> Table:
    cell = styles["cell"]
    data = [[Paragraph(f"<b>{escape(h)}</b>", cell) for h in headers]]
    data += [[Paragraph(escape(c), cell) for c in row] for row in rows]
    table = Table(data, repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f5")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _image(png: bytes, width: float) -> Image:
    w, h = ImageReader(io.BytesIO(png)).getSize()
    return Image(io.BytesIO(png), width=width, height=width * h / w)


def _footer(canvas: object, doc: object) -> None:
    canvas.saveState()  # type: ignore[attr-defined]
    canvas.setFont(_font(), 7)  # type: ignore[attr-defined]
    text = f"Herdwatch population report · page {doc.page} · {doc.title_provenance}"  # type: ignore[attr-defined]
    canvas.drawString(15 * mm, 8 * mm, text)  # type: ignore[attr-defined]
    canvas.restoreState()  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------ CSV, GPKG
def to_csv(report: PopulationReport, table: str = "summary") -> str:
    """One table as CSV text (machine column names; the period in the first columns).

    Text cells that a spreadsheet would read as a formula are neutralised (domain/csv_cells).
    """
    from domain.csv_cells import safe_cell

    frame = csv_frame(report, table)
    text = frame.select_dtypes(include=["object", "string"]).columns
    frame[text] = frame[text].map(safe_cell)
    frame.columns = [safe_cell(c) for c in frame.columns]
    return frame.to_csv(index=False)


def to_gpkg(report: PopulationReport, path: Path) -> None:
    """The period's de-duplicated herds as points (EPSG:4326) in a GeoPackage layer "herds"."""
    herds = herds_frame(report)
    for column in ("first_seen", "last_seen"):  # typed datetimes in the layer, not text
        herds[column] = pd.to_datetime(herds[column], utc=True)
    frame = gpd.GeoDataFrame(
        herds, geometry=gpd.points_from_xy(herds["lon"], herds["lat"]), crs="EPSG:4326"
    )
    frame.to_file(path, layer="herds", driver="GPKG", engine="pyogrio")
