"""The herd-sighting XLSForm for ODK Collect and KoboCollect, and its conversion to an XForm.

The form is written here as its sheets (rows of XLSForm columns), not as a spreadsheet
file: its limits come from domain/wire.py and data/uploads.py (what the server accepts),
its population choices from the configured populations, so the tablet refuses what the
server would refuse, in the observer's language, before the form is sent. `herdwatch form`
writes it out as `forms/herd_sighting.xlsx` (and the reviewable `forms/herd_sighting.md`,
checked in) for an administrator who wants to start their own from it; the setting
HERDWATCH_OPENROSA_FORM points the server at such a file instead.

pyxform is imported only to convert (it brings several hundred modules); a converted form
is kept per process, keyed by what it was made from.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from domain import wire
from domain.errors import InvalidInput
from domain.i18n import POPULATION_NAMES, Message, translator
from domain.records import COMPOSITION_FIELDS

FORM_ID = "herd_sighting"
EN, RU = "English (en)", "Russian (ru)"
# The long side of a photo Collect keeps: about 5 megapixels, enough to count a herd on it,
# yet a few hundred kilobytes to send over a satellite link.
PHOTO_MAX_PIXELS = 2560

Sheet = list[dict[str, str]]
Workbook = dict[str, Sheet]

# Russian names of the populations: the catalogue's (domain/locales, terms in
# docs/glossary.md), so the form, the viewer and the reports name them alike. English
# ones: maps/style.py POPULATION_LABELS.
POPULATION_LABELS_RU: dict[str, str] = {
    p: translator("ru").population_name(p) for p in POPULATION_NAMES
}
# The other Russian labels use the glossary's terms too (tests/test_glossary.py checks).
COUNT_METHOD_LABELS: dict[str, tuple[str, str]] = {
    "visual": ("Counted by eye", "Подсчёт на глаз"),
    "photo": ("Counted on photos", "Подсчёт по фотографиям"),
    "estimate": ("Estimate", "Оценка"),
}
_CLASS_LABELS: dict[str, tuple[str, str]] = {
    "adult_males": ("Adult males (bulls)", "Взрослые самцы (быки)"),
    "adult_females": ("Adult females (cows)", "Взрослые самки (важенки)"),
    "yearlings": ("Yearlings", "Годовики"),
    "calves": ("Calves of the year", "Телята этого года"),
    "unclassified": ("Counted, not classified", "Посчитаны без разделения"),
}
# Observation fields a form may carry, by the name of its question (any group).
MAPPED_FIELDS: tuple[str, ...] = (
    tuple(f.name for f in wire.DEVICE_PROPERTIES if f.kind != "composition")
    + COMPOSITION_FIELDS
    + ("location",)
)
REQUIRED_FIELDS: tuple[str, ...] = ("observed_at", "location", "count")


@dataclass(frozen=True, slots=True)
class FormSpec:
    """What the built-in form is made from: the server's populations, labels and clock."""

    populations: tuple[str, ...]
    population_labels_en: Mapping[str, str]
    max_future_minutes: float


@dataclass(frozen=True, slots=True)
class XForm:
    """A converted form as OpenRosa serves it: the XML bytes and what formList says of it."""

    form_id: str
    version: str
    title: str
    xml: bytes
    fields: Mapping[str, str]  # question name → XLSForm type, e.g. "count": "integer"
    media: tuple[Path, ...] = ()
    population_choices: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default=())

    @property
    def md5(self) -> str:
        return hashlib.md5(self.xml, usedforsecurity=False).hexdigest()

    @property
    def image_fields(self) -> tuple[str, ...]:
        return tuple(name for name, kind in self.fields.items() if kind in ("image", "photo"))


class FormRefused(InvalidInput):
    """An XLSForm the server cannot take: it does not convert, or lacks a needed field."""

    code = "form_refused"


def _row(kind: str, name: str, en: str = "", ru: str = "", **more: str) -> dict[str, str]:
    row = {"type": kind, "name": name}
    if en:
        row |= {f"label::{EN}": en, f"label::{RU}": ru}
    return row | {k: v for k, v in more.items() if v}


def _limit(name: str) -> wire.WireField:
    return next(f for f in wire.PROPERTIES if f.name == name)


def _messages(en: str, ru: str) -> dict[str, str]:
    return {f"constraint_message::{EN}": en, f"constraint_message::{RU}": ru}


def _text_limit(name: str) -> dict[str, str]:
    longest = _limit(name).max_length
    return {
        "constraint": f"string-length(.) <= {longest}",
        **_messages(f"At most {longest} characters", f"Не больше {longest} знаков"),
    }


