"""CSV formula injection: every CSV Herdwatch writes, read back as a spreadsheet reads it.

A spreadsheet takes a cell that parses as a number as a number, and evaluates a text cell
that starts with =, +, -, @, tab or CR. Sightings carrying such texts in every text field
go through the API export, the report tables over HTTP and `herdwatch report` on the
command line; no text cell in any of them may start with one, and the texts are still
there, behind the apostrophe.
"""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from pathlib import Path

from data.sqlite import SQLiteStore
from domain.csv_cells import FORMULA_STARTS
from field_api.cli import main
from reports.formats import CSV_TABLES
from tests.conftest import Clients
from tests.factories import make_observation

PAYLOADS = {
    "notes": "=cmd|' /C calc'!A0",
    "behaviour": "@SUM(1+1)*cmd|' /C calc'!A0",
    "device_id": "+1+cmd|' /C calc'!A0",
    "survey_id": "-2+3+cmd:calc",
}


def _hostile() -> list:  # type: ignore[type-arg]
    base = [make_observation(n) for n in range(6)]
    return [replace(o, **PAYLOADS) if n % 2 else o for n, o in enumerate(base)]


def spreadsheet_cells(text: str) -> list[str]:
    """The text cells of a CSV as a spreadsheet types them (numbers are not text)."""
    cells = []
    for row in csv.reader(io.StringIO(text)):
        for cell in row:
            try:
                float(cell)
            except ValueError:
                cells.append(cell)
    return cells


def assert_no_formula(text: str, where: str) -> list[str]:
    cells = spreadsheet_cells(text)
    formulas = [c for c in cells if c.startswith(FORMULA_STARTS)]
    assert formulas == [], f"{where}: {formulas[:5]}"
    return cells


def test_the_observation_export_has_no_formula(sqlite_api: Clients) -> None:
    sqlite_api.store.add_observations(_hostile(), actor='=HYPERLINK("http://x")')
    text = sqlite_api.researcher.get("/api/v1/observations.csv").text
    cells = assert_no_formula(text, "observations.csv")
    for payload in PAYLOADS.values():
        assert "'" + payload in cells  # kept, as text
    assert "'=cmd|' /C calc'!A0" in cells


def test_the_report_tables_over_http_have_no_formula(sqlite_api: Clients) -> None:
    sqlite_api.store.add_observations(_hostile(), actor="olga")
    seen = 0
    for table in CSV_TABLES:
        response = sqlite_api.researcher.get(
            "/api/v1/reports",
            params={"every": "year", "period": "2024", "format": "csv", "table": table},
        )
        assert response.status_code == 200, (table, response.text[:200])
        cells = assert_no_formula(response.text, f"report {table}")
        seen += sum(c.startswith("'") for c in cells)
    assert seen > 0  # the survey ids reached the tables, neutralised


def test_the_report_tables_from_the_command_line_have_no_formula(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    store = SQLiteStore(str(path))
    store.migrate()
    store.add_observations(_hostile(), actor="olga")
    store.close()
    out = tmp_path / "out"
    url = f"sqlite:///{path}"
    argv = ["--database-url", url, "report", "--every", "year", "--period", "2024"]
    assert main([*argv, "--out", str(out), "--format", "csv"]) == 0
    written = sorted(out.rglob("*.csv"))
    assert len(written) >= len(CSV_TABLES) - 1  # estimates only with strip transects
    seen = 0
    for csv_file in written:
        cells = assert_no_formula(csv_file.read_text(), csv_file.name)
        seen += sum(c.startswith("'") for c in cells)
    assert seen > 0
