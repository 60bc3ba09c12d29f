"""The report's map drawn in a helper process (reports.chart_process): the same PNG bytes
as drawn in-process, and a report that never fails, hangs or leaves a process behind for
want of the helper."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reports import chart_process
from reports.charts import render_charts
from reports.population import PopulationReport, build_population_report
from tests.reports.sample import demo_store

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> PopulationReport:
    store = demo_store(tmp_path_factory.mktemp("charts") / "demo.db", per_survey=8)
    made = build_population_report(store, "year", "2024")
    store.close()
    return made


@pytest.fixture
def helper() -> Iterator[None]:
    chart_process.configure(enabled=True)
    assert chart_process.wait_until_ready(), "the helper process did not start"
    yield
    chart_process.configure(enabled=False)  # the default: other tests draw in-process


@pytest.fixture(scope="module")
def drawn_here(report: PopulationReport) -> dict[str, bytes]:
    chart_process.configure(enabled=False)
    return render_charts(report)


def test_the_helper_draws_the_very_bytes_drawn_here(
    report: PopulationReport, drawn_here: dict[str, bytes], helper: None
):
    before = chart_process.drawn_apart
    images = render_charts(report)
    assert chart_process.drawn_apart == before + 1  # the map came from the helper
    assert list(images) == ["counts", "trend", "composition", "map"]
    assert images == drawn_here
    assert images["map"].startswith(b"\x89PNG")


def test_a_killed_helper_costs_the_report_nothing(
    report: PopulationReport, drawn_here: dict[str, bytes], helper: None
):
    pid = chart_process.helper_pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    before = chart_process.drawn_apart
    assert render_charts(report) == drawn_here  # drawn here instead
    assert chart_process.drawn_apart == before
    assert chart_process.wait_until_ready()  # and a new helper starts next time
    assert chart_process.helper_pid() not in (None, pid)
    assert render_charts(report) == drawn_here
    assert chart_process.drawn_apart == before + 1


def test_a_hung_helper_is_given_up_on_and_killed(
    report: PopulationReport,
    drawn_here: dict[str, bytes],
    helper: None,
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setattr(chart_process, "RESULT_TIMEOUT_S", 1.0)
    pid = chart_process.helper_pid()
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)  # hangs: it takes the map and never answers
    began = time.monotonic()
    assert render_charts(report) == drawn_here
    assert time.monotonic() - began < 30
    _wait_gone(pid, seconds=10)  # killed, not left running
    assert chart_process.wait_until_ready()  # the next report has a new helper
    before = chart_process.drawn_apart
    assert render_charts(report) == drawn_here
    assert chart_process.drawn_apart == before + 1


def test_a_busy_helper_is_not_queued_for(report: PopulationReport, helper: None):
    pid = chart_process.helper_pid()
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)  # still drawing the first map
    try:
        first = chart_process.map_png_apart(report, "en")
        assert first is not None
        assert chart_process.map_png_apart(report, "en") is None  # the caller draws it
    finally:
        os.kill(pid, signal.SIGCONT)
    png = chart_process.result_or_none(first)
    assert png is not None and png.startswith(b"\x89PNG")
    second = chart_process.map_png_apart(report, "en")  # free again
    assert second is not None
    assert chart_process.result_or_none(second) == png


def test_ctrl_c_is_left_to_the_worker(report: PopulationReport, helper: None):
    pid = chart_process.helper_pid()
    assert pid is not None
    os.kill(pid, signal.SIGINT)  # what a terminal's Ctrl-C sends the whole process group
    time.sleep(0.5)
    assert chart_process.helper_pid() == pid and _alive(pid)
    before = chart_process.drawn_apart
    render_charts(report)
    assert chart_process.drawn_apart == before + 1


def test_a_helper_still_starting_is_not_waited_for(
    report: PopulationReport, drawn_here: dict[str, bytes]
):
    chart_process.configure(enabled=True)
    try:
        chart_process.start_meanwhile()  # spawning: its imports take a second or more
        before = chart_process.drawn_apart
        assert render_charts(report) == drawn_here
        assert chart_process.drawn_apart == before
    finally:
        chart_process.configure(enabled=False)


def test_switched_off_no_process_is_started(report: PopulationReport):
    chart_process.configure(enabled=False)
    chart_process.start_meanwhile()
    assert chart_process.helper_pid() is None
    assert not chart_process.wait_until_ready(timeout=1)
    assert render_charts(report)["map"].startswith(b"\x89PNG")


# What `herdwatch report` does: charts drawn with nothing turned on.
_CLI_LIKE = """
import sys
from pathlib import Path
from reports import chart_process
from reports.charts import render_charts
from reports.population import build_population_report
from tests.reports.sample import demo_store
store = demo_store(Path(sys.argv[1]), per_survey=2)
render_charts(build_population_report(store, "year", "2024"))
print(chart_process.helper_pid(), chart_process.drawn_apart)
"""


def test_outside_the_server_no_helper_is_started(tmp_path: Path):
    out = _run(_CLI_LIKE, tmp_path, str(tmp_path / "demo.db"))
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["None", "0"]


# A worker that starts the helper, prints its pid and is then killed outright.
_KILLED_WORKER = """
import os, signal
from reports import chart_process
chart_process.configure(enabled=True)
assert chart_process.wait_until_ready(timeout=120)
print(chart_process.helper_pid(), flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_the_helper_exits_when_its_worker_is_killed(tmp_path: Path):
    done = _run(_KILLED_WORKER, tmp_path)
    assert done.returncode == -signal.SIGKILL, done.stderr
    helper = int(done.stdout.split()[0])
    _wait_gone(helper, seconds=10 * chart_process.PARENT_POLL_S + 5)


def _run(script: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The script in a Python process of its own, from the repository root."""
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    # Files, not pipes: an orphaned helper would hold a pipe open and the run never end.
    with out.open("w") as stdout, err.open("w") as stderr:
        done = subprocess.run(
            [sys.executable, "-c", script, *args],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=stdout,
            stderr=stderr,
            timeout=180,
        )
    return subprocess.CompletedProcess(done.args, done.returncode, out.read_text(), err.read_text())


def _wait_gone(pid: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(pid), f"helper {pid} is still running"


def _alive(pid: int) -> bool:
    """Whether pid runs (a zombie, exited but not yet reaped, counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_command_uses_the_helper_for_its_run_then_stops_it(report: PopulationReport):
    """`herdwatch report` (chart_process.used): the map drawn apart, no helper after."""
    chart_process.configure(enabled=False)
    with chart_process.used(enabled=True):
        assert chart_process.wait_until_ready(), "the helper process did not start"
        pid = chart_process.helper_pid()
        drawn = chart_process.drawn_apart
        render_charts(report)
        assert chart_process.drawn_apart == drawn + 1
    assert chart_process.helper_pid() is None
    assert pid is not None
    _wait_gone(pid, seconds=10)
    with chart_process.used(enabled=False):
        assert chart_process.helper_pid() is None  # switched off: nothing started


def test_a_command_leaves_a_workers_helper_running(report: PopulationReport, helper: None):
    pid = chart_process.helper_pid()
    with chart_process.used(enabled=True):
        render_charts(report)
    assert chart_process.helper_pid() == pid  # the served worker's, as it was
