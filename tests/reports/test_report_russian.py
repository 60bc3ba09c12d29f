"""`herdwatch report --lang ru` on the (synthetic) demo data: the PDF, HTML and CSV in Russian.

What a Russian reader checks: the PDF's text (pdftotext) is Russian, with no message of the
catalogue left in English; numbers and dates are in the Russian format; the font that draws
the Cyrillic is embedded (pdffonts) and the title is drawn (pdftoppm); the CSV headers are
Russian and the cells still parse as numbers. Pages are written to test-artifacts/ to look at.
"""

from __future__ import annotations

import csv
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from data.sqlite import SQLiteStore
from domain.i18n import translator
from field_api.cli import main
from reports.population import build_population_report
from tests.reports.sample import demo_store
from tests.test_catalogue import extracted

STEM = "herdwatch-year-2024"
# Latin words a Russian report keeps: proper names, units, codes, citations and the
# formulas' symbols (the methods note names the GeoPackage's ASCII fields on purpose).
ALLOWED = {
    *("Herdwatch", "UTC", "EPSG", "OpenStreetMap", "geoBoundaries", "ODbL", "CSV", "API"),
    *("ISO", "GeoPackage", "ASCII", "herds", "population", "size", "first_seen"),
    *("synthetic", "Jolly", "II", "Cochran", "log", "exp", "se", "s_y", "s_yz", "s_z", "a_"),
}


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The demo data's 2024 report written by the command line in Russian and in English."""
    root = tmp_path_factory.mktemp("russian")
    db = root / "demo.db"
    demo_store(db).close()
    folders = {}
    for lang in ("ru", "en"):
        out = root / lang
        args = ["--every", "year", "--period", "2024", "--out", str(out), "--lang", lang]
        assert main(["--database-url", f"sqlite:///{db}", "report", *args]) == 0
        folders[lang] = out / "year" / "2024"
    return folders


def poppler(*args: str | Path) -> str:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, check=True).stdout


def english_phrases() -> set[str]:
    """Every catalogue message's literal text between its placeholders, where it has two
    English words or more (a word alone, "Survey", is latin_words's to find)."""
    phrases = set()
    for ids in (used.ids for used in extracted().values()):
        for msgid in ids:
            for piece in re.split(r"\{[^}]*\}|%\(\w+\)s", msgid):
                piece = " ".join(piece.split()).strip(" .,:;()–-")
                words = [w for w in piece.split() if re.search(r"[A-Za-z]{2,}", w)]
                if len(words) >= 2:  # not a machine name ("first_seen") on its own
                    phrases.add(piece)
    return phrases


def latin_words(text: str, codes: set[str]) -> set[str]:
    """Latin words of a text that are neither ALLOWED nor part of a survey id (a code the
    PDF may wrap across lines: 'demo-taimyr-2024-07-aer' and 'ial')."""
    found = set(re.findall(r"[A-Za-z][A-Za-z_]*", text))
    return {w for w in found if w not in ALLOWED and len(w) > 1 and not any(w in c for c in codes)}


def survey_ids(folder: Path) -> set[str]:
    with (folder / f"{STEM}-surveys.csv").open(encoding="utf-8") as fp:
        return {row["учёт"] for row in csv.DictReader(fp)}


def flat(text: str) -> str:
    """One line, one space between words (no-break spaces kept: they are the grouping)."""
    return re.sub(r"[ \t\r\n\f]+", " ", text)


def test_the_pdf_text_is_russian(written: dict[str, Path]):
    pdf = written["ru"] / f"{STEM}.pdf"
    text = poppler("pdftotext", "-layout", pdf, "-")
    assert "Отчёт о численности диких северных оленей" in flat(text)
    for heading in ("Половозрастной состав", "Многолетний тренд", "Методы", "Карта за период"):
        assert heading in flat(text)
    assert latin_words(text, survey_ids(written["ru"])) == set()
    left = {p for p in english_phrases() if p in flat(text)}
    assert left == set()
    english = poppler("pdftotext", "-layout", written["en"] / f"{STEM}.pdf", "-")
    assert "Wild reindeer population report: 2024" in english  # the English one unchanged
    assert {p for p in english_phrases() if p in flat(english)}  # the check can fail


def test_the_pdf_writes_numbers_and_dates_in_the_russian_format(written: dict[str, Path]):
    text = flat(poppler("pdftotext", "-layout", written["ru"] / f"{STEM}.pdf", "-"))
    with (written["en"] / f"{STEM}-summary.csv").open(encoding="utf-8") as fp:
        total = [r for r in csv.DictReader(fp) if r["population"] == "all populations"][0]
    minimum = int(total["minimum_count"])
    assert minimum >= 1000  # so that it is grouped
    grouped = translator("ru").format_number(minimum)
    assert "\xa0" in grouped  # Babel groups with a no-break space; pdftotext gives a space
    assert grouped.replace("\xa0", " ") in text  # "16 706"
    assert f"{minimum:,}" not in text
    assert re.search(r"\d,\d", text)  # decimal commas ("+8,4 %")
    assert re.search(r"\b\d{2}\.\d{2}\.2024\b", text)  # dates dd.mm.yyyy
    assert not re.search(r"\b2024-\d{2}-\d{2}\b", text)


