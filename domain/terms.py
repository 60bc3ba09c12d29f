"""The words a page shows for the domain's codes: methods, period lengths, sex and age
classes, and the label of a period key ("2024-07" is "July 2024" in a reader's language).

Codes stay as they are in data, forms and URLs; only what a person reads is translated.
The English names are the codes themselves (what the pages showed before they spoke
Russian). A code with no entry here (an administrator's own) is shown as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from domain.i18n import N_, Translator

# TRANSLATORS: survey methods (how a survey went out), shown in the viewer's method list.
SURVEY_METHOD_NAMES: Mapping[str, str] = {
    "aerial": N_("aerial"),
    "snowmobile": N_("snowmobile"),
    "foot": N_("foot"),
    "camera": N_("camera"),
    "collar": N_("collar"),
}
# TRANSLATORS: count methods (how one herd was counted).
COUNT_METHOD_NAMES: Mapping[str, str] = {
    "visual": N_("visual"),
    "photo": N_("photo"),
    "estimate": N_("estimate"),
}
# TRANSLATORS: the length of the map's periods, in the viewer's "Period" list.
PERIOD_NAMES: Mapping[str, str] = {"month": N_("month"), "season": N_("season"), "year": N_("year")}
# The heading of the totals' first column and of the legend's period line.
PERIOD_HEADINGS: Mapping[str, str] = {
    "month": N_("Month"),
    "season": N_("Season"),
    "year": N_("Year"),
}
# "Totals per year", "herds per year in …": one phrase each, so a language inflects it.
PER_PERIOD: Mapping[str, str] = {
    "month": N_("per month"),
    "season": N_("per season"),
    "year": N_("per year"),
}
# Sex and age classes of domain.records.COMPOSITION_FIELDS (terms: docs/glossary.md).
COMPOSITION_NAMES: Mapping[str, str] = {
    "adult_males": N_("adult males"),
    "adult_females": N_("adult females"),
    "yearlings": N_("yearlings"),
    "calves": N_("calves"),
    "unclassified": N_("unclassified"),
}


def name_of(names: Mapping[str, str], code: str, t: Translator) -> str:
    """The code's name in t's language, or the code itself when it has none."""
    name = names.get(code)
    return t.gettext(name) if name else code


def period_label(key: str, t: Translator) -> str:
    """A period key as a reader writes it: a year as it is ("2024"); a month by the
    catalogue's CLDR pattern ("2024-07" in English, "июль 2024" in Russian); a season as
    "{year}-{season}" ("2024-calving", "отёл 2024"). A key that parses as none is kept."""
    year, _, rest = key.partition("-")
    if not rest or not year.isdigit():
        return key
    if rest.isdigit() and 1 <= int(rest) <= 12:
        from babel.dates import format_date

        # TRANSLATORS: a CLDR pattern of a month of a year (MM its number, LLLL its name).
        pattern = t.pgettext("date pattern", "yyyy-MM")
        return format_date(date(int(year), int(rest), 1), pattern, locale=t.locale)
    # TRANSLATORS: a season of a year on the map's slider: {season} is e.g. "calving".
    return t.pgettext("period", "{year}-{season}").format(year=year, season=t.season_name(rest))
