"""Render a computed report: self-contained HTML, PDF (reportlab), CSV tables, GeoPackage."""

from __future__ import annotations

import base64
import io
import re
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

from domain.i18n import DEFAULT_LANGUAGE, N_, Translator, i18n_environment, render_in
from domain.i18n import translator as translator_of
from reports import labels, words
from reports.charts import render_charts
from reports.methods import paragraph_text
from reports.population import PopulationReport
from reports.tables import csv_frame, csv_headers, display_table, herds_frame

# Streams (figures, fonts, pages) go into PDFs as compressed binary, not also ASCII85 text:
# reportlab encodes ASCII85 in pure Python, a quarter of a second for the report's figures,
# and the text form is a quarter larger. Every PDF reader takes binary streams.
rl_config.useA85 = 0

# (name, heading, chart): headings are marked for the catalogue, translated when shown.
SECTIONS: tuple[tuple[str, str, str | None], ...] = (
    ("summary", N_("Minimum counts by population and area, each from one survey"), "counts"),
    ("surveys", N_("Each survey's own minimum count"), None),
    ("estimates", N_("Population estimates from strip transects (not minimum counts)"), None),
    ("trend", N_("Trend across years"), "trend"),
    ("composition", N_("Sex and age composition"), "composition"),
    ("effort", N_("Survey effort and counts per unit of effort"), None),
)


def key_figures(report: PopulationReport, t: Translator) -> list[tuple[str, str]]:
    """The headline numbers, labelled so that nobody mistakes sightings for herds."""
    total = report.summary.iloc[-1]
    return [
        (t.gettext("Sightings (raw)"), t.format_number(int(total["sightings"]))),
        (
            t.gettext("De-duplicated herds in the counting surveys"),
            t.format_number(int(total["herds"])),
        ),
        (
            t.gettext("Minimum count (animals, one survey per population)"),
            t.format_number(int(total["minimum_count"])),
        ),
        (
            t.gettext("Sighting total (raw, overcounts)"),
            t.format_number(int(total["sighting_total"])),
        ),
    ]


def synthetic_warning(report: PopulationReport, t: Translator) -> str | None:
    if "synthetic" in report.herds and bool(report.herds["synthetic"].any()):
        n = int(report.herds["synthetic"].sum())
        return t.ngettext(
            "{n} of the period's herds (all surveys) includes SYNTHETIC records (demo or "
            "benchmark data, flag 'synthetic'): not real survey results.",
            "{n} of the period's herds (all surveys) include SYNTHETIC records (demo or "
            "benchmark data, flag 'synthetic'): not real survey results.",
            n,
        ).format(n=t.format_number(n))
    return None


def subtitle(report: PopulationReport, t: Translator) -> str:
    """What period, compared with which, made when and by what; and what was counted."""
    return t.gettext(
        "Every {every}: {period}, compared with {previous}. Generated {generated} UTC by "
        "{provenance}."
    ).format(
        every=labels.every_word(report.period.every, t),
        period=words.period_label(report.period).render(t),
        previous=words.period_label(report.previous).render(t),
        generated=t.format_datetime(report.generated_at),
        provenance=labels.provenance(report, t),
    )


def methods(report: PopulationReport, t: Translator) -> list[str]:
    """The methods note's paragraphs in t's language."""
    return [paragraph_text(p, t) for p in report.methods]


# ---------------------------------------------------------------------------------- HTML
@lru_cache(maxsize=1)
def _templates() -> Environment:
    """reports/templates, parsed once per process; autoescape on (titles and notes are data).
    The language is passed per render (domain.i18n.render_in), never set on the Environment."""
    env: Environment = i18n_environment(
        loader=PackageLoader("reports", "templates"), autoescape=True, undefined=StrictUndefined
    )
    return env


def sections(report: PopulationReport) -> list[tuple[str, str, str | None]]:
    """The report's sections; the strip-transect estimates only where a survey has them."""
    return [s for s in SECTIONS if s[0] != "estimates" or len(report.estimates)]


