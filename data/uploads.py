"""The rules an observation must pass before it is stored, for uploads and edits alike.

The wire schemas (field_api/schemas.py, fastpath.py) check types and limits; what needs
the transformed point, the configured populations or the clock is checked here, once per
record in plain Python. `accepts` is the upload fast path's yes or no, `problems` names
every reason; tests/field_api/test_fastpath.py holds them to the same verdicts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import available_timezones

from domain import wire
from domain.i18n import N_, Joined, Message
from domain.times import ACCEPTED_RANGE, EARLIEST
from geo.coords import CoordinateError, lon_lat_problems, to_wgs84

_ZONES = frozenset(available_timezones())
_AXES = {
    "lon": ("[0]", N_("longitude {value} is outside -180..180 degrees")),
    "lat": ("[1]", N_("latitude {value} is outside -90..90 degrees")),
}
_NUMBERS = tuple(f.name for f in wire.DEVICE_PROPERTIES if f.kind == "number")


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a record was refused: the field at fault, a stable code and a message."""

    field: str
    code: str
    message: Message  # names the field first, as every error message of the API does

    @classmethod
    def of(cls, field: str, code: str, reason: Message) -> Problem:
        return cls(field, code, Message("{field}: {reason}", field=field, reason=reason))

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "code": self.code, "message": self.message}


class Rejected(Exception):
    """A record broke the upload rules (an edit, or a single upload): every reason."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        self.message = Joined([p.message for p in self.problems])
        super().__init__(str(self.message))


def crs_problem(exc: CoordinateError, crs: str) -> Message:
    """A CRS geo/coords.py refused, in words the API and the CLI translate."""
    if exc.kind == "unknown":
        return Message("crs {crs} is not a known coordinate system", crs=repr(crs))
    if exc.kind == "not_horizontal":
        return Message(
            "crs {crs} is not a map's coordinate system (geocentric or vertical): send "
            "longitude and latitude, or projected x and y such as EPSG:32652",
            crs=repr(crs),
        )
    return Message("crs {crs} is not understood: give it as EPSG:<code>", crs=repr(crs))


def classified_total(c: Any) -> int:
    """Animals placed in any class (a parsed composition or a Composition)."""
    return (
        (c.adult_males or 0)
        + (c.adult_females or 0)
        + (c.yearlings or 0)
        + (c.calves or 0)
        + (c.unclassified or 0)
    )


def timezone_known(name: str) -> bool:
    return name in _ZONES


def to_lon_lat(xs: Sequence[float], ys: Sequence[float], crs: str | None) -> tuple[Any, Any]:
    """Coordinates as sent, transformed to lon/lat when they came in another CRS."""
    if crs is None or not xs:
        return xs, ys
    return to_wgs84(xs, ys, crs)


@dataclass(frozen=True, slots=True)
class UploadRules:
    """What the server is configured to accept: populations, batch size, clock slack."""

    populations: tuple[str, ...]
    max_future_minutes: float
    max_batch_size: int = 1000

    def latest(self) -> datetime:
        """The latest observed_at accepted now (a tablet clock a little ahead is fine)."""
        return datetime.now(UTC) + timedelta(minutes=self.max_future_minutes)

    def accepts(self, p: Any, lon: float, lat: float, latest: datetime, known: Any) -> bool:
        """Every rule at once as one yes or no (the fast path: no messages built).

        `p` is a record's parsed properties or an Observation; `known` is
        frozenset(self.populations), made once per batch.
        """
        for name in _NUMBERS:
            if not _finite(getattr(p, name)):
                return False
        c = p.composition
        classified = (
            (c.adult_males or 0)
            + (c.adult_females or 0)
            + (c.yearlings or 0)
            + (c.calves or 0)
            + (c.unclassified or 0)
        )
        return (
            -180.0 <= lon <= 180.0
            and -90.0 <= lat <= 90.0
            and classified <= p.count
            and p.population in known
            and p.timezone in _ZONES
            and EARLIEST <= p.observed_at <= latest
        )

    def population_problem(self, population: str) -> Problem | None:
        """A population this server does not count, or None."""
        if population in self.populations:
            return None
        return Problem.of(
            "properties.population",
            "unknown_population",
            Message(
                "{population} is not one of {known}",
                population=repr(population),
                known=", ".join(self.populations),
            ),
        )

    def problems(self, p: Any, lon: float, lat: float) -> list[Problem]:
        """Every rule a record breaks, each with the field and what to fix."""
        found = _point_problems(lon, lat)
        if not timezone_known(p.timezone):
            found.append(
                Problem.of(
                    "properties.timezone",
                    "unknown_timezone",
                    Message(
                        "{zone} is not an IANA time zone (for example Asia/Yakutsk)",
                        zone=repr(p.timezone),
                    ),
                )
            )
        classified = classified_total(p.composition)
        if classified > p.count:
            found.append(
                Problem.of(
                    "properties.composition",
                    "composition_exceeds_count",
                    Message(
                        "adds up to {classified} animals but count is {count}: "
                        "classified animals cannot exceed the count",
                        classified=classified,
                        count=p.count,
                    ),
                )
            )
        unknown = self.population_problem(p.population)
        if unknown is not None:
            found.append(unknown)
        if p.observed_at < EARLIEST:
            found.append(
                Problem.of(
                    "properties.observed_at",
                    "too_early",
                    Message(
                        "observed_at {time} is before 1900-01-01T00:00:00Z; "
                        "accepted: {accepted} (check the tablet's date)",
                        time=p.observed_at.isoformat(),
                        accepted=ACCEPTED_RANGE,
                    ),
                )
            )
        elif p.observed_at > self.latest():
            found.append(
                Problem.of(
                    "properties.observed_at",
                    "in_future",
                    Message(
                        "observed_at {time} is in the future; check the tablet's clock and "
                        "time zone (at most {minutes} minutes ahead is accepted)",
                        time=p.observed_at.isoformat(),
                        minutes=f"{self.max_future_minutes:g}",
                    ),
                )
            )
        return found


def _finite(value: float | None) -> bool:
    return value is None or math.isfinite(value)


def _point_problems(lon: float, lat: float) -> list[Problem]:
    if -180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0:
        return []
    found = []
    for axis, _ in lon_lat_problems(lon, lat):
        suffix, msgid = _AXES[axis]
        field = f"geometry.coordinates{suffix}"
        value = repr(lon if axis == "lon" else lat)  # as sent, not grouped
        found.append(Problem.of(field, "out_of_range", Message(msgid, value=value)))
    return found
