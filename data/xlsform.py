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

from domain import i18n, wire
from domain.errors import InvalidInput
from domain.i18n import DEFAULT_LANGUAGE, N_, Message, Translator
from domain.records import COMPOSITION_FIELDS

FORM_ID = "herd_sighting"
# The long side of a photo Collect keeps: about 5 megapixels, enough to count a herd on it,
# yet a few hundred kilobytes to send over a satellite link.
PHOTO_MAX_PIXELS = 2560

Sheet = list[dict[str, str]]
Workbook = dict[str, Sheet]
Text = str | Message  # a label written once, in English; each language's column translates it

# The labels use the glossary's terms (docs/glossary.md; tests/test_glossary.py checks).
# Population names: maps/style.py POPULATION_LABELS in English, the catalogue's otherwise.
COUNT_METHOD_LABELS: dict[str, str] = {
    "visual": N_("Counted by eye"),
    "photo": N_("Counted on photos"),
    "estimate": N_("Estimate"),
}
_CLASS_LABELS: dict[str, str] = {
    "adult_males": N_("Adult males (bulls)"),
    "adult_females": N_("Adult females (cows)"),
    "yearlings": N_("Yearlings"),
    "calves": N_("Calves of the year"),
    "unclassified": N_("Counted, not classified"),
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


def translators() -> tuple[Translator, ...]:
    """One per language of the catalogue, English first: a new .po is a new column.

    Read at each call (not at import), so the languages are domain.i18n's as they are now.
    """
    return tuple(i18n.translator(lang, i18n.LOCALES_DIR) for lang in i18n.LANGUAGES)


def language_column(t: Translator) -> str:
    """The language as an XLSForm column names it and Collect lists it: "Russian (ru)"."""
    known = str(t.locale) == t.lang.replace("-", "_")  # else CLDR lacks it: the code alone
    name = t.locale.get_display_name("en") if known else t.lang
    return f"{name} ({t.lang})"


def _translated(column: str, english: Text) -> dict[str, str]:
    """`column::<language>` for every language: the English, and its translations."""
    return {f"{column}::{language_column(t)}": _in(english, t) for t in translators()}


def _in(english: Text, t: Translator) -> str:
    text = i18n.text(english, t) if isinstance(english, Message) else t.gettext(english)
    # A grouped number's no-break space ("1 000 000" in Russian) comes back from an .xlsx
    # as a plain one: write it plain, so the checked-in .xlsx is the form the server serves.
    return text.replace("\xa0", " ")


def _row(kind: str, name: str, label: Text = "", **more: str) -> dict[str, str]:
    row = {"type": kind, "name": name}
    if label:
        row |= _translated("label", label)
    return row | {k: v for k, v in more.items() if v}


def _limit(name: str) -> wire.WireField:
    return next(f for f in wire.PROPERTIES if f.name == name)


def _messages(english: Text) -> dict[str, str]:
    return _translated("constraint_message", english)


def _text_limit(name: str) -> dict[str, str]:
    longest = str(_limit(name).max_length)  # a str: a length is not grouped ("4000")
    return {
        "constraint": f"string-length(.) <= {longest}",
        **_messages(Message("At most {longest} characters", longest=longest)),
    }


def _classified() -> str:
    """The XPath sum of the composition classes (an unanswered class counts as 0)."""
    return " + ".join(f"coalesce(${{{name}}}, 0)" for name in COMPOSITION_FIELDS)


def survey_sheet(spec: FormSpec) -> Sheet:
    """The questions: names are the observation's fields, limits the server's."""
    return [*_herd_rows(spec), *_class_rows(), *_other_rows()]


def _herd_rows(spec: FormSpec) -> Sheet:
    count = _limit("count")
    low, high = int(count.ge or 0), int(count.le or 0)
    ahead_days = spec.max_future_minutes / 1440
    future = N_("This time is in the future: check the tablet's clock")
    within = Message(
        "From {low} to {high}, and no fewer than the classified animals", low=str(low), high=high
    )
    return [
        _row(
            "dateTime",
            "observed_at",
            N_("When was the herd seen?"),
            required="yes",
            default="now()",
            constraint=f"decimal-date-time(.) <= decimal-date-time(now()) + {ahead_days:.6f}",
            **_messages(future),
        ),
        _row("geopoint", "location", N_("Where was the herd?"), required="yes"),
        _row(
            "select_one population",
            "population",
            N_("Population"),
            required="yes",
            default="unknown",
        ),
        _row(
            "select_one count_method",
            "count_method",
            N_("How was it counted?"),
            required="yes",
            default="visual",
        ),
        _row(
            "integer",
            "count",
            N_("Animals in the herd"),
            required="yes",
            constraint=f". >= {low} and . <= {high} and ${{classified}} <= .",
            **_messages(within),
        ),
    ]


def _class_rows() -> Sheet:
    lowest = int(wire.COMPOSITION_CLASS.ge or 0)
    too_many = N_("The classes add up to more than the herd's count")
    return [
        _row(
            "integer",
            name,
            _CLASS_LABELS[name],
            constraint=f". >= {lowest} and ${{classified}} <= ${{count}}",
            **_messages(too_many),
        )
        for name in COMPOSITION_FIELDS
    ]


def _other_rows() -> Sheet:
    return [
        _row("calculate", "classified", calculation=_classified()),
        _row("text", "survey_id", N_("Survey id (if any)"), **_text_limit("survey_id")),
        _row("text", "behaviour", N_("Behaviour"), **_text_limit("behaviour")),
        _row("text", "notes", N_("Notes"), appearance="multiline", **_text_limit("notes")),
        _row(
            "image",
            "photo",
            N_("Photo of the herd"),
            parameters=f"max-pixels={PHOTO_MAX_PIXELS}",
        ),
        _row("deviceid", "device_id"),
    ]


def _population_labels(spec: FormSpec, population: str) -> dict[str, str]:
    """English as the map names it, the other languages as the catalogue does."""
    english = spec.population_labels_en.get(population, population)
    return {
        f"label::{language_column(t)}": english
        if t.lang == DEFAULT_LANGUAGE
        else t.population_name(population)
        for t in translators()
    }


def choices_sheet(spec: FormSpec) -> Sheet:
    """Populations as configured (an added id is its own label), then the count methods."""
    rows = [
        {"list_name": "population", "name": p, **_population_labels(spec, p)}
        for p in spec.populations
    ]
    rows += [
        {"list_name": "count_method", "name": m, **_translated("label", label)}
        for m, label in COUNT_METHOD_LABELS.items()
    ]
    return rows


_TITLE = N_("Herd sighting")


def herd_sighting_workbook(spec: FormSpec) -> Workbook:
    """The built-in form's sheets; its version changes whenever its content does."""
    sheets: Workbook = {"survey": survey_sheet(spec), "choices": choices_sheet(spec)}
    digest = hashlib.sha256(json.dumps(sheets, sort_keys=True).encode()).hexdigest()
    settings = {
        "form_id": FORM_ID,
        "form_title": " / ".join(dict.fromkeys(t.gettext(_TITLE) for t in translators())),
        "name": FORM_ID,
        "version": digest[:12],
        "default_language": language_column(i18n.translator(DEFAULT_LANGUAGE)),
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
