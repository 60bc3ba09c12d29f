"""The report's map drawn in a process of its own while this one draws the other charts.

matplotlib holds the GIL while it draws, so a thread gains nothing (measured: 1.06 s on two
threads against 1.09 s on one); a second process does. At a million sightings the herd map
is the costliest figure (0.7-0.9 s on a slow core: tens of thousands of markers) and the
other three together cost about as much, so the two halves take one core each and the
charts take half the time (docs/benchmarks.md). The PNG bytes are the ones drawn here: the
same code, library and settings in both processes (a test holds them equal).

The helper is one process per server worker, spawned (never forked: a worker has threads
and open database connections) once the first report's herds are built (or at the start
of a worker with HERDWATCH_PRELOAD), so its imports take the core the tables and the
charts leave free; a worker's first report draws its map itself, the later ones (after a
data change too) in the helper. It holds matplotlib and the boundaries and
nothing of the store. Anything wrong with it (it died, it cannot start, a pickling error)
and the map is drawn here as before: a report never fails for want of the helper.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reports.population import PopulationReport

# What the map draws of the period's herds: only these go to the helper (a tenth of the
# report's pickled bytes at a million sightings).
MAP_COLUMNS = ("x", "y", "size", "population")

RESULT_TIMEOUT_S = 120.0  # a helper that takes longer is given up on: the map is drawn here
PARENT_POLL_S = 1.0  # how often the helper looks whether its worker is still there

_LOCK = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_ready: Future[None] | None = None  # done once the helper has imported what it needs
_enabled = True
drawn_apart = 0  # maps the helper drew (tests and the bench read it)


def configure(*, enabled: bool) -> None:
    """Use the helper process or not (the setting HERDWATCH_CHART_PROCESS)."""
    global _enabled
    with _LOCK:
        _enabled = enabled
    if not enabled:
        shutdown()


def start_meanwhile() -> None:
    """Start the helper and its imports now, if it is used and not started yet."""
    _helper()


def map_png_apart(report: PopulationReport, lang: str) -> Future[bytes] | None:
    """The report's map as PNG bytes, being drawn in the helper; None when it is not used,
    is still starting (drawing here is then sooner) or cannot take the work: the caller
    then draws the map itself."""
    pool = _helper()
    if pool is None or _ready is None or not _ready.done() or _ready.exception() is not None:
        return None
    slim = replace(report, herds=report.herds.loc[:, list(MAP_COLUMNS)])
    try:
        return pool.submit(_map_png, slim, lang)
    except RuntimeError:  # broken or shut down meanwhile
        _forget(pool)
        return None


def result_or_none(future: Future[bytes] | None) -> bytes | None:
    """The helper's PNG, or None if it failed (the pool is then started anew next time)."""
    global drawn_apart
    if future is None:
        return None
    try:
        png = future.result(timeout=RESULT_TIMEOUT_S)
    except Exception:  # noqa: BLE001  (any failure there: the map is drawn here instead)
        _forget(None)
        return None
    drawn_apart += 1
    return png


def wait_until_ready(timeout: float = 60.0) -> bool:
    """Start the helper and wait for its imports (tests, the bench): whether it is ready."""
    _helper()
    ready = _ready
    if ready is None:
        return False
    try:
        ready.result(timeout=timeout)
    except Exception:  # noqa: BLE001  (a helper that cannot start is simply not used)
        return False
    return True


def helper_pid() -> int | None:
    """The helper process's id while it runs (tests kill it; the bench reads its CPU)."""
    with _LOCK:
        pool = _pool
    processes = getattr(pool, "_processes", None) or {}
    return next(iter(processes), None)


def shutdown() -> None:
    """Stop the helper (tests; the app at exit)."""
    _forget(None)


def _helper() -> ProcessPoolExecutor | None:
    global _pool, _ready
    with _LOCK:
        if not _enabled:
            return None
        if _pool is None:
            context = multiprocessing.get_context("spawn")
            _pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=context,
                initializer=_exit_with_parent,
                initargs=(os.getpid(),),
            )
            # Spawns the process now: its imports overlap what the worker does next.
            _ready = _pool.submit(_warm)
        return _pool


def _forget(pool: ProcessPoolExecutor | None) -> None:
    """Drop the helper (the one given, or whichever is current)."""
    global _pool, _ready
    with _LOCK:
        current = _pool
        if current is None or (pool is not None and pool is not current):
            return
        _pool, _ready = None, None
    current.shutdown(wait=False, cancel_futures=True)


def _exit_with_parent(parent: int) -> None:
    """In the helper: exit once the worker that started it is gone. A worker killed
    outright (kill -9, the OOM killer) never tells it, and it would wait on its pipe for
    work for ever, holding its memory (seen: one orphan per killed worker)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_S)
        os._exit(0)

    threading.Thread(target=watch, name="herdwatch-parent-watch", daemon=True).start()


def _warm() -> None:
    """In the helper: import the charts and read the boundaries before any work arrives."""
    from reports import charts

    charts.warm()


def _map_png(report: PopulationReport, lang: str) -> bytes:
    """In the helper: the map as render_charts draws it."""
    from domain.i18n import translator
    from reports import charts

    return charts.png_of(charts.map_figure(report, translator(lang)))
