"""`herdwatch report`: one period on demand, and --due for a daily cron line."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from data.sqlite import SQLiteStore
from domain.seasons import SeasonCalendar
from field_api.cli import main
from reports.herds import build_herds, load_inputs
from reports.output import due_periods
from tests.reports.sample import sightings


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "h.db"
    store = SQLiteStore(str(path))
    store.migrate()
    store.add_observations(sightings(), actor="olga")
    store.close()
    return path


def run(db: Path, *args: str) -> int:
    return main(["--database-url", f"sqlite:///{db}", "report", *args])


def files(out: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}


def test_one_period_in_every_format(db: Path, tmp_path: Path):
    out = tmp_path / "out"
    assert (
        run(
            db,
            "--every",
            "year",
            "--period",
            "2024",
            "--out",
            str(out),
            "--format",
            "html,pdf,csv,gpkg",
        )
        == 0
    )
    names = sorted(p.name for p in (out / "year" / "2024").iterdir())
    assert names == [
        ".complete",
        "herdwatch-year-2024-composition.csv",
        "herdwatch-year-2024-effort.csv",
        "herdwatch-year-2024-herds.csv",
        "herdwatch-year-2024-herds.gpkg",
        "herdwatch-year-2024-summary.csv",
        "herdwatch-year-2024-surveys.csv",
        "herdwatch-year-2024-trend.csv",
        "herdwatch-year-2024-trend_counts.csv",
        "herdwatch-year-2024.html",
        "herdwatch-year-2024.pdf",
    ]


def test_due_writes_each_completed_period_once(db: Path, tmp_path: Path, capsys):
    out = tmp_path / "out"
    assert run(db, "--due", "--out", str(out), "--format", "csv") == 0
    written = files(out)
    folders = sorted(str(p.parent.relative_to(out)) for p in written if p.name == ".complete")
    assert folders == [
        "month/2023-07",
        "month/2024-07",
        "season/2023-post-calving",
        "season/2024-post-calving",
        "year/2023",
        "year/2024",
    ]
    capsys.readouterr()
    assert run(db, "--due", "--out", str(out), "--format", "csv") == 0
    assert files(out) == written  # the second run writes nothing
    assert "nothing written" in capsys.readouterr().out


def test_a_half_written_period_is_redone(db: Path, tmp_path: Path):
    out = tmp_path / "out"
    run(db, "--due", "--every", "year", "--out", str(out), "--format", "csv")
    (out / "year" / "2024" / ".complete").unlink()
    before = files(out)
    run(db, "--due", "--every", "year", "--out", str(out), "--format", "csv")
    after = files(out)
    changed = {p.parent.name for p in after if after[p] != before.get(p)}
    assert changed == {"2024"}


def test_periods_still_running_are_not_due(db: Path, tmp_path: Path):
    store = SQLiteStore(str(db))
    tables = build_herds(load_inputs(store))
    store.close()
    seasons = SeasonCalendar()
    assert due_periods(tmp_path, tables, seasons, everies=["year"], today=date(2024, 12, 31)) == [
        ("year", "2023")
    ]
    assert ("year", "2024") in due_periods(tmp_path, tables, seasons, today=date(2025, 1, 1))
    assert ("season", "2024-post-calving") not in due_periods(
        tmp_path, tables, seasons, today=date(2024, 9, 14)
    )


@pytest.mark.parametrize(
    "args",
    [
        ["--every", "year", "--period", "2024", "--format", "docx"],
        ["--every", "year", "--period", "24"],
        ["--every", "year"],
    ],
)
def test_bad_arguments_exit_2_with_a_message(db: Path, tmp_path: Path, capsys, args):
    assert run(db, *args, "--out", str(tmp_path / "out")) == 2
    assert "herdwatch report:" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_period_without_sightings_writes_nothing(db: Path, tmp_path: Path):
    assert run(db, "--every", "year", "--period", "1999", "--out", str(tmp_path / "out")) == 1
    assert not (tmp_path / "out").exists()