def to_html(
    report: PopulationReport,
    images: dict[str, bytes] | None = None,
    lang: str = DEFAULT_LANGUAGE,
) -> str:
    """One self-contained HTML page in `lang`: tables, charts and map inline (no external
    files)."""
    t = translator_of(lang)
    images = images or render_charts(report, lang)
    template = _templates().get_template("report.html")
    return render_in(
        template,
        t,
        r=report,
        title=labels.title(report, t),
        subtitle=subtitle(report, t),
        keys=key_figures(report, t),
        warning=synthetic_warning(report, t),
        sections=[(n, t.gettext(h), c) for n, h, c in sections(report)],
        tables={name: display_table(report, name, lang) for name, _, _ in sections(report)},
        images={k: base64.b64encode(v).decode() for k, v in images.items()},
        methods=methods(report, t),
    )


# ----------------------------------------------------------------------------------- PDF
def to_pdf(
    report: PopulationReport,
    images: dict[str, bytes] | None = None,
    lang: str = DEFAULT_LANGUAGE,
) -> bytes:
    """The same report as a PDF (A4) in `lang`: key figures, tables, charts, map, methods.

    Every text is set in DejaVu Sans, embedded (a subset): it covers Cyrillic, so the PDF
    reads the same on a machine without Russian fonts."""
    t = translator_of(lang)
    images = images or render_charts(report, lang)
    styles = _styles()
    title = labels.title(report, t)
    story: list[object] = [
        Paragraph(escape(title), styles["Title"]),
        Paragraph(escape(subtitle(report, t) + " " + _counted(t)), styles["Normal"]),
    ]
    warning = synthetic_warning(report, t)
    if warning:
        story.append(Paragraph(escape(warning), styles["warn"]))
    story += [Spacer(1, 3 * mm), _key_table(report, t, styles), Spacer(1, 3 * mm)]
    for name, heading, chart in sections(report):
        head: list[object] = [Paragraph(escape(t.gettext(heading)), styles["Heading2"])]
        if chart:
            head.append(_image(images[chart], 170 * mm))
        story.append(KeepTogether(head))  # a heading never sits alone at a page foot
        story.append(_table(*display_table(report, name, lang), styles))
    story += [
        PageBreak(),
        Paragraph(escape(t.gettext("Map of the period")), styles["Heading2"]),
        _image(images["map"], 175 * mm),
    ]
    story.append(Paragraph(escape(t.gettext("Methods")), styles["Heading2"]))
    story += [Paragraph(escape(p), styles["small"]) for p in methods(report, t)]
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=title,
        author="Herdwatch",
        lang=t.lang,
        initialFontName=_font(),  # not Helvetica: a font the PDF would name but not embed
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
    )
    doc.footer_text = t.gettext("Herdwatch population report · page {page} · {provenance}")
    doc.title_provenance = labels.provenance(report, t)
    doc.build(story, onFirstPage=_footer, onLaterPages=_footer)
    return buffer.getvalue()


def _counted(t: Translator) -> str:
    return t.gettext(
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
    styles["key"] = ParagraphStyle("key", parent=sheet["Normal"], fontSize=7, leading=8.5)
    styles["warn"] = ParagraphStyle(
        "warn", parent=sheet["Normal"], backColor=colors.HexColor("#fff3cd")
    )
    return styles


def _key_table(report: PopulationReport, t: Translator, styles: dict[str, ParagraphStyle]) -> Table:
    names, values = zip(*key_figures(report, t), strict=True)
    # Paragraphs wrap: a Russian label is longer than the English one.
    head = [Paragraph(escape(n), styles["key"]) for n in names]
    table = Table([head, list(values)], colWidths=[45 * mm] * len(head), hAlign="LEFT")
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


TABLE_WIDTH = 180 * mm  # A4 less the margins
PADDING = 2.5  # points each side of a cell's text (reportlab's default is 6)


def _table(headers: list[str], rows: list[list[str]], styles: dict[str, ParagraphStyle]) -> Table:
    cell = styles["cell"]
    data = [[Paragraph(f"<b>{escape(h)}</b>", cell) for h in headers]]
    data += [[Paragraph(escape(c), cell) for c in row] for row in rows]
    widths = _column_widths(headers, rows, cell.fontSize)
    table = Table(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                ("FONTNAME", (0, 0), (-1, -1), _font()),  # a cell's default is Helvetica
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f5")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), PADDING),
                ("RIGHTPADDING", (0, 0), (-1, -1), PADDING),
            ]
        )
    )
    return table