def _classified() -> str:
    """The XPath sum of the composition classes (an unanswered class counts as 0)."""
    return " + ".join(f"coalesce(${{{name}}}, 0)" for name in COMPOSITION_FIELDS)


def survey_sheet(spec: FormSpec) -> Sheet:
    """The questions: names are the observation's fields, limits the server's."""
    count = _limit("count")
    low, high = int(count.ge or 0), int(count.le or 0)
    ahead_days = spec.max_future_minutes / 1440
    rows = [
        _row(
            "dateTime",
            "observed_at",
            "When was the herd seen?",
            "Когда видели стадо?",
            required="yes",
            default="now()",
            constraint=f"decimal-date-time(.) <= decimal-date-time(now()) + {ahead_days:.6f}",
            **_messages(
                "This time is in the future: check the tablet's clock",
                "Это время ещё не наступило: проверьте часы планшета",
            ),
        ),
        _row("geopoint", "location", "Where was the herd?", "Где было стадо?", required="yes"),
        _row(
            "select_one population",
            "population",
            "Population",
            "Популяция",
            required="yes",
            default="unknown",
        ),
        _row(
            "select_one count_method",
            "count_method",
            "How was it counted?",
            "Как считали?",
            required="yes",
            default="visual",
        ),
        _row(
            "integer",
            "count",
            "Animals in the herd",
            "Животных в стаде",
            required="yes",
            constraint=f". >= {low} and . <= {high} and ${{classified}} <= .",
            **_messages(
                f"From {low} to {high:,}, and no fewer than the classified animals",
                f"От {low} до {high} и не меньше, чем разделено по группам",
            ),
        ),
    ]
    lowest = int(wire.COMPOSITION_CLASS.ge or 0)
    for name in COMPOSITION_FIELDS:
        en, ru = _CLASS_LABELS[name]
        rows.append(
            _row(
                "integer",
                name,
                en,
                ru,
                constraint=f". >= {lowest} and ${{classified}} <= ${{count}}",
                **_messages(
                    "The classes add up to more than the herd's count",
                    "Сумма по группам больше числа животных в стаде",
                ),
            )
        )
    rows += [
        _row("calculate", "classified", calculation=_classified()),
        _row(
            "text",
            "survey_id",
            "Survey id (if any)",
            "Номер учёта (если есть)",
            **_text_limit("survey_id"),
        ),
        _row("text", "behaviour", "Behaviour", "Поведение", **_text_limit("behaviour")),
        _row("text", "notes", "Notes", "Заметки", appearance="multiline", **_text_limit("notes")),
        _row(
            "image",
            "photo",
            "Photo of the herd",
            "Фото стада",
            parameters=f"max-pixels={PHOTO_MAX_PIXELS}",
        ),
        _row("deviceid", "device_id"),
    ]
    return rows


def choices_sheet(spec: FormSpec) -> Sheet:
    """Populations as configured (an added id is its own label), then the count methods."""
    rows = [
        {
            "list_name": "population",
            "name": p,
            f"label::{EN}": spec.population_labels_en.get(p, p),
            f"label::{RU}": POPULATION_LABELS_RU.get(p, p),
        }
        for p in spec.populations
    ]
    rows += [
        {"list_name": "count_method", "name": m, f"label::{EN}": en, f"label::{RU}": ru}
        for m, (en, ru) in COUNT_METHOD_LABELS.items()
    ]
    return rows


def herd_sighting_workbook(spec: FormSpec) -> Workbook:
    """The built-in form's sheets; its version changes whenever its content does."""
    sheets: Workbook = {"survey": survey_sheet(spec), "choices": choices_sheet(spec)}
    digest = hashlib.sha256(json.dumps(sheets, sort_keys=True).encode()).hexdigest()
    settings = {
        "form_id": FORM_ID,
        "form_title": "Herd sighting / Встреча со стадом",
        "name": FORM_ID,
        "version": digest[:12],
        "default_language": EN,
        "instance_name": "concat(${count}, ' · ', ${population})",
    }
    return {**sheets, "settings": [settings]}


_CACHE: dict[str, XForm] = {}
_CACHE_LOCK = threading.Lock()


def builtin_xform(spec: FormSpec) -> XForm:
    """The built-in form, converted once per process for each spec."""
    workbook = herd_sighting_workbook(spec)
    key = "builtin:" + json.dumps(workbook, sort_keys=True)
    return _cached(key, lambda: convert_workbook(workbook))


