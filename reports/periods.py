"""Report periods: parse, order, previous period, and when a period is complete (local dates)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from domain.records import Period
from domain.seasons import SeasonCalendar

EVERY: tuple[str, ...] = ("month", "season", "year")
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


class PeriodError(ValueError):
    """A period that does not parse for its `every`, naming the field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


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
        raise PeriodError("every", f"every must be month, season or year, not {every!r}")
    names = [name for name, _ in seasons.starts]
    patterns = {
        "year": r"(\d{4})",
        "month": r"(\d{4})-(0[1-9]|1[0-2])",
        "season": r"(\d{4})-(" + "|".join(re.escape(n) for n in names) + ")",
    }
    match = re.fullmatch(patterns[every], key)
    if not match:
        examples = {"year": "2024", "month": "2024-07", "season": f"2024-{names[0]}"}
        raise PeriodError(
            "period", f"period {key!r} is not a {every}: write it like {examples[every]}"
        )
    series = match.group(2) if every != "year" else "year"
    return ReportPeriod(every, key, int(match.group(1)), series)  # type: ignore[arg-type]


def previous_period(p: ReportPeriod, seasons: SeasonCalendar) -> ReportPeriod:
    """The period just before: last year, last month, or the season before in the calendar."""
    if p.every == "year":
        return ReportPeriod("year", str(p.year - 1), p.year - 1, "year")
    if p.every == "month":
        year, month = (p.year, int(p.series) - 1) if p.series != "01" else (p.year - 1, 12)
        return ReportPeriod("month", f"{year:04d}-{month:02d}", year, f"{month:02d}")
    names = [name for name, _ in seasons.starts]
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
    names = [name for name, _ in seasons.starts]
    k = names.index(p.series)
    if k + 1 < len(names):
        year, start = p.year, seasons.starts[k + 1][1]
    else:  # winter ends at next year's first season
        year, start = p.year + 1, seasons.starts[0][1]
    return date(year, int(start[:2]), int(start[3:]))


def period_keys(local_dates: np.ndarray, every: str, seasons: SeasonCalendar) -> np.ndarray:
    """Period key per "YYYY-MM-DD" local date: worked out once per distinct day (a few
    thousand among hundreds of thousands of herds; hashing them beats sorting them)."""
    dates = np.asarray(local_dates, dtype=object)
    if len(dates) == 0:
        return np.array([], dtype=object)
    codes, unique = pd.factorize(dates, use_na_sentinel=False)
    if every == "year":
        keys = [str(d)[:4] for d in unique]
    elif every == "month":
        keys = [str(d)[:7] for d in unique]
    else:
        keys = [seasons.period_key(date.fromisoformat(str(d))) for d in unique]
    return np.array(keys, dtype=object)[codes]
