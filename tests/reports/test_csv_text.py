"""reports.csv_text writes what pandas' to_csv writes after domain.csv_cells.safe_columns,
byte for byte, on awkward values and on every table of a report."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from domain.csv_cells import safe_columns
from reports.csv_text import safe_csv
from reports.formats import CSV_TABLES
from reports.population import build_population_report
from reports.tables import csv_frame
from tests.reports.sample import demo_store

AWKWARD_TEXT = [
    "plain",
    "with, comma",
    'a "quoted" word',
    "two\nlines",
    "=cmd|' /C calc'!A0",
    "+1",
    "-2",
    "@SUM(A1)",
    "\ttab first",
    "",
    " leading space",
    "Лено-Оленёкская",
    "'already quoted",
    None,
]


def pandas_csv(frame: pd.DataFrame) -> str:
    """The reference: what to_csv wrote before reports.csv_text."""
    words = frame.select_dtypes(include=["object", "string"]).columns
    frame = frame.copy()
    frame[words] = safe_columns(frame[words])
    return str(frame.to_csv(index=False))


def awkward_frame() -> pd.DataFrame:
    n = len(AWKWARD_TEXT)
    floats = [0.1, 1e16, 123.0, -0.0, np.nan, 2.5e-7, np.inf, 1 / 3, 69.81313, -1.5]
    return pd.DataFrame(
        {
            "text": pd.array(AWKWARD_TEXT, dtype="str"),
            "object text": pd.Series(AWKWARD_TEXT, dtype=object),
            "whole": np.arange(n, dtype=np.int64) * -7,
            "nullable, whole": pd.array([None if k % 3 else k for k in range(n)], dtype="Int64"),
            "real": np.resize(np.array(floats), n),
            "flag": np.arange(n) % 2 == 0,
            '"quoted" header': pd.Series(np.arange(n, dtype=np.int32)),
        }
    )


def test_awkward_values_are_written_as_pandas_writes_them() -> None:
    frame = awkward_frame()
    written = safe_csv(frame)
    assert written == pandas_csv(frame)
    rows = list(csv.reader(io.StringIO(written)))
    assert rows[0][0] == "text" and rows[0][-1] == '"quoted" header'
    assert rows[4][0] == "two\nlines"  # a line break inside a quoted cell, read back whole
    assert rows[5][0] == "'=cmd|' /C calc'!A0"  # a formula made plain text
    assert rows[6][:2] == ["'+1", "'+1"]
    assert rows[14][0] == "" and rows[14][3] == ""  # missing text, missing number


def test_a_carriage_return_is_quoted_and_read_back_whole() -> None:
    frame = pd.DataFrame({"note": ["carriage\rreturn", "\rfirst"], "n": [1, 2]})
    written = safe_csv(frame)
    assert written == 'note,n\n"carriage\rreturn",1\n"\'\rfirst",2\n'
    rows = list(csv.reader(io.StringIO(written, newline="")))
    assert rows == [["note", "n"], ["carriage\rreturn", "1"], ["'\rfirst", "2"]]


def test_a_frame_without_rows_is_its_header() -> None:
    frame = awkward_frame().iloc[:0]
    assert safe_csv(frame) == pandas_csv(frame)


@pytest.mark.parametrize(
    "column",
    [
        pd.Series([1, "two", None], dtype=object),  # mixed object column
        pd.Series(pd.to_datetime(["2024-03-04", None, "2025-01-01"])),
        pd.array([0.5, None, 2.0], dtype="Float64"),
    ],
)
def test_other_kinds_go_through_pandas(column: object) -> None:
    frame = pd.DataFrame({"a": column, "b": ["x", "=y", "z"]})
    assert safe_csv(frame) == pandas_csv(frame)


def test_one_column_writes_an_empty_cell_as_csv_does() -> None:
    frame = pd.DataFrame({"a": pd.array(["x", "", None], dtype="str")})
    assert safe_csv(frame) == pandas_csv(frame) == 'a\nx\n""\n""\n'


def test_every_report_table_as_pandas_writes_it(tmp_path: Path) -> None:
    store = demo_store(tmp_path / "demo.db", per_survey=15)
    report = build_population_report(store, "year", "2024")
    store.close()
    for table in CSV_TABLES:
        frame = csv_frame(report, table)
        assert safe_csv(frame) == pandas_csv(frame), table
    assert len(csv_frame(report, "herds")) > 20


def test_floats_of_every_magnitude_as_pandas_writes_them() -> None:
    rng = np.random.default_rng(7)
    mantissa = rng.uniform(-10, 10, 20_000)
    values = np.concatenate(
        [
            mantissa * 10.0 ** rng.integers(-30, 30, len(mantissa)),
            np.round(mantissa * 1e5) / 1e5,  # coordinates to five places
            np.round(mantissa * 1e4),  # whole numbers as floats: "123.0"
            [1e15, 1e15 - 1, 9.999999999999998e14, 1e16, 1e-4, 9.9999e-5, 0.0, -0.0],
            [np.nan, np.inf, -np.inf, 5e-324, 1.7976931348623157e308],
        ]
    )
    frame = pd.DataFrame({"v": values, "w": values[::-1]})
    assert safe_csv(frame) == pandas_csv(frame)
