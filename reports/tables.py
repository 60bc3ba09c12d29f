"""The report's tables as display text (HTML and PDF) and as machine columns (CSV)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from domain.i18n import DEFAULT_LANGUAGE, N_, Translator, translator
from reports import labels, words
from reports.formats import CSV_TABLES
from reports.labels import MISSING, number, signed, signed_percent
from reports.population import PopulationReport

Cell = Callable[[pd.Series, Translator], str]


def with_interval(row: pd.Series, name: str, t: Translator, digits: int = 1) -> str:
    """ "27.4 (25.1–29.6)"; the interval is left out where it cannot be computed."""
    value, low, high = row[name], row[f"{name}_low"], row[f"{name}_high"]
    if labels.is_missing(value):
        return MISSING
    if labels.is_missing(low):
        return number(value, t, digits)
    return f"{number(value, t, digits)} ({number(low, t, digits)}–{number(high, t, digits)})"


def _population(row: pd.Series, t: Translator) -> str:
    return labels.population(row["population"], t)


def _source(row: pd.Series, t: Translator) -> str:
    shown = labels.survey(row["survey"], t)
    if row["census"] and str(row["survey"]):
        return t.gettext("{survey} (census)").format(survey=shown)
    return shown


def _dates(row: pd.Series, t: Translator) -> str:
    first, last = labels.short_date(row["first_date"], t), labels.short_date(row["last_date"], t)
    return first if first == last else t.gettext("{first} to {last}").format(first=first, last=last)


def _change(row: pd.Series, t: Translator) -> str:
    if labels.is_missing(row["change"]):
        return MISSING
    if labels.is_missing(row["change_pct"]):
        return signed(row["change"], t)
    return f"{signed(row['change'], t)} ({signed_percent(row['change_pct'], t)})"


def _rate(row: pd.Series, t: Translator) -> str:
    if labels.is_missing(row["rate_pct"]):
        return t.gettext("– (fewer than 3 years)")
    low, high = signed(row["rate_low_pct"], t, 1), signed(row["rate_high_pct"], t, 1)
    return t.gettext("{rate} ({low} to {high})").format(
        rate=signed(row["rate_pct"], t, 1), low=low, high=high
    )


def _counts_from(row: pd.Series, t: Translator) -> str:
    """The seasons of a series' counts ("summer ×7, winter ×1"), the names translated."""
    parts = [p.rpartition(" ×") for p in str(row["counts_from"] or "").split(", ") if p]
    return ", ".join(f"{labels.season(name, t)} ×{n}" for name, _, n in parts) or MISSING


def _years(row: pd.Series, t: Translator) -> str:
    # Years are not quantities: never grouped ("2019", not "2 019").
    return f"{row['first_year']}–{row['last_year']} ({number(row['years'], t)})"


def _count(column: str, digits: int = 0) -> Cell:
    return lambda row, t: number(row[column], t, digits)