def file_xform(path: Path, populations: Sequence[str]) -> XForm:
    """An administrator's XLSForm (.xlsx, .xls, .csv or .md), converted once per content.

    Media files the form uses sit in `<stem>-media/` beside it, as ODK's tools keep them.
    """
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise FormRefused(
            Message("the form {path} cannot be read: {exc}", path=str(path), exc=str(exc)),
            field="openrosa_form",
        ) from exc
    media_dir = path.with_name(f"{path.stem}-media")
    media = (
        tuple(sorted(p for p in media_dir.iterdir() if p.is_file())) if media_dir.is_dir() else ()
    )
    key = f"file:{hashlib.sha256(content).hexdigest()}:{','.join(populations)}:{media}"
    suffix = path.suffix.lower()  # pyxform wants the dot: ".xlsx"
    return _cached(key, lambda: _checked(convert_workbook(content, suffix, media), populations))


def _cached(key: str, make: Any) -> XForm:
    with _CACHE_LOCK:  # workers' threads ask at once at start: convert once
        if key not in _CACHE:
            _CACHE[key] = make()
        return _CACHE[key]


def convert_workbook(
    source: Workbook | bytes, file_type: str | None = None, media: tuple[Path, ...] = ()
) -> XForm:
    """Convert with pyxform; FormRefused names what is wrong with the form."""
    from pyxform.errors import PyXFormError
    from pyxform.xls2xform import convert

    warnings: list[str] = []
    try:
        result = convert(source, warnings=warnings, file_type=file_type)
    except (PyXFormError, ValueError, KeyError) as exc:
        raise FormRefused(
            Message("the XLSForm does not convert: {exc}", exc=str(exc)), field="openrosa_form"
        ) from exc
    data = result._pyxform
    return XForm(
        form_id=str(data.get("id_string") or FORM_ID),
        version=str(data.get("version") or ""),
        title=str(data.get("title") or data.get("id_string") or ""),
        xml=result.xform.encode(),
        fields=dict(_questions(data.get("children", []))),
        media=media,
        population_choices=tuple(
            str(c["name"]) for c in data.get("choices", {}).get("population", [])
        ),
        warnings=tuple(warnings),
    )


def _questions(children: Iterable[Mapping[str, Any]]) -> Iterable[tuple[str, str]]:
    """(name, type) of every question, groups and repeats opened."""
    for child in children:
        if child.get("children") and child.get("type") in ("group", "repeat"):
            yield from _questions(child["children"])
        elif child.get("name") and child.get("type"):
            yield str(child["name"]), str(child["type"])


def _checked(form: XForm, populations: Sequence[str]) -> XForm:
    """An administrator's form must carry the fields an observation cannot do without."""
    missing = [name for name in REQUIRED_FIELDS if name not in form.fields]
    if missing:
        raise FormRefused(
            Message(
                "the form {form_id} has no question named {missing}: questions map to "
                "observation fields by name",
                form_id=repr(form.form_id),
                missing=str(", ".join(missing)),
            ),
            field="openrosa_form",
        )
    if form.fields["location"] != "geopoint":
        raise FormRefused(
            Message("the form's location question must be a geopoint"), field="location"
        )
    unknown = sorted(set(form.population_choices) - set(populations))
    if unknown:
        raise FormRefused(
            Message(
                "the form offers populations {unknown} the server does not know: add "
                "them to HERDWATCH_EXTRA_POPULATIONS",
                unknown=str(", ".join(unknown)),
            ),
            field="population",
        )
    return form


def markdown(workbook: Workbook) -> str:
    """The sheets as pyxform's markdown tables: a reviewable twin of the .xlsx."""
    out: list[str] = []
    for sheet, rows in workbook.items():
        columns = list(dict.fromkeys(k for row in rows for k in row))
        out.append(f"| {sheet} | " + " | ".join(columns) + " |")
        out += ["| | " + " | ".join(_cell(row.get(c, "")) for c in columns) + " |" for row in rows]
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def write_xlsx(workbook: Workbook, path: Path) -> None:
    """The sheets as an .xlsx file (openpyxl comes with pyxform)."""
    from openpyxl import Workbook as Book

    book = Book()
    book.remove(book.active)
    for sheet, rows in workbook.items():
        page = book.create_sheet(sheet)
        columns = list(dict.fromkeys(k for row in rows for k in row))
        page.append(columns)
        for row in rows:
            page.append([row.get(c, "") for c in columns])
    book.save(path)
