"""The report's tables as display text (HTML and PDF) and as machine columns (CSV)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pandas as pd

from maps.style import population_label
from reports.formats import CSV_TABLES
from reports.population import ALL_POPULATIONS, PopulationReport

Cell = Callable[[pd.Series], str]


def number(value: Any, digits: int = 0) -> str:
    """1234567 → "1,234,567"; missing → "–"."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{float(value):,.{digits}f}"


def signed(value: Any, digits: int = 0, suffix: str = "") -> str:
    text = number(value, digits)
    return text if text == "–" or float(value) < 0 else f"+{text}{suffix}" if suffix else f"+{text}"


def with_interval(row: pd.Series, name: str, digits: int = 1) -> str:
    """ "27.4 (25.1–29.6)"; the interval is left out where it cannot be computed."""
    value, low, high = row[name], row[f"{name}_low"], row[f"{name}_high"]
    if number(value) == "–":
        return "–"
    if number(low) == "–":
        return number(value, digits)
    return f"{number(value, digits)} ({number(low, digits)}–{number(high, digits)})"


def _population(row: pd.Series) -> str:
    pop = str(row["population"])
    return pop if pop == ALL_POPULATIONS else population_label(pop)


def _source(row: pd.Series) -> str:
    survey = str(row["survey"])
    return f"{survey} (census)" if row["census"] and survey else survey or "–"


def _dates(row: pd.Series) -> str:
    first, last = str(row["first_date"]), str(row["last_date"])
    return first if first == last else f"{first} to {last}"


def _change(row: pd.Series) -> str:
    if number(row["change"]) == "–":
        return "–"
    pct = "" if number(row["change_pct"]) == "–" else f" ({signed(row['change_pct'], 1)}%)"
    return signed(row["change"]) + pct


# Each display table: the frame's attribute and (header, cell) columns.
DISPLAY: dict[str, tuple[str, list[tuple[str, Cell]]]] = {
    "summary": (
        "summary",
        [
            ("Population", _population),
            ("Area", lambda r: str(r["area"])),
            ("Sightings", lambda r: number(r["sightings"])),
            ("Sighting total (raw)", lambda r: number(r["sighting_total"])),
            ("Surveys", lambda r: number(r["surveys"])),
            ("Minimum count", lambda r: number(r["minimum_count"])),
            ("From survey", _source),
            ("Herds in it", lambda r: number(r["herds"])),
            ("Previous period", lambda r: number(r["previous_minimum_count"])),
            ("Change", _change),
        ],
    ),
    "surveys": (
        "surveys",
        [
            ("Population", _population),
            ("Survey", lambda r: str(r["survey"])),
            ("Season", lambda r: str(r["season"])),
            ("Dates", _dates),
            ("Herds", lambda r: number(r["herds"])),
            ("Sightings", lambda r: number(r["sightings"])),
            ("Survey's minimum count", lambda r: number(r["minimum_count"])),
            ("Used", lambda r: "yes" if r["used"] else ""),
        ],
    ),
    "estimates": (
        "estimates",
        [
            ("Population", _population),
            ("Survey", lambda r: str(r["survey"])),
            ("Stratum", lambda r: str(r["stratum"])),
            ("Transects", lambda r: number(r["transects"])),
            ("Stratum km²", lambda r: number(r["area_km2"], 1)),
            ("Strips km²", lambda r: number(r["strip_km2"], 1)),
            ("Animals in strips", lambda r: number(r["animals_in_strips"])),
            ("Estimate (95% CI)", lambda r: with_interval(r, "estimate", 0)),
            ("CV %", lambda r: number(r["cv_pct"], 1)),
        ],
    ),
    "composition": (
        "composition",
        [
            ("Population", _population),
            ("Survey", lambda r: str(r["survey"])),
            ("Season", lambda r: str(r["season"])),
            ("Herds classified", lambda r: number(r["herds_classified"])),
            ("Animals classified", lambda r: number(r["animals_classified"])),
            ("Calves / 100 cows (95% CI)", lambda r: with_interval(r, "calves_per_100_cows")),
            ("Bulls / 100 cows (95% CI)", lambda r: with_interval(r, "bulls_per_100_cows")),
            ("% calves (95% CI)", lambda r: with_interval(r, "percent_calves")),
        ],
    ),
    "effort": (
        "effort",
        [
            ("Population", _population),
            ("Method", lambda r: str(r["method"])),
            ("Surveys", lambda r: number(r["surveys"])),
            ("Survey-days", lambda r: number(r["survey_days"], 1)),
            ("km", lambda r: number(r["km"], 1)),
            ("km²", lambda r: number(r["km2"], 1)),
            ("Herds", lambda r: number(r["herds"])),
            ("Animals in herds (all surveys)", lambda r: number(r["herd_animals"])),
            ("Per survey-day", lambda r: number(r["per_survey_day"], 1)),
            ("Per 100 km", lambda r: number(r["per_100_km"], 1)),
            ("Per 100 km²", lambda r: number(r["per_100_km2"], 1)),
        ],
    ),
    "trend": (
        "trend",
        [
            ("Population", _population),
            ("Series", lambda r: str(r["series"])),
            ("Years", lambda r: f"{r['first_year']}–{r['last_year']} ({r['years']})"),
            ("Annual change % (95% CI)", lambda r: _rate(r)),
            ("Dispersion", lambda r: number(r["dispersion"], 1)),
        ],
    ),
}


def _rate(row: pd.Series) -> str:
    if number(row["rate_pct"]) == "–":
        return "– (fewer than 3 years)"
    low, high = signed(row["rate_low_pct"], 1), signed(row["rate_high_pct"], 1)
    return f"{signed(row['rate_pct'], 1)} ({low} to {high})"


def display_table(report: PopulationReport, name: str) -> tuple[list[str], list[list[str]]]:
    """Headers and rows of text for one of DISPLAY's tables."""
    attribute, columns = DISPLAY[name]
    frame: pd.DataFrame = getattr(report, attribute)
    rows = [[cell(row) for _, cell in columns] for _, row in frame.iterrows()]
    return [header for header, _ in columns], rows


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
    for column in ("first_seen", "last_seen"):
        moments = pd.to_datetime(herds[column], unit="s", utc=True)
        herds[column] = moments.dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    for column in ("adult_males", "adult_females", "yearlings", "calves", "unclassified"):
        herds[column] = herds[column].where(herds[column] >= 0).astype("Int64")
    return herds.reset_index(drop=True)
