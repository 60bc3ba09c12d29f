"""The times Herdwatch accepts and how it writes them.

Accepted: from EARLIEST (1900-01-01T00:00Z) to now plus the clock-skew allowance
(HERDWATCH_MAX_FUTURE_MINUTES). Earlier instants are typing mistakes (a tablet's
"0001-01-01" default), and near year 1 a UTC instant may not even exist in Python
("0001-01-01T00:00+14:00" is in year 0 UTC), which once made season views fail for all.

Written: RFC 3339 with a whole-minute offset. Zones before standard time (Asia/Yakutsk
until 1919) have local mean time offsets such as +08:38:58, which RFC 3339 cannot spell:
such a time is written at its offset cut to the minute, the same instant.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from domain.i18n import Message

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
ACCEPTED_RANGE = Message("from 1900-01-01T00:00:00Z to now plus the clock-skew allowance")


def too_early(moment: datetime) -> bool:
    """Before EARLIEST (comparing aware times needs no UTC conversion, so year 0 is fine)."""
    return moment < EARLIEST


def range_problem(moment: datetime, latest: datetime | None = None) -> Message | None:
    """Why a time is outside the accepted range, or None."""
    if too_early(moment):
        return Message(
            "{time} is before 1900-01-01T00:00:00Z; accepted: {accepted}",
            time=_spell(moment),
            accepted=ACCEPTED_RANGE,
        )
    if latest is not None and moment > latest:
        return Message(
            "{time} is in the future; accepted: {accepted}",
            time=_spell(moment),
            accepted=ACCEPTED_RANGE,
        )
    return None


def rfc3339(moment: datetime) -> str:
    """isoformat(), but with the offset cut to whole minutes when it has seconds."""
    offset = moment.utcoffset()
    if offset is not None and (offset.seconds % 60 or offset.microseconds):
        minutes = int(offset.total_seconds() // 60)
        moment = moment.astimezone(timezone(timedelta(minutes=minutes)))
    return moment.isoformat()


def _spell(moment: datetime) -> str:
    return moment.isoformat()