# Each display table: the frame's attribute and (header, cell) columns. Headers are
# marked for the catalogue here and translated when the table is shown.
DISPLAY: dict[str, tuple[str, list[tuple[str, Cell]]]] = {
    "summary": (
        "summary",
        [
            (N_("Population"), _population),
            (N_("Area"), lambda r, t: labels.area(r["area"], t)),
            (N_("Sightings"), _count("sightings")),
            (N_("Sighting total (raw)"), _count("sighting_total")),
            (N_("Surveys"), _count("surveys")),
            (N_("Minimum count"), _count("minimum_count")),
            (N_("From survey"), _source),
            (N_("Herds in it"), _count("herds")),
            (N_("Previous period"), _count("previous_minimum_count")),
            (N_("Change"), _change),
        ],
    ),
    "surveys": (
        "surveys",
        [
            (N_("Population"), _population),
            (N_("Survey"), lambda r, t: labels.survey(r["survey"], t)),
            (N_("Season"), lambda r, t: labels.season(r["season"], t)),
            (N_("Dates"), _dates),
            (N_("Herds"), _count("herds")),
            (N_("Sightings"), _count("sightings")),
            (N_("Survey's minimum count"), _count("minimum_count")),
            (N_("Used"), lambda r, t: t.gettext("yes") if r["used"] else ""),
        ],
    ),
    "estimates": (
        "estimates",
        [
            (N_("Population"), _population),
            (N_("Survey"), lambda r, t: labels.survey(r["survey"], t)),
            (N_("Stratum"), lambda r, t: labels.stratum(r["stratum"], t)),
            (N_("Transects"), _count("transects")),
            (N_("Stratum km²"), _count("area_km2", 1)),
            (N_("Strips km²"), _count("strip_km2", 1)),
            (N_("Animals in strips"), _count("animals_in_strips")),
            (N_("Estimate (95% CI)"), lambda r, t: with_interval(r, "estimate", t, 0)),
            (N_("CV %"), _count("cv_pct", 1)),
        ],
    ),
    "composition": (
        "composition",
        [
            (N_("Population"), _population),
            (N_("Survey"), lambda r, t: labels.survey(r["survey"], t)),
            (N_("Season"), lambda r, t: labels.season(r["season"], t)),
            (N_("Herds classified"), _count("herds_classified")),
            (N_("Animals classified"), _count("animals_classified")),
            (
                N_("Calves / 100 cows (95% CI)"),
                lambda r, t: with_interval(r, "calves_per_100_cows", t),
            ),
            (
                N_("Bulls / 100 cows (95% CI)"),
                lambda r, t: with_interval(r, "bulls_per_100_cows", t),
            ),
            (N_("% calves (95% CI)"), lambda r, t: with_interval(r, "percent_calves", t)),
        ],
    ),
    "effort": (
        "effort",
        [
            (N_("Population"), _population),
            (N_("Method"), lambda r, t: labels.method(r["method"], t)),
            (N_("Surveys"), _count("surveys")),
            (N_("Survey-days"), _count("survey_days", 1)),
            (N_("km"), _count("km", 1)),
            (N_("km²"), _count("km2", 1)),
            (N_("Herds"), _count("herds")),
            (N_("Animals in herds (all surveys)"), _count("herd_animals")),
            (N_("Per survey-day"), _count("per_survey_day", 1)),
            (N_("Per 100 km"), _count("per_100_km", 1)),
            (N_("Per 100 km²"), _count("per_100_km2", 1)),
        ],
    ),
    "trend": (
        "trend",
        [
            (N_("Population"), _population),
            (N_("Series"), lambda r, t: str(r["series"])),
            (N_("Years"), _years),
            (N_("Annual change % (95% CI)"), _rate),
            (N_("Dispersion"), _count("dispersion", 1)),
            (N_("Counts from"), _counts_from),
        ],
    ),
}


def display_table(
    report: PopulationReport, name: str, lang: str = DEFAULT_LANGUAGE
) -> tuple[list[str], list[list[str]]]:
    """Headers and rows of text for one of DISPLAY's tables, in `lang`."""
    t = translator(lang)
    attribute, columns = DISPLAY[name]
    frame: pd.DataFrame = getattr(report, attribute)
    if name == "trend" and len(frame):  # the computed column is English: "whole year"
        frame = frame.assign(series=words.series_label(report.period).render(t))
    rows = [[cell(row, t) for _, cell in columns] for _, row in frame.iterrows()]
    return [t.gettext(header) for header, _ in columns], rows


HERD_CSV_COLUMNS = [
    "herd_id",
    "population",
    "area",
    "size",
    "sightings",
    "sighting_total",
    "lon",
    "lat",
    "first_seen",
    "last_seen",
    "local_date",
    "survey_id",
    "survey",
    "adult_males",
    "adult_females",
    "yearlings",
    "calves",
    "unclassified",
    "synthetic",
    "sighting_ids",
]


