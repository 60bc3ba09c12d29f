"""Reindeer-work seasons: the calendar a season period key is read from (domain/periods.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

# Default calendar for wild tundra reindeer in Yakutia (month-day each season starts).
# Calving falls in late May to mid June; post-calving aggregation through summer;
# the rut in autumn; winter on the taiga-tundra wintering grounds.
DEFAULT_SEASONS: tuple[tuple[str, str], ...] = (
    ("calving", "05-15"),
    ("post-calving", "06-20"),
    ("rut", "09-15"),
    ("winter", "11-01"),
)


@dataclass(frozen=True, slots=True)
class SeasonCalendar:
    """Named seasons, each starting on a month-day; the last one wraps into the new year."""

    starts: tuple[tuple[str, str], ...] = DEFAULT_SEASONS

    def season_of(self, local_day: date) -> tuple[int, str]:
        """(season year, season name); winter days of January belong to the previous year."""
        md = local_day.strftime("%m-%d")
        name = self.starts[-1][0]
        for season, start in self.starts:
            if md >= start:
                name = season
        wraps = md < self.starts[0][1]
        return (local_day.year - 1 if wraps else local_day.year), name

    def period_key(self, local_day: date) -> str:
        year, name = self.season_of(local_day)
        return f"{year:04d}-{name}"  # padded as "%Y" pads: "0000-winter" parses like any

    @classmethod
    def parse(cls, spec: str) -> SeasonCalendar:
        """Parse "calving=05-15,post-calving=06-20,rut=09-15,winter=11-01"."""
        pairs = []
        for item in spec.split(","):
            name, _, start = item.partition("=")
            date(2000, int(start[:2]), int(start[3:5]))  # raises ValueError on a bad date
            pairs.append((name.strip(), start.strip()))
        pairs.sort(key=lambda p: p[1])
        return cls(tuple(pairs))
