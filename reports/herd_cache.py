"""The store's herds, worked out once per version of the data and shared by the routes.

A report or a page of herds needs every sighting of the store grouped into herds: seconds
at a million sightings (bench/report.py). They only change when the store's data_version
moves (an observation created, edited or retracted, a herd decision, a survey), so each
process keeps the newest grouping and rebuilds it only then: after an upload, only the
time blocks it touched (reports.herd_update). One version per process: the memory of one
grouping, never a growing history (for the moment a regrouping splices a new one, or a
save writes the last one out, two). With a directory (`files`), the grouping is saved
there after it is built and a new process starts from the saved one (reports.herd_file).

What is made from the herds can be kept beside them until the data change (kept): a
report asked again of unchanged data is then its very bytes, not seconds of tables,
charts and PDF layout again. Few entries of each kind, so the memory stays bounded.

Light to import (the app makes its dependency at start): pandas and the grouping load
with reports.herds on the first build.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from data.store import ObservationStore
from domain.seasons import SeasonCalendar

if TYPE_CHECKING:
    from reports.herds import HerdTables, ReportInputs

T = TypeVar("T")
# Entries kept per kind (a name's first item): a computed report holds its period's herds
# (tens of MB at a million sightings), a rendered file one MB or less.
KEPT_PER_KIND = {"report": 2, "charts": 4}
KEPT_OTHERS = 32


class HerdCache:
    """The newest (inputs, herds) of one store; concurrent requests wait for one build.

    With `keep` false nothing is kept in memory: every call works the herds out again, or
    reads them from `files` (the setting HERDWATCH_HERD_CACHE, for machines that cannot
    spare the memory). Builds still take turns then, so two reports at once never build
    two groupings at once (a save of the last one may still be writing it out).
    """

    def __init__(self, *, keep: bool = True, files: Path | None = None) -> None:
        self._keep = keep
        self._files = files
        self._last_save = -math.inf
        self._saving: threading.Thread | None = None
        self._lock = threading.Lock()
        self._key: tuple[Any, ...] | None = None
        self._value: tuple[ReportInputs, HerdTables] | None = None
        self._kept: OrderedDict[Hashable, Any] = OrderedDict()  # for self._key only
        self.builds = 0  # how many times the herds were worked out (tests read it)
        self.updates = 0  # how many of those regrouped only the changed time blocks
        self.loaded = 0  # how many times a saved grouping was read (from `files`)
        self.save_error: str | None = None  # why the last save failed, if it did
        self.made = 0  # how many kept things were made (tests read it)

    def herds(
        self, store: ObservationStore, seasons: SeasonCalendar
    ) -> tuple[ReportInputs, HerdTables]:
        """The store's herds now: kept ones while the data are unchanged, else built anew."""
        return self._current(store, seasons)[1]

    def kept(
        self,
        store: ObservationStore,
        seasons: SeasonCalendar,
        name: tuple[Hashable, ...],
        make: Callable[[ReportInputs, HerdTables], T],
    ) -> T:
        """What `make` makes of the current herds, made once per version of the data and
        `name` (which must name everything the result depends on besides the herds). An
        exception is not kept. Two requests at once may both make it: the herd lock is
        not held meanwhile, so maps and other reports go on."""
        key, (inputs, tables) = self._current(store, seasons)
        if not self._keep:
            return make(inputs, tables)
        with self._lock:
            if self._key == key and name in self._kept:
                self._kept.move_to_end(name)
                return self._kept[name]
        made = make(inputs, tables)
        with self._lock:
            self.made += 1
            if self._key == key:  # the data did not change meanwhile
                self._kept[name] = made
                self._trim(name[0])
        return made

    def _trim(self, kind: Hashable) -> None:
        """Drop the least recently used entries of a kind beyond its allowance."""
        limit = KEPT_PER_KIND.get(kind, KEPT_OTHERS)  # type: ignore[call-overload]
        same = [n for n in self._kept if n[0] == kind]  # type: ignore[index]
        for name in same[: max(0, len(same) - limit)]:
            del self._kept[name]

    def _current(
        self, store: ObservationStore, seasons: SeasonCalendar
    ) -> tuple[tuple[Any, ...], tuple[ReportInputs, HerdTables]]:
        from reports.herds import build_herds, load_inputs

        with self._lock:
            # Read inside the lock, so a request that waited sees what the one before it
            # kept; and before the data, so what is kept is never older than its key.
            key = (store.url, seasons, store.data_version())
            if self._key == key and self._value is not None:
                return key, self._value
            old = self._value if self._key is not None and self._key[:2] == key[:2] else None
            # Let what was made of the old grouping go now; the grouping itself goes before
            # a full build, or once the changed blocks are regrouped (reports.herd_update).
            self._key, self._value = None, None
            self._kept.clear()
            store.prepare_sighting_reads()  # the regrouping's reads, ready after the load
            if old is None:
                old = self._saved(store, seasons)
            value, how = self._brought_up(store, old, key[2])
            del old
            if value is None:
                inputs = load_inputs(store, seasons=seasons)
                value, how = (inputs.kept(), build_herds(inputs)), "built"
                del inputs  # the sighting columns the herd tables do not keep go now
            release_freed_memory()
            self.builds += how != "saved"
            self.updates += how == "updated"
            if self._keep:
                self._key, self._value = key, value
            self._save_meanwhile(store, value, how)
            return key, value

    def _saved(
        self, store: ObservationStore, seasons: SeasonCalendar
    ) -> tuple[ReportInputs, HerdTables] | None:
        """The grouping saved in `files` (by this process or another), if it can be used."""
        if self._files is None:
            return None
        from reports.herd_file import load

        try:
            loaded = load(self._files, store, seasons)
        except Exception:  # a saved grouping is an optimisation: never the request's failure
            log.warning("the saved herd grouping in %s was not read", self._files, exc_info=True)
            return None
        self.loaded += loaded is not None
        return loaded

    @staticmethod
    def _brought_up(
        store: ObservationStore, old: tuple[ReportInputs, HerdTables] | None, version: Any
    ) -> tuple[tuple[ReportInputs, HerdTables] | None, str]:
        """The old grouping at `version`: as it is, regrouped where the data changed, or
        None (build it all)."""
        from reports.herd_update import updated_herds

        if old is None:
            return None, "built"
        if old[0].data_version == version:
            return old, "saved"
        return updated_herds(store, *old, version), "updated"

    def _save_meanwhile(
        self, store: ObservationStore, value: tuple[ReportInputs, HerdTables], how: str
    ) -> None:
        """Save a new grouping on a thread of its own (the request goes on): every full
        build, and an updated one every SAVE_UPDATES_EVERY_S at most (a saved grouping
        some uploads old is brought up to date by a regrouping of their blocks)."""
        if self._files is None or how == "saved":
            return
        now = time.monotonic()
        if how == "updated" and now - self._last_save < SAVE_UPDATES_EVERY_S:
            return
        if self._saving is not None and self._saving.is_alive():
            return  # the one being saved is brought up to date in turn by the next process
        from reports.herd_file import describe

        self._last_save = now
        try:
            pointer = describe(store, *value)
        except Exception:  # as in _saved: the request has its herds, the next one saves
            log.warning("the herd grouping was not saved to %s", self._files, exc_info=True)
            return
        # Not a daemon: a command's process (herdwatch report) finishes the file first.
        self.save_error = None
        self._saving = threading.Thread(
            target=self._write,
            args=(self._files, pointer, value[1]),
            name="herdwatch-herd-file",
            daemon=False,  # explicit: a thread started from a daemon one would be a daemon
        )
        self._saving.start()

    def _write(self, files: Path, pointer: dict[str, Any], tables: HerdTables) -> None:
        from reports.herd_file import write

        try:
            write(files, pointer, tables)
        except Exception as error:  # a full disk, a read-only folder: not the request's
            self.save_error = str(error) or type(error).__name__
            log.warning("the herd grouping was not saved to %s: %s", files, error)

    def wait_for_save(self) -> None:
        """Until the grouping being saved is on disk (tests, benchmarks)."""
        if self._saving is not None:
            self._saving.join()


SAVE_UPDATES_EVERY_S = 300.0
log = logging.getLogger(__name__)


def release_freed_memory() -> None:
    """Give the memory freed by a build back to the system. The build's temporaries (Arrow
    tables, candidate pairs) leave glibc's heap holding free pages: at a million sightings
    the process kept about 0.3 GB more than the grouping itself until trimmed."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        trim = getattr(libc, "malloc_trim", None)  # glibc only
    except OSError:
        return
    if trim is not None:
        trim(0)