def csv_frame(report: PopulationReport, name: str) -> pd.DataFrame:
    """One table with machine column names, the period in front (CSV and the API)."""
    if name not in CSV_TABLES:
        raise ValueError(f"table must be one of {', '.join(CSV_TABLES)}")
    frame = getattr(report, name)
    if name == "herds":
        frame = herds_frame(report)
    out = whole_numbers(frame.copy())
    out.insert(0, "period", report.period.key)
    out.insert(0, "every", report.period.every)
    return out


def whole_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns whose every value is a whole number as integers ("12", not "12.0"): pandas
    makes a column float as soon as one value is missing."""
    for column in frame.columns:
        values = frame[column]
        if values.dtype == object:
            present = values[values.notna()]
            if len(present) and pd.isna(pd.to_numeric(present.iloc[:1], errors="coerce")).all():
                continue  # its first value is not a number (the whole column would miss)
            numeric = pd.to_numeric(values, errors="coerce")
            if numeric.notna().sum() != values.notna().sum() or any(
                isinstance(v, bool) for v in values
            ):
                continue  # text, or True/False
            values = numeric
        if pd.api.types.is_float_dtype(values) and values.notna().any():
            finite = values.dropna()
            if (finite == finite.round()).all() and finite.abs().max() < 2**53:
                frame[column] = values.astype("Int64")
    return frame


def herds_frame(report: PopulationReport) -> pd.DataFrame:
    """The period's herds with readable times (UTC) and unrecorded classes blank."""
    herds = report.herds[HERD_CSV_COLUMNS].copy()
    for column in ("first_seen", "last_seen"):  # whole UTC seconds, formatted in C
        seconds = herds[column].to_numpy().astype("int64").astype("datetime64[s]")
        herds[column] = pd.array(np.char.add(np.datetime_as_string(seconds), "Z"), dtype="str")
    for column in ("adult_males", "adult_females", "yearlings", "calves", "unclassified"):
        herds[column] = herds[column].where(herds[column] >= 0).astype("Int64")
    return herds.reset_index(drop=True)


def csv_headers(columns: list[str], lang: str = DEFAULT_LANGUAGE) -> list[str]:
    """The header row of a CSV table in `lang`: the machine column names in English, the
    same columns in words in another language (the cells stay machine-readable)."""
    t = translator(lang)
    if t.lang == DEFAULT_LANGUAGE:
        return list(columns)
    words = _csv_words(t)
    return [words.get(c, c) for c in columns]


