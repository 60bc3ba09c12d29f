"""A report table as CSV text, formatted column by column in Arrow (C) rather than cell by
cell through Python's csv module: the herds table of a year at a million sightings (46,585
herds, 1.2 million cells) took 0.80 s in pandas' to_csv, 0.19 s here.

The text is byte for byte what `safe_columns(frame).to_csv(index=False)` writes (held
equal by tests/reports/test_csv_text.py), but for a carriage return in a text cell, quoted
here: numbers as pandas writes them (floats as numpy's str), missing values empty, text
quoted only where it holds a comma, a quote or a line break (csv.QUOTE_MINIMAL), and text
cells a spreadsheet would run as a formula neutralised with a leading apostrophe
(domain.csv_cells). A column of a kind not handled here sends the whole frame through
pandas.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from domain.csv_cells import FORMULA_STARTS, safe_cell, safe_columns

# A comma, a quote or a line break makes a cell quoted (csv.QUOTE_MINIMAL). A carriage
# return too: RFC 4180 asks it, and a reader splits the row at a bare one; the csv module
# of Python 3.11 (so pandas) leaves it bare, the one way this text differs from pandas'.
_QUOTED = ',"\r\n'
_NEEDS_QUOTES = "[" + _QUOTED + "]"  # a regex character class (RE2 takes CR, LF as is)
TEXT = pa.large_string()  # as pandas keeps text: every cell in one type, to be joined
_FORMULA = "^[" + "".join("\\" + c if c in "-\\" else c for c in FORMULA_STARTS) + "]"


def safe_csv(frame: pd.DataFrame) -> str:
    """`frame` as CSV text with a header row and no index, formula-safe (see the module)."""
    # One column writes an empty cell as "" (csv's rule); other kinds go through pandas.
    cells = [_cells(frame[name]) for name in frame.columns] if len(frame.columns) > 1 else []
    if not cells or any(c is None for c in cells):
        words = frame.select_dtypes(include=["object", "string"]).columns
        frame = frame.copy()
        frame[words] = safe_columns(frame[words])
        return str(frame.to_csv(index=False))
    header = ",".join(_quoted(str(safe_cell(str(name)))) for name in frame.columns)
    if len(frame) == 0:
        return header + "\n"
    rows = _joined(pc.binary_join_element_wise(*cells, pa.scalar(",", TEXT)), "\n")
    # The rows end to end are the text between the first and last offsets of the array.
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int64)[rows.offset :]
    body = rows.buffers()[2][int(offsets[0]) : int(offsets[len(rows)])]
    return header + "\n" + body.to_pybytes().decode()


def _cells(column: pd.Series) -> pa.Array | None:
    """One column's cells as Arrow text with no nulls, or None for a kind not handled."""
    dtype = column.dtype
    if dtype == np.bool_:
        true, false = pa.scalar("True", TEXT), pa.scalar("False", TEXT)
        return pc.if_else(pa.array(column.to_numpy()), true, false)
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        return _floats(column.to_numpy())
    if pd.api.types.is_integer_dtype(dtype):
        missing = column.isna().to_numpy()
        integers = pa.array(column.to_numpy(dtype=np.int64, na_value=0), mask=missing)
        return _filled(pc.cast(integers, TEXT))
    if dtype == "str" or dtype == np.dtype(object):
        return _text(column)
    return None  # nullable floats and the like: pandas formats them its own way


def _floats(values: np.ndarray) -> pa.Array:
    """Floats as pandas writes them: numpy's str (Python's repr: "123.0", "1e-05"). Arrow
    prints the same shortest digits in C, but "123" for 123.0 and exponents of its own:
    values it writes with an exponent, or that numpy would (below 1e-4, from 1e16), and
    nan and inf go through numpy, a few in a report."""
    text = pc.cast(pa.array(values), TEXT)
    magnitude = np.abs(values)
    odd = ~np.isfinite(values) | (magnitude >= 1e15) | ((magnitude < 1e-4) & (values != 0))
    odd |= pc.match_substring(text, "e").to_numpy(zero_copy_only=False)
    whole = pc.invert(pc.match_substring(text, "."))
    text = pc.if_else(whole, _joined(text, ".0"), text)
    if odd.any():
        where = np.flatnonzero(odd)
        fixed = np.empty(len(values), dtype=object)
        fixed[where] = values[where].astype(str)
        fixed[np.isnan(values)] = ""  # missing: an empty cell
        text = pc.if_else(pa.array(odd), pa.array(fixed, TEXT), text)
    return text


def _joined(*parts: str | pa.Array) -> pa.Array:
    """The parts (text or arrays of TEXT) end to end, element by element."""
    scalars = [pa.scalar(p, TEXT) if isinstance(p, str) else p for p in parts]
    return pc.binary_join_element_wise(*scalars, pa.scalar("", TEXT))


def _filled(text: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One chunk of TEXT, missing values empty."""
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    return pc.fill_null(text.cast(TEXT), "")


def _text(column: pd.Series) -> pa.Array | None:
    """Text cells, made safe and quoted where needed; None when an object column holds
    anything but text and missing values."""
    arrow = getattr(column.array, "_pa_array", None)  # pandas "str": Arrow text already
    try:
        if arrow is None:
            arrow = pa.array(column.to_numpy(dtype=object), TEXT, from_pandas=True)  # NaN: null
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    if not (pa.types.is_string(arrow.type) or pa.types.is_large_string(arrow.type)):
        return None
    values = _filled(arrow)
    # Most text columns hold a few distinct values (population, survey, period): each one
    # is made safe once, then spread to the rows. Judged on the first rows: encoding a
    # column of ids would only cost.
    sample = values.slice(0, 1000)
    if pc.count_distinct(sample).as_py() * 2 < len(sample):
        encoded = pc.dictionary_encode(values)
        return _safe_text(encoded.dictionary).take(encoded.indices)
    return _safe_text(values)


def _safe_text(values: pa.Array) -> pa.Array:
    """Text made safe from formulas and quoted where needed (the work only where needed)."""
    risky = pc.match_substring_regex(values, _FORMULA)
    if pc.any(risky).as_py():
        values = pc.if_else(risky, _joined("'", values), values)
    quote = pc.match_substring_regex(values, _NEEDS_QUOTES)
    if pc.any(quote).as_py():
        quoted = _joined('"', pc.replace_substring(values, '"', '""'), '"')
        values = pc.if_else(quote, quoted, values)
    return values


def _quoted(text: str) -> str:
    if any(c in text for c in _QUOTED):
        return '"' + text.replace('"', '""') + '"'
    return text
