"""Per-herd picks agree with pandas' groupby/idxmax, ties to the earliest row."""

from __future__ import annotations

import numpy as np
import pandas as pd

from reports.herds import _HerdGroups


def test_picks_match_pandas_groupby_including_ties() -> None:
    rng = np.random.default_rng(3)
    herd = rng.integers(0, 50, 600)
    herd[:50] = np.arange(50)  # every herd number 0..49 present
    count = rng.integers(0, 4, 600)  # few values: many ties
    frame = pd.DataFrame({"herd": herd, "count": count})
    groups = _HerdGroups(herd)
    by_herd = frame.groupby("herd", sort=True)
    firsts = frame.drop_duplicates("herd").sort_values("herd").index
    assert groups.first().tolist() == firsts.tolist()
    assert groups.first_max(count).tolist() == by_herd["count"].idxmax().tolist()
    assert groups.reduce(np.add, count).tolist() == by_herd["count"].sum().tolist()
    assert groups.sizes.tolist() == by_herd.size().tolist()


def test_no_rows_no_groups() -> None:
    groups = _HerdGroups(np.array([], dtype=np.int64))
    assert groups.n == 0 and len(groups.first_max(np.array([], dtype=np.int64))) == 0