def _csv_words(t: Translator) -> dict[str, str]:
    """Each machine column of the CSV tables (reports.formats.CSV_TABLES) in t's language.

    The msgid is the column's own name, so English shows the name a script reads."""
    return {
        "every": t.pgettext("CSV column", "every"),
        "period": t.pgettext("CSV column", "period"),
        "population": t.pgettext("CSV column", "population"),
        "area": t.pgettext("CSV column", "area"),
        "sightings": t.pgettext("CSV column", "sightings"),
        "sighting_total": t.pgettext("CSV column", "sighting_total"),
        "surveys": t.pgettext("CSV column", "surveys"),
        "survey": t.pgettext("CSV column", "survey"),
        "census": t.pgettext("CSV column", "census"),
        "herds": t.pgettext("CSV column", "herds"),
        "minimum_count": t.pgettext("CSV column", "minimum_count"),
        "previous_minimum_count": t.pgettext("CSV column", "previous_minimum_count"),
        "change": t.pgettext("CSV column", "change"),
        "change_pct": t.pgettext("CSV column", "change_pct"),
        "kind": t.pgettext("CSV column", "kind"),
        "season": t.pgettext("CSV column", "season"),
        "first_date": t.pgettext("CSV column", "first_date"),
        "last_date": t.pgettext("CSV column", "last_date"),
        "areas": t.pgettext("CSV column", "areas"),
        "used": t.pgettext("CSV column", "used"),
        "stratum": t.pgettext("CSV column", "stratum"),
        "transects": t.pgettext("CSV column", "transects"),
        "area_km2": t.pgettext("CSV column", "area_km2"),
        "strip_km2": t.pgettext("CSV column", "strip_km2"),
        "animals_in_strips": t.pgettext("CSV column", "animals_in_strips"),
        "density_km2": t.pgettext("CSV column", "density_km2"),
        "estimate": t.pgettext("CSV column", "estimate"),
        "estimate_low": t.pgettext("CSV column", "estimate_low"),
        "estimate_high": t.pgettext("CSV column", "estimate_high"),
        "cv_pct": t.pgettext("CSV column", "cv_pct"),
        "herds_classified": t.pgettext("CSV column", "herds_classified"),
        "animals_classified": t.pgettext("CSV column", "animals_classified"),
        "adult_males": t.pgettext("CSV column", "adult_males"),
        "adult_females": t.pgettext("CSV column", "adult_females"),
        "calves": t.pgettext("CSV column", "calves"),
        "calves_per_100_cows": t.pgettext("CSV column", "calves_per_100_cows"),
        "calves_per_100_cows_low": t.pgettext("CSV column", "calves_per_100_cows_low"),
        "calves_per_100_cows_high": t.pgettext("CSV column", "calves_per_100_cows_high"),
        "bulls_per_100_cows": t.pgettext("CSV column", "bulls_per_100_cows"),
        "bulls_per_100_cows_low": t.pgettext("CSV column", "bulls_per_100_cows_low"),
        "bulls_per_100_cows_high": t.pgettext("CSV column", "bulls_per_100_cows_high"),
        "percent_calves": t.pgettext("CSV column", "percent_calves"),
        "percent_calves_low": t.pgettext("CSV column", "percent_calves_low"),
        "percent_calves_high": t.pgettext("CSV column", "percent_calves_high"),
        "method": t.pgettext("CSV column", "method"),
        "survey_days": t.pgettext("CSV column", "survey_days"),
        "km": t.pgettext("CSV column", "km"),
        "km2": t.pgettext("CSV column", "km2"),
        "herd_animals": t.pgettext("CSV column", "herd_animals"),
        "per_survey_day": t.pgettext("CSV column", "per_survey_day"),
        "per_100_km": t.pgettext("CSV column", "per_100_km"),
        "per_100_km2": t.pgettext("CSV column", "per_100_km2"),
        "series": t.pgettext("CSV column", "series"),
        "years": t.pgettext("CSV column", "years"),
        "first_year": t.pgettext("CSV column", "first_year"),
        "last_year": t.pgettext("CSV column", "last_year"),
        "rate_pct": t.pgettext("CSV column", "rate_pct"),
        "rate_low_pct": t.pgettext("CSV column", "rate_low_pct"),
        "rate_high_pct": t.pgettext("CSV column", "rate_high_pct"),
        "dispersion": t.pgettext("CSV column", "dispersion"),
        "counts_from": t.pgettext("CSV column", "counts_from"),
        "year": t.pgettext("CSV column", "year"),
        "herd_id": t.pgettext("CSV column", "herd_id"),
        "size": t.pgettext("CSV column", "size"),
        "lon": t.pgettext("CSV column", "lon"),
        "lat": t.pgettext("CSV column", "lat"),
        "first_seen": t.pgettext("CSV column", "first_seen"),
        "last_seen": t.pgettext("CSV column", "last_seen"),
        "local_date": t.pgettext("CSV column", "local_date"),
        "survey_id": t.pgettext("CSV column", "survey_id"),
        "yearlings": t.pgettext("CSV column", "yearlings"),
        "unclassified": t.pgettext("CSV column", "unclassified"),
        "synthetic": t.pgettext("CSV column", "synthetic"),
        "sighting_ids": t.pgettext("CSV column", "sighting_ids"),
    }
