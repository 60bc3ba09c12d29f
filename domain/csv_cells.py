"""CSV cells a spreadsheet cannot run (the OWASP rule against CSV formula injection).

A text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is read by Excel,
LibreOffice and Google Sheets as a formula (`=cmd|' /C calc'!A0`, `@SUM(...)`), so such a
cell is written with a leading apostrophe, which spreadsheets show as plain text. Numbers
are written as numbers: `-12.5` in a number column is a value, not a formula. Every CSV
Herdwatch writes goes through `safe_cell` (the API export, the report tables over HTTP
and from the command line).
"""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """`value` as a CSV cell that no spreadsheet evaluates; non-text values unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(values: list[Any]) -> list[Any]:
    return [safe_cell(v) for v in values]


def safe_columns(frame: Any) -> Any:
    """The columns of a pandas DataFrame with safe_cell applied to every value: one
    vectorised test per column of text (dtype "str"), safe_cell per value in the others
    (object columns may hold anything). A report's herd table has half a million cells."""
    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if column.dtype == "str":
            risky = column.str.startswith(FORMULA_STARTS)
            if risky.any():
                out[name] = column.mask(risky, "'" + column)
        else:
            out[name] = column.map(safe_cell)
    return out
