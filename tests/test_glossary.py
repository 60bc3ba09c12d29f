"""The glossary's Russian terms are the ones used: in the catalogue, the tablet app, the ODK form.

docs/glossary.md is written by hand; its table is read here. Wherever a label whose English
is a glossary term is translated, its Russian must be the glossary's term (case aside), so
the same herd is «стадо» and the same survey «учёт» on the tablet, in Collect, on the map
and in the report.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from babel.messages.pofile import read_po

from data.xlsform import FormSpec, choices_sheet, survey_sheet
from domain.i18n import LOCALES_DIR
from domain.records import POPULATIONS
from field_api.routes.field import catalogue
from maps.style import POPULATION_LABELS

ROOT = Path(__file__).resolve().parents[1]
Pair = tuple[str, str, str]  # (where, English, Russian)


def _norm(text: str) -> str:
    return " ".join(text.strip().rstrip(":…?").split()).lower()


def glossary() -> dict[str, str]:
    """English term → Russian term, from the table of docs/glossary.md."""
    terms: dict[str, str] = {}
    for line in (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) < 3 or cells[0] in ("English", "---"):
            continue
        english, russian = cells[0].split(";"), cells[1].split(";")
        assert len(english) == len(russian), line
        terms.update({_norm(e): _norm(r) for e, r in zip(english, russian, strict=True)})
    return terms


def catalogue_pairs() -> Iterator[Pair]:
    for po in sorted((ROOT / "domain" / "locales").glob("ru/LC_MESSAGES/herdwatch.po")):
        with po.open("rb") as fp:
            for entry in read_po(fp):
                if entry.id and isinstance(entry.id, str) and entry.context is None:
                    yield "catalogue", entry.id, str(entry.string)


def field_app_pairs() -> Iterator[Pair]:
    folder = ROOT / "field_api" / "static" / "field"
    english = json.loads((folder / "messages-en.json").read_text(encoding="utf-8"))
    russian = json.loads(catalogue("ru", LOCALES_DIR))  # as /field/app/messages-ru.json
    for key, text in english.items():
        yield f"field app {key}", text, russian[key]


def form_pairs() -> Iterator[Pair]:
    spec = FormSpec(POPULATIONS, POPULATION_LABELS, 10.0)
    for row in [*survey_sheet(spec), *choices_sheet(spec)]:
        if "label::English (en)" in row:
            where = f"form {row.get('list_name', 'survey')} {row['name']}"
            yield where, row["label::English (en)"], row["label::Russian (ru)"]


def checked(pairs: Iterator[Pair], terms: dict[str, str]) -> tuple[list[str], list[str]]:
    """(the English terms found, the places whose Russian differs from the glossary)."""
    found, wrong = [], []
    for where, english, russian in pairs:
        term = terms.get(_norm(english))
        if term is None:
            continue
        found.append(_norm(english))
        if _norm(russian) != term:
            wrong.append(f"{where}: {english!r} is {russian!r}, the glossary says {term!r}")
    return found, wrong


def test_the_glossary_names_the_terms_the_issue_asks_for():
    terms = glossary()
    assert terms["herd"] == "стадо" and terms["survey effort"] == "учётное усилие"
    assert terms["calves per 100 cows"] == "телят на 100 важенок"
    assert terms["minimum count"] == "минимальная численность"
    names = ("лено-оленёкская", "яно-индигирская", "сундрунская", "новосибирская островная")
    assert set(names) | {"лесной (таёжный) северный олень", "таймырская"} <= set(terms.values())


def test_the_catalogue_uses_the_glossary_terms():
    terms = glossary()
    found, wrong = checked(catalogue_pairs(), terms)
    assert wrong == []
    every_population = {_norm(POPULATION_LABELS[p]) for p in POPULATIONS}
    seasons = {"calving", "post-calving", "rut", "winter"}
    assert every_population | seasons <= set(found)  # not a test that cannot fail


def test_the_field_app_uses_the_glossary_terms():
    found, wrong = checked(field_app_pairs(), glossary())
    assert wrong == []
    assert {"population", "survey", "count method", "calves", "yearlings"} <= set(found)


def test_the_odk_form_uses_the_glossary_terms():
    found, wrong = checked(form_pairs(), glossary())
    assert wrong == []
    every_population = {_norm(POPULATION_LABELS[p]) for p in POPULATIONS}
    assert every_population | {"adult males (bulls)", "yearlings"} <= set(found)


def test_a_wrong_term_is_caught():
    terms = glossary()
    pairs = iter([("somewhere", "Herd", "Табун"), ("elsewhere", "Herd", "Стадо")])
    assert checked(pairs, terms) == (
        ["herd", "herd"],
        ["somewhere: 'Herd' is 'Табун', the glossary says 'стадо'"],
    )
