"""The report's words in one language: periods, populations, areas, surveys and methods.

A computed report (reports.population) is the same in every language and is kept once per
data version; its keys ("lena-olenek", "2024-rut", "all areas") become words only when it
is rendered, for one Translator. Numbers are formatted by the Translator (Babel): "1 234"
and "0,5" in Russian, "1,234" and "0.5" in English.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import pandas as pd

from domain.i18n import Translator
from reports.herds import OUTSIDE
from reports.minimum import WINDOW_PREFIX
from reports.population import ALL_AREAS, ALL_POPULATIONS, PopulationReport, software_version
from reports.transects import ALL_STRATA
from reports.words import period_label

MISSING = "–"  # a value that cannot be computed, in every language
EACH_OWN = "each population's own"  # the survey of the "all populations" row (population.py)


def every_word(every: str, t: Translator) -> str:
    words = {
        "year": t.pgettext("every", "year"),
        "month": t.pgettext("every", "month"),
        "season": t.pgettext("every", "season"),
    }
    return words.get(every, every)


def short_date(value: Any, t: Translator) -> str:
    """A local date ("2024-07-10") in the language's format: 2024-07-10, 10.07.2024."""
    text_value = str(value)
    try:
        return t.format_date(date.fromisoformat(text_value[:10]))
    except ValueError:
        return text_value


def day_and_month(value: Any, t: Translator) -> str:
    """The day of a local date without its year: 07-10 in English, 10.07 in Russian."""
    from babel.dates import format_date

    day = date.fromisoformat(str(value)[:10])
    # TRANSLATORS: a CLDR pattern of a day in its month (dd day, MM month), not words.
    return format_date(day, t.pgettext("date pattern", "MM-dd"), locale=t.locale)


# ------------------------------------------------------------------------- keys as words
def population(pop: Any, t: Translator) -> str:
    """A population id as its name in a table or legend ("Lena-Olenek", "Лено-Оленёкская")."""
    if str(pop) == ALL_POPULATIONS:
        return t.gettext("all populations")
    return t.population_name(str(pop))  # as the glossary has it: «лесной (таёжный) …» in lower case


def area(name: Any, t: Translator) -> str:
    """An area of the tables: a region of the bundled boundaries, or a total."""
    words = {
        ALL_AREAS: t.gettext("all areas"),
        OUTSIDE: t.gettext("outside the study area"),
        "Sakha Republic": t.pgettext("region", "Sakha Republic"),
        "Amur Oblast": t.pgettext("region", "Amur Oblast"),
        "Chukotka Autonomous Okrug": t.pgettext("region", "Chukotka Autonomous Okrug"),
        "Irkutsk Oblast": t.pgettext("region", "Irkutsk Oblast"),
        "Khabarovsk Krai": t.pgettext("region", "Khabarovsk Krai"),
        "Krasnoyarsk Krai": t.pgettext("region", "Krasnoyarsk Krai"),
        "Magadan Oblast": t.pgettext("region", "Magadan Oblast"),
        "Zabaykalsky Krai": t.pgettext("region", "Zabaykalsky Krai"),
    }
    return words.get(str(name), str(name))  # a region an administrator added keeps its name


def survey(key: Any, t: Translator) -> str:
    """A survey id as it is (a code); a survey window by its first day; the totals' rule."""
    key = str(key)
    if key == EACH_OWN:
        return t.gettext("each population's own")
    if key.startswith(WINDOW_PREFIX):
        first = key.rsplit(":", 1)[-1]
        return t.gettext("survey window from {date}").format(date=short_date(first, t))
    return key or MISSING


def season(key: Any, t: Translator) -> str:
    return t.season_name(str(key)) if str(key) else MISSING


def method(key: Any, t: Translator) -> str:
    """A survey method (domain.records.SURVEY_METHODS), or no survey recorded."""
    words = {
        "aerial": t.pgettext("survey method", "aerial"),
        "snowmobile": t.pgettext("survey method", "snowmobile"),
        "foot": t.pgettext("survey method", "foot"),
        "camera": t.pgettext("survey method", "camera"),
        "collar": t.pgettext("survey method", "collar"),
        "no survey": t.pgettext("survey method", "no survey"),
    }
    return words.get(str(key), str(key))


def stratum(name: Any, t: Translator) -> str:
    return t.gettext("all strata") if str(name) == ALL_STRATA else str(name)


# --------------------------------------------------------------------------------- numbers
def is_missing(value: Any) -> bool:
    """None, NaN and pandas' NA (a missing value of an Int64 column)."""
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def number(value: Any, t: Translator, digits: int = 0) -> str:
    """1234567 → "1,234,567" ("1 234 567" in Russian); missing → "–"."""
    if is_missing(value):
        return MISSING
    return t.format_decimal(float(value), digits)


def signed(value: Any, t: Translator, digits: int = 0) -> str:
    """A change with its sign: "+21", "-217"."""
    text_value = number(value, t, digits)
    return text_value if text_value == MISSING or float(value) < 0 else f"+{text_value}"


def signed_percent(value: Any, t: Translator, digits: int = 1) -> str:
    """A change in percent (already ×100) with its sign: "+8.4%" ("+8,4 %" in Russian)."""
    if is_missing(value):
        return MISSING
    shown = t.format_percent(float(value) / 100, digits)
    return shown if float(value) < 0 else f"+{shown}"


# ------------------------------------------------------------------------- report texts
def title(report: PopulationReport, t: Translator) -> str:
    return t.gettext("Wild reindeer population report: {period}").format(
        period=period_label(report.period).render(t)
    )


def provenance(report: PopulationReport, t: Translator) -> str:
    """Which software made the report from which state of the store."""
    store = ".".join(str(v) for v in report.data_version) or t.gettext("unknown")
    return t.gettext("Herdwatch {version}, store data version {data_version}").format(
        version=software_version(), data_version=store
    )
