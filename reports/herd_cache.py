"""The store's herds, worked out once per version of the data and shared by the routes.

A report or a page of herds needs every sighting of the store grouped into herds: seconds
at a million sightings (bench/report.py). They only change when the store's data_version
moves (an observation created, edited or retracted, a herd decision, a survey), so each
process keeps the newest grouping and rebuilds it only then. One version per process: the
memory of one grouping, never a growing history.

Light to import (the app makes its dependency at start): pandas and the grouping load
with reports.herds on the first build.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from data.store import ObservationStore
from domain.seasons import SeasonCalendar

if TYPE_CHECKING:
    from reports.herds import HerdTables, ReportInputs


class HerdCache:
    """The newest (inputs, herds) of one store; concurrent requests wait for one build.

    With `keep` false nothing is kept: every call works the herds out again (the setting
    HERDWATCH_HERD_CACHE, for machines that cannot spare the memory). Builds still take
    turns then, so two reports at once never hold two groupings in memory.
    """

    def __init__(self, *, keep: bool = True) -> None:
        self._keep = keep
        self._lock = threading.Lock()
        self._key: tuple[Any, ...] | None = None
        self._value: tuple[ReportInputs, HerdTables] | None = None
        self.builds = 0  # how many times the herds were worked out (tests read it)

    def herds(
        self, store: ObservationStore, seasons: SeasonCalendar
    ) -> tuple[ReportInputs, HerdTables]:
        """The store's herds now: kept ones while the data are unchanged, else built anew."""
        from reports.herds import build_herds, load_inputs

        with self._lock:
            # Read inside the lock, so a request that waited sees what the one before it
            # kept; and before the data, so what is kept is never older than its key.
            key = (store.url, seasons, store.data_version())
            if self._key == key and self._value is not None:
                return self._value
            self._value = None  # let the old grouping go before the new one is built
            inputs = load_inputs(store, seasons=seasons)
            value = (inputs, build_herds(inputs))
            self.builds += 1
            if self._keep:
                self._key, self._value = key, value
            return value
