"""Periods of counts and reports: month ("2024-07"), season ("2024-calving"), year ("2024").

The one home of period logic on the Python side: the key of a local date, parsing a key a
user typed, the period before one, where one ends, and the run of periods a slider shows.
Every key is worked out in the observation's own local time (Yakutia spans UTC+9 to
UTC+11). The SQL that computes the same keys inside the stores lives in data/.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import get_args
from zoneinfo import ZoneInfo

from domain.errors import InvalidInput
from domain.i18n import Message
from domain.records import Period
from domain.seasons import SeasonCalendar

EVERY: tuple[Period, ...] = get_args(Period)  # ("month", "season", "year")
_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


class PeriodError(InvalidInput):
    """An `every` or a period key that does not parse; its code names the field at fault."""

    def __init__(self, field: str, message: str | Message) -> None:
        super().__init__(message, field=field, code=f"invalid_{field}")


def period_key(local_day: date, every: str, seasons: SeasonCalendar | None = None) -> str:
    """The period a local date falls in: "2024", "2024-07" or "2024-calving"."""
    if every == "year":
        return f"{local_day.year:04d}"
    if every == "month":
        return f"{local_day.year:04d}-{local_day.month:02d}"
    if every == "season":
        return (seasons or SeasonCalendar()).period_key(local_day)
    raise PeriodError(
        "every", Message("every must be month, season or year, not {every}", every=repr(every))
    )


def local_period_key(
    moment: datetime, timezone: str, every: str, seasons: SeasonCalendar | None = None
) -> str:
    """The period of an instant in the IANA zone it was observed in, as the stores compute it."""
    return period_key(moment.astimezone(ZoneInfo(timezone)).date(), every, seasons)


def period_keys(local_days: Iterable[str], every: str, seasons: SeasonCalendar) -> list[str]:
    """Period key per "YYYY-MM-DD" local day (callers pass distinct days: keys are per day)."""
    if every == "year":
        return [str(d)[:4] for d in local_days]
    if every == "month":
        return [str(d)[:7] for d in local_days]
    return [period_key(date.fromisoformat(str(d)), every, seasons) for d in local_days]


@dataclass(frozen=True, slots=True)
class ReportPeriod:
    """One month ("2024-07"), season ("2024-calving") or year ("2024")."""

    every: Period
    key: str
    year: int
    series: str  # the same period in other years shares it: "07", "calving", "year"

    @property
    def label(self) -> str:
        if self.every == "month":
            return f"{_MONTH_NAMES[int(self.series) - 1]} {self.year}"
        if self.every == "season":
            return f"{self.series} season {self.year}"
        return str(self.year)

    @property
    def series_label(self) -> str:
        if self.every == "month":
            return _MONTH_NAMES[int(self.series) - 1]
        return f"{self.series} season" if self.every == "season" else "whole year"


def parse_period(every: str, key: str, seasons: SeasonCalendar) -> ReportPeriod:
    """The period named by `key` for `every`; raises PeriodError naming every or period."""
    if every not in EVERY:
        raise PeriodError(
            "every", Message("every must be month, season or year, not {every}", every=repr(every))
        )
    names = season_names(seasons)
    patterns = {
        # [0-9], not \d: \d takes any script's digits ("٢٠٢٤" passed, then found nothing)
        "year": r"([0-9]{4})",
        "month": r"([0-9]{4})-(0[1-9]|1[0-2])",
        "season": r"([0-9]{4})-(" + "|".join(re.escape(n) for n in names) + ")",
    }
    match = re.fullmatch(patterns[every], key)
    if not match:
        examples = {"year": "2024", "month": "2024-07", "season": f"2024-{names[0]}"}
        raise PeriodError(
            "period",
            Message(
                "period {key} is not a {every}: write it like {examples}",
                key=repr(key),
                every=str(every),
                examples=str(examples[every]),
            ),
        )
    series = match.group(2) if every != "year" else "year"
    return ReportPeriod(every, key, int(match.group(1)), series)


def season_names(seasons: SeasonCalendar) -> list[str]:
    """The calendar's season names in the order they come in a year."""
    return [name for name, _ in seasons.starts]


def previous_period(p: ReportPeriod, seasons: SeasonCalendar) -> ReportPeriod:
    """The period just before: last year, last month, or the season before in the calendar."""
    if p.every == "year":
        return ReportPeriod("year", str(p.year - 1), p.year - 1, "year")
    if p.every == "month":
        year, month = (p.year, int(p.series) - 1) if p.series != "01" else (p.year - 1, 12)
        return ReportPeriod("month", f"{year:04d}-{month:02d}", year, f"{month:02d}")
    names = season_names(seasons)
    k = names.index(p.series)
    year, name = (p.year, names[k - 1]) if k > 0 else (p.year - 1, names[-1])
    return ReportPeriod("season", f"{year:04d}-{name}", year, name)


def period_end(p: ReportPeriod, seasons: SeasonCalendar) -> date:
    """The first local day after the period (a season ends where the next one starts)."""
    if p.every == "year":
        return date(p.year + 1, 1, 1)
    if p.every == "month":
        month = int(p.series)
        return date(p.year + month // 12, month % 12 + 1, 1)
    k = season_names(seasons).index(p.series)
    if k + 1 < len(seasons.starts):
        year, start = p.year, seasons.starts[k + 1][1]
    else:  # winter ends at next year's first season
        year, start = p.year + 1, seasons.starts[0][1]
    return date(year, int(start[:2]), int(start[3:]))


# More periods than this between the first and the last (a year-1 typing mistake among
# this decade's records) are not filled in: only the present ones are shown, in order.
MAX_FILLED_PERIODS = 1200


def fill_periods(present: set[str], every: Period, calendar: SeasonCalendar) -> list[str]:
    """Every period from the first to the last present, empty ones included, in time order."""
    if not present:
        return []
    filled = _filled(present, every, calendar)
    if len(filled) > MAX_FILLED_PERIODS:
        return [p for p in filled if p in present] + sorted(set(present) - set(filled))
    return filled


def _filled(present: set[str], every: Period, calendar: SeasonCalendar) -> list[str]:
    if every == "year":
        years = sorted(int(p) for p in present)
        return [f"{y:04d}" for y in range(years[0], years[-1] + 1)]
    if every == "month":
        months = sorted(int(p[:4]) * 12 + int(p[5:7]) - 1 for p in present)
        return [f"{m // 12:04d}-{m % 12 + 1:02d}" for m in range(months[0], months[-1] + 1)]
    years = sorted(int(p[:4]) for p in present)
    names = season_names(calendar)
    seasons = [f"{y:04d}-{n}" for y in range(years[0], years[-1] + 1) for n in names]
    found = [seasons.index(p) for p in present if p in seasons]
    # Season names no longer in the calendar (it was changed) go last rather than vanish.
    stray = sorted(p for p in present if p not in seasons)
    return (seasons[min(found) : max(found) + 1] if found else []) + stray
