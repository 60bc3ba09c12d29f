"""The column-at-a-time CSV guard gives what the per-cell one gives, value for value."""

from __future__ import annotations

import pandas as pd

from domain.csv_cells import safe_cell, safe_columns


def test_safe_columns_equal_safe_cell_on_every_value():
    risky = ["=cmd|' /C calc'!A0", "+1", "-2", "@SUM(A1)", "\tx", "\rx", "plain", "", "a=b"]
    frame = pd.DataFrame(
        {
            "text": pd.array([*risky, None], dtype="str"),
            "mixed": [*risky[:5], 5, None, True, -1.5, "ok"],
        }
    )
    safe = safe_columns(frame)
    assert safe.to_csv(index=False) == frame.map(safe_cell).to_csv(index=False)
    assert safe["text"].tolist()[:4] == ["'=cmd|' /C calc'!A0", "'+1", "'-2", "'@SUM(A1)"]
    assert safe["mixed"].tolist()[5:9] == [5, None, True, -1.5]  # numbers stay numbers
    assert frame["text"].tolist()[0] == risky[0]  # the frame given is left as it was
