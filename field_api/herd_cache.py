"""The store's herds, worked out once per version of the data and shared by the routes.

A report or a page of herds needs every sighting of the store grouped into herds: seconds
at a million sightings (bench/report.py). They only change when the store's data_version
moves (an observation created, edited or retracted, a herd decision, a survey), so each
process keeps the newest grouping and rebuilds it only then. One version per process: the
memory of one grouping, never a growing history.
"""

from __future__ import annotations

import threading
from typing import Annotated, Any

from fastapi import Depends, Request

from data.seasons import SeasonCalendar
from data.store import ObservationStore
from reports.herds import HerdTables, ReportInputs, build_herds, load_inputs


class HerdCache:
    """The newest (inputs, herds) of one store; concurrent requests wait for one build."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[Any, ...] | None = None
        self._value: tuple[ReportInputs, HerdTables] | None = None
        self.builds = 0  # how many times the herds were worked out (tests read it)

    def herds(
        self, store: ObservationStore, seasons: SeasonCalendar
    ) -> tuple[ReportInputs, HerdTables]:
        # The version is read before the data: what is kept is never older than its key.
        key = (store.url, seasons, store.data_version())
        with self._lock:
            if self._key != key or self._value is None:
                inputs = load_inputs(store, seasons=seasons)
                self._value = (inputs, build_herds(inputs))
                self._key = key
                self.builds += 1
            return self._value


async def get_herd_cache(request: Request) -> HerdCache:
    """The app's cache, made on first use (async: on the event loop, so made once)."""
    state = request.app.state
    if getattr(state, "herd_cache", None) is None:
        state.herd_cache = HerdCache()
    cache: HerdCache = state.herd_cache
    return cache


HerdCacheDep = Annotated[HerdCache, Depends(get_herd_cache)]