def test_the_pdf_embeds_its_font_and_draws_the_cyrillic_title(
    written: dict[str, Path], artifacts_dir: Path
):
    pdf = written["ru"] / f"{STEM}.pdf"
    fonts = poppler("pdffonts", pdf).splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts)  # every font embedded
    assert {line.split()[0].split("+")[-1] for line in fonts} == {"DejaVuSans", "DejaVuSans-Bold"}
    prefix = artifacts_dir / "report-ru-2024-page"
    poppler("pdftoppm", "-r", "60", "-png", pdf, prefix)
    first = np.asarray(Image.open(f"{prefix}-1.png").convert("L"))
    title = first[: first.shape[0] // 12]  # the title's two lines at the top of page 1
    inked = title < 128
    assert inked.mean() > 0.02  # glyphs drawn, not a blank band
    # Many separate glyphs across the title's width, not one smudge or a single box.
    columns = inked.any(axis=0).astype(int)
    assert np.count_nonzero(np.diff(columns) == 1) > 25


def test_every_chart_text_is_russian(written: dict[str, Path]):
    """Titles, axis labels, ticks, legends, the map's size key and scale bar (the charts are
    pictures in the PDF: their texts are read from the figures)."""
    from matplotlib.legend import Legend
    from matplotlib.text import Text

    from reports.charts import composition_figure, counts_figure, map_figure, trend_figure

    store = SQLiteStore(str(written["ru"].parents[2] / "demo.db"))
    report = build_population_report(store, "year", "2024")
    store.close()
    t = translator("ru")
    texts = []
    for draw in (counts_figure, trend_figure, composition_figure, map_figure):
        figure = draw(report, t)
        texts += [a.get_text() for a in figure.findobj(Text)]
        titles = {a.get_title().get_text() for a in figure.findobj(Legend)}
        assert titles <= {"", "размер стада"}
    text = flat(" ".join(texts))
    assert latin_words(text, set()) == set()
    assert {p for p in english_phrases() if p in text} == set()
    assert "Численность по популяциям, 2024" in text
    assert re.search(r"\b\d[\d\xa0]* км\b", text)  # the scale bar
    assert "1 000 особей" in text.replace("\xa0", " ")  # the size key, grouped


class _Visible(HTMLParser):
    """The text a reader sees: element text and image descriptions, not styles or data."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._style = tag == "style"
        self.parts += [value or "" for name, value in attrs if name == "alt"]

    def handle_endtag(self, tag: str) -> None:
        self._style = False

    def handle_data(self, data: str) -> None:
        if not self._style:
            self.parts.append(data)


def test_the_html_report_has_no_untranslated_message(written: dict[str, Path]):
    html = (written["ru"] / f"{STEM}.html").read_text(encoding="utf-8")
    assert '<html lang="ru">' in html
    visible = _Visible()
    visible.feed(html)
    text = flat(" ".join(visible.parts))
    codes = survey_ids(written["ru"])
    for code in sorted(codes, key=len, reverse=True):  # not wrapped in HTML: whole ids
        text = text.replace(code, " ")
    assert latin_words(text, set()) == set()
    assert {p for p in english_phrases() if p in text} == set()
    assert "Лено-Оленёкская" in text and "Республика Саха (Якутия)" in text


def test_csv_headers_are_russian_and_the_cells_stay_machine_readable(written: dict[str, Path]):
    for path in sorted(written["ru"].glob("*.csv")):
        russian = list(csv.reader(path.open(encoding="utf-8")))
        english = list(csv.reader((written["en"] / path.name).open(encoding="utf-8")))
        assert all(re.search("[а-яё]", h) for h in russian[0]), path.name
        assert len(set(russian[0])) == len(russian[0])  # no two columns called the same
        assert russian[1:] == english[1:], path.name  # the same cells in both languages
    summary = list(csv.DictReader((written["ru"] / f"{STEM}-summary.csv").open(encoding="utf-8")))
    for row in summary:
        float(row["минимальная численность"])  # "16706", not "16 706"
        float(row["сумма по встречам"])
        if row["изменение (%)"]:
            assert "," not in row["изменение (%)"]
            float(row["изменение (%)"])


def test_file_names_are_the_same_in_both_languages(written: dict[str, Path]):
    names = sorted(p.name for p in written["ru"].iterdir())
    assert names == sorted(p.name for p in written["en"].iterdir())
    assert all(name.isascii() for name in names)


def test_herdwatch_lang_sets_the_report_language(
    written: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    db = written["ru"].parents[2] / "demo.db"
    monkeypatch.setenv("HERDWATCH_LANG", "ru")
    args = ["report", "--every", "year", "--period", "2024", "--format", "csv"]
    assert main(["--database-url", f"sqlite:///{db}", *args, "--out", str(tmp_path)]) == 0
    header = (tmp_path / "year" / "2024" / f"{STEM}-summary.csv").read_text(encoding="utf-8")
    assert header.startswith("периодичность,период,популяция")