_BREAKS = re.compile(r"[ \t\n]+")  # where a line may break: not the no-break space in "1 234"
_CODE = re.compile(r"[A-Za-z0-9:_.\-]{13,}")  # a long id ("demo-taimyr-2024-07-aerial")
CODE_WIDTH = TABLE_WIDTH / 10  # a long id may wrap inside itself beyond this width


def _column_widths(headers: list[str], rows: list[list[str]], size: float) -> list[float]:
    """Column widths that break lines between words, not inside them, where the page allows.

    Left to itself reportlab gives every column the same share, and a long Russian header
    ("Наблюдения") or a grouped number ("+2 100,0 %") was cut mid-word. Each column gets
    at least its longest word (a long id at least CODE_WIDTH: an id may wrap anywhere), and
    the rest of the width goes to the columns with the most text on a line."""
    regular, bold = _font(), "DejaVuSans-Bold"

    def width(words: str, font: str) -> float:
        return pdfmetrics.stringWidth(words, font, size) + 2 * PADDING + 1

    def least_width(word: str, font: str) -> float:
        full = width(word, font)
        return min(full, CODE_WIDTH) if _CODE.fullmatch(word) else full

    least, most = [], []
    for i, header in enumerate(headers):
        texts = [(header, bold)] + [(row[i], regular) for row in rows]
        least.append(max(least_width(w, f) for words, f in texts for w in _BREAKS.split(words)))
        most.append(max([least[-1]] + [width(words, f) for words, f in texts[1:]]))
    if sum(most) <= TABLE_WIDTH:
        return most
    spare = TABLE_WIDTH - sum(least)
    if spare <= 0:
        return [w * TABLE_WIDTH / sum(least) for w in least]
    wanted = [m - w for m, w in zip(most, least, strict=True)]
    return [w + spare * x / sum(wanted) for w, x in zip(least, wanted, strict=True)]


def _image(png: bytes, width: float) -> Image:
    w, h = ImageReader(io.BytesIO(png)).getSize()
    return Image(io.BytesIO(png), width=width, height=width * h / w)


def _footer(canvas: object, doc: object) -> None:
    canvas.saveState()  # type: ignore[attr-defined]
    canvas.setFont(_font(), 7)  # type: ignore[attr-defined]
    line = doc.footer_text.format(page=doc.page, provenance=doc.title_provenance)  # type: ignore[attr-defined]
    canvas.drawString(15 * mm, 8 * mm, line)  # type: ignore[attr-defined]
    canvas.restoreState()  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------ CSV, GPKG
def to_csv(report: PopulationReport, table: str = "summary", lang: str = DEFAULT_LANGUAGE) -> str:
    """One table as CSV text (the period in the first columns). The header row is in
    `lang` (the machine column names in English); the cells are the same in every language:
    numbers as programs read them (a decimal point, no grouping), ids and ISO 8601 dates.

    Text cells that a spreadsheet would read as a formula are neutralised (domain/csv_cells).
    """
    from reports.csv_text import safe_csv

    frame = csv_frame(report, table)
    frame.columns = csv_headers(list(frame.columns), lang)
    return safe_csv(frame)  # headers made safe there too


def to_gpkg(report: PopulationReport, path: Path) -> None:
    """The period's de-duplicated herds as points (EPSG:4326) in a GeoPackage layer "herds"."""
    herds = herds_frame(report)
    for column in ("first_seen", "last_seen"):  # typed datetimes in the layer, not text
        herds[column] = pd.to_datetime(herds[column], utc=True)
    frame = gpd.GeoDataFrame(
        herds, geometry=gpd.points_from_xy(herds["lon"], herds["lat"]), crs="EPSG:4326"
    )
    frame.to_file(path, layer="herds", driver="GPKG", engine="pyogrio")
