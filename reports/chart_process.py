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
data change too) in the helper. It holds matplotlib and the boundaries and nothing of the
store. Served workers use it (field_api/app.py turns it on), and `herdwatch report` for
its run (`used`); the other commands draw in one process. A map asked for while the
helper draws another report's is drawn here. Anything wrong with the helper (it died, it
cannot start, a pickling error) and the map is drawn here as before: a report never fails
for want of it. A helper that hangs costs that one report RESULT_TIMEOUT_S and is killed.
"""

from __future__ import annotations

import atexit
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

    from reports.population import PopulationReport

# What the map draws of the period's herds: only these go to the helper (a tenth of the
# report's pickled bytes at a million sightings).
MAP_COLUMNS = ("x", "y", "size", "population")

RESULT_TIMEOUT_S = 30.0  # a helper that takes longer (the map takes about a second) is
# given up on and killed: the map is drawn here
PARENT_POLL_S = 1.0  # how often the helper looks whether its worker is still there


@dataclass
class _Helper:
    """One helper process: its pool, whether its imports are done, the maps it is drawing."""

    pool: ProcessPoolExecutor
    ready: Future[None]  # done once the helper has imported what it needs
    busy: int = 0  # maps sent and not yet collected


@dataclass(frozen=True)
class Drawing:
    """A map being drawn in a helper (what map_png_apart hands to result_or_none)."""

    helper: _Helper
    future: Future[bytes]


_LOCK = threading.Lock()
_current: _Helper | None = None
_enabled = False  # the served app turns it on (field_api/app.py); the CLI draws in-process
drawn_apart = 0  # maps the helper drew (tests and the bench read it)


def configure(*, enabled: bool) -> None:
    """Use the helper process or not (the setting HERDWATCH_CHART_PROCESS)."""
    global _enabled
    with _LOCK:
        _enabled = enabled
    if not enabled:
        shutdown()


@contextmanager
def used(*, enabled: bool) -> Iterator[None]:
    """The helper on (if enabled) for one command's run, started now so its imports
    overlap the command's read of the herds; as it was before, after the run (stopped if
    it was off): `herdwatch report` draws its maps meanwhile too."""
    with _LOCK:
        before = _enabled
    configure(enabled=enabled or before)
    start_meanwhile()
    try:
        yield
    finally:
        configure(enabled=before)


def start_meanwhile() -> None:
    """Start the helper and its imports now, if it is used and not started yet."""
    _helper()


def map_png_apart(report: PopulationReport, lang: str) -> Drawing | None:
    """The report's map as PNG bytes, being drawn in the helper; None when it is not used,
    is still starting, is drawing another report's map (drawing here is then sooner) or
    cannot take the work: the caller then draws the map itself."""
    helper = _helper()
    if helper is None or not _idle_and_ready(helper):
        return None
    slim = replace(report, herds=report.herds.loc[:, list(MAP_COLUMNS)])
    try:
        future = helper.pool.submit(_map_png, slim, lang)
    except RuntimeError:  # broken or shut down meanwhile
        _release(helper)
        _forget(helper)
        return None
    return Drawing(helper, future)


def result_or_none(drawing: Drawing | None) -> bytes | None:
    """The helper's PNG, or None if it failed or took too long (that helper is then
    stopped, and a new one started next time)."""
    global drawn_apart
    if drawing is None:
        return None
    try:
        png = drawing.future.result(timeout=RESULT_TIMEOUT_S)
    except Exception:  # noqa: BLE001  (any failure there: the map is drawn here instead)
        _forget(drawing.helper)
        return None
    finally:
        _release(drawing.helper)
    with _LOCK:
        drawn_apart += 1
    return png


def wait_until_ready(timeout: float = 60.0) -> bool:
    """Start the helper and wait for its imports (tests, the bench): whether it is ready."""
    helper = _helper()
    if helper is None:
        return False
    try:
        helper.ready.result(timeout=timeout)
    except Exception:  # noqa: BLE001  (a helper that cannot start is simply not used)
        return False
    return True


def helper_pid() -> int | None:
    """The helper process's id while it runs (tests kill it; the bench reads its CPU)."""
    with _LOCK:
        helper = _current
    processes = getattr(helper.pool, "_processes", None) if helper else None
    return next(iter(processes or {}), None)


def shutdown() -> None:
    """Stop the helper (configure(enabled=False); the app at exit)."""
    with _LOCK:
        helper = _current
    if helper is not None:
        _forget(helper)


# Stopped before the interpreter tears its modules down: a pool collected after that
# logged "Exception ignored … weakref_cb" at the end of a test run.
atexit.register(shutdown)


def _helper() -> _Helper | None:
    global _current
    with _LOCK:
        if not _enabled:
            return None
        if _current is None:
            # Imported here: a worker that never makes a report never loads multiprocessing.
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            context = multiprocessing.get_context("spawn")
            pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=context,
                initializer=_in_helper,
                initargs=(os.getpid(),),
            )
            # Spawns the process now: its imports overlap what the worker does next.
            _current = _Helper(pool, pool.submit(_warm))
        return _current


def _idle_and_ready(helper: _Helper) -> bool:
    """Take the helper for one map if its imports are done and it draws no other."""
    if not helper.ready.done() or helper.ready.exception() is not None:
        return False
    with _LOCK:
        if helper.busy:
            return False
        helper.busy += 1
        return True


def _release(helper: _Helper) -> None:
    with _LOCK:
        helper.busy -= 1


def _forget(helper: _Helper) -> None:
    """Stop this helper (if it is still the current one, the next map starts another).

    Its process is killed, not asked: a hung map would never end, and the pool's
    shutdown waits for the task it runs (a worker then could not exit)."""
    global _current
    with _LOCK:
        if _current is helper:
            _current = None
    for process in list((getattr(helper.pool, "_processes", None) or {}).values()):
        process.kill()
    helper.pool.shutdown(wait=True, cancel_futures=True)


def _in_helper(parent: int) -> None:
    """In the helper, first: leave Ctrl-C to the worker (the terminal sends it to the whole
    process group, and the helper printed a KeyboardInterrupt traceback), and exit once the
    worker that started it is gone. A worker killed outright (kill -9, the OOM killer)
    never tells it, and it would wait on its pipe for work for ever, holding its memory
    (seen: one orphan per killed worker)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

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
