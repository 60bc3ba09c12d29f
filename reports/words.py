"""Words of a report that are worded only when it is rendered, in the reader's language.

Message parameters (domain.i18n.Message) that are not plain values: a month's, a season's
or a population's name, and the names of periods. The methods note (reports/methods.py) is
made of them when a report is computed, and rendered in each language it is shown in.
"""

from __future__ import annotations

from typing import cast

from domain.i18n import Message, Translator
from domain.periods import ReportPeriod


class MonthName(Message):
    """A month's stand-alone name, worded when rendered: a parameter of the methods note."""

    __slots__ = ()

    def __init__(self, month: int) -> None:
        super().__init__("", month=month)

    def render(self, t: Translator) -> str:
        return t.month_name(cast(int, self.params["month"]))


class SeasonName(Message):
    """A season key ("rut") worded when rendered ("гон")."""

    __slots__ = ()

    def __init__(self, key: str) -> None:
        super().__init__("", key=key)

    def render(self, t: Translator) -> str:
        return t.season_name(str(self.params["key"]))


class PopulationName(Message):
    """A population id ("lena-olenek") worded when rendered ("Лено-Оленёкская")."""

    __slots__ = ()

    def __init__(self, population: str) -> None:
        super().__init__("", population=population)

    def render(self, t: Translator) -> str:
        return t.population_name(str(self.params["population"]))


# --------------------------------------------------------------------------------- periods
def period_label(p: ReportPeriod) -> Message:
    """ "2024", "July 2024", "rut season 2024" ("2024", "июль 2024", "гон, 2024")."""
    if p.every == "month":
        return Message("{month} {year}", month=MonthName(int(p.series)), year=str(p.year))
    if p.every == "season":
        return Message("{season} season {year}", season=SeasonName(p.series), year=str(p.year))
    return Message("{year}", year=str(p.year))


def series_label(p: ReportPeriod) -> Message:
    """The same period in every year: "July", "rut season", "whole year"."""
    if p.every == "month":
        return Message("{month}", month=MonthName(int(p.series)))
    if p.every == "season":
        return Message("{season} season", season=SeasonName(p.series))
    return Message("whole year")


def each_year(p: ReportPeriod) -> Message:
    """ "each year", "July of each year", "the rut season of each year"."""
    if p.every == "month":
        return Message("{month} of each year", month=MonthName(int(p.series)))
    if p.every == "season":
        return Message("the {season} season of each year", season=SeasonName(p.series))
    return Message("each year")
