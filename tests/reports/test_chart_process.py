"""The report's map drawn in a helper process (reports.chart_process): the same PNG bytes
as drawn in-process, and a report that never fails for want of the helper."""

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
    chart_process.configure(enabled=True)


@pytest.fixture(scope="module")
def drawn_here(report: PopulationReport) -> dict[str, bytes]:
    chart_process.configure(enabled=False)
    try:
        return render_charts(report)
    finally:
        chart_process.configure(enabled=True)


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


def test_a_helper_still_starting_is_not_waited_for(
    report: PopulationReport, drawn_here: dict[str, bytes]
):
    chart_process.shutdown()
    chart_process.start_meanwhile()  # spawning: its imports take a second or more
    before = chart_process.drawn_apart
    assert render_charts(report) == drawn_here
    assert chart_process.drawn_apart == before


def test_switched_off_no_process_is_started(report: PopulationReport):
    chart_process.configure(enabled=False)
    try:
        chart_process.start_meanwhile()
        assert chart_process.helper_pid() is None
        assert not chart_process.wait_until_ready(timeout=1)
        assert render_charts(report)["map"].startswith(b"\x89PNG")
    finally:
        chart_process.configure(enabled=True)


# A worker that starts the helper, prints its pid and is then killed outright.
_KILLED_WORKER = """
import os, signal, sys
from reports import chart_process
assert chart_process.wait_until_ready(timeout=120)
print(chart_process.helper_pid(), flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_the_helper_exits_when_its_worker_is_killed(tmp_path):
    root = Path(__file__).resolve().parents[2]
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    # Files, not pipes: an orphaned helper holds them open and a pipe would never end.
    with out.open("w") as stdout, err.open("w") as stderr:
        done = subprocess.run(
            [sys.executable, "-c", _KILLED_WORKER],
            cwd=root,
            env={**os.environ, "PYTHONPATH": str(root)},
            stdout=stdout,
            stderr=stderr,
            timeout=180,
        )
    assert done.returncode == -signal.SIGKILL, err.read_text()
    helper = int(out.read_text().split()[0])
    deadline = time.monotonic() + 10 * chart_process.PARENT_POLL_S + 5
    while _alive(helper) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(helper), f"helper {helper} outlived its killed worker"


def _alive(pid: int) -> bool:
    """Whether pid runs (a zombie, exited but not yet reaped by init, counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
