"""A kept herd grouping brought up to a new version of the data by regrouping only the
time blocks a change touched (reports.herd_cache asks; None means "build them all again").

Why that gives the very herds of a full build: candidate pairs are at most max_hours apart
(geo.dedup), so sightings on either side of a longer gap in time are never one herd unless
a researcher's decision links them. Around the changed sightings (each at its time before
the change and after it) the span between two such gaps is read again and grouped alone;
every block outside it keeps its herds and candidate
pairs, moved to their new positions, and the herds after it (numbered in order of their
first sightings) are renumbered by the herds gained or lost. An upload of one survey's
sightings regroups one survey's blocks: at a million sightings, a hundredth of the work.

A new herd decision is regrouped the same way, over the blocks of the sightings it names;
a new survey changes no herd (its sightings name it), so only the surveys are read again.
Where that reasoning does not hold, a full build: revisions were
copied in with older numbers (a transfer), a decided pair has one sighting inside the
span and one outside, a decided link was refused (their order is the decisions'), or the
data changed again while reading. tests/reports/test_herd_update.py
holds both builds equal, column by column.
"""

from __future__ import annotations

import math
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.api.types import union_categoricals

from data.herds import HerdDecision, SightingColumns
from data.store import ObservationStore
from domain.records import ObservationQuery
from geo.dedup import Candidates, DedupParams, Grouping, resolve_decisions
from reports.herds import HerdTables, ReportInputs, all_surveys, build_herds


def updated_herds(
    store: ObservationStore, inputs: ReportInputs, tables: HerdTables, version: tuple[int, ...]
) -> tuple[ReportInputs, HerdTables] | None:
    """The kept (inputs, tables) brought up to the store's data `version` (read by the
    caller before this), or None where only a full build gives the right herds."""
    before = inputs.data_version
    if len(before) != 4 or len(version) != 4 or tables.grouping.refused_links:
        return None
    if version[0] < before[0] or version[2] < before[2] or version[3] < before[3]:
        return None  # fewer decisions or surveys, an older revision: not this store's future
    count, changed = store.sightings_changed_after(before[0]) if version[0] > before[0] else (0, [])
    if count != version[1] - before[1]:  # revisions copied in with older numbers
        return None
    decisions = _decisions_now(store, inputs, version[2])
    if decisions is None:
        return None
    inputs = replace(inputs, decisions=decisions)
    if version[3] != before[3]:  # surveys do not group herds: the reports read them
        inputs = replace(inputs, surveys={s.id: s for s in all_surveys(store)})
    frame = tables.sightings
    epochs = frame["epoch_s"].to_numpy()
    times = np.r_[_changed_times(frame, changed), _decided_times(frame, decisions[before[2] :])]
    if len(times) == 0:  # only surveys (or decisions naming no active sighting) are new
        if store.data_version() != version:
            return None
        return replace(inputs, data_version=version, loaded_at=datetime.now(UTC)), tables
    lo, hi = _span(epochs, times, inputs.params)
    a, b = np.searchsorted(epochs, lo, "left"), np.searchsorted(epochs, hi, "right")
    new = _read_span(store, lo, hi)
    if _decision_crosses(inputs, frame, new, int(a), int(b)):
        return None
    part = build_herds(replace(inputs, sightings=new))
    if part.grouping.refused_links or store.data_version() != version:
        return None
    updated = replace(inputs, data_version=version, loaded_at=datetime.now(UTC))
    return updated, _spliced(tables, part, int(a), int(b))


def _decisions_now(
    store: ObservationStore, inputs: ReportInputs, count: int
) -> list[HerdDecision] | None:
    """Every decision now: the kept ones and those added since (decisions are only ever
    appended), or None if the store's are not that."""
    if count == len(inputs.decisions):
        return inputs.decisions
    now = store.list_herd_decisions()
    if len(now) != count or now[: len(inputs.decisions)] != inputs.decisions:
        return None
    return now


def _decided_times(frame: pd.DataFrame, added: list[HerdDecision]) -> np.ndarray:
    """Whole UTC seconds of the active sightings that new decisions name."""
    return _kept_times(frame, [str(i) for d in added for i in (*d.observation_ids, *d.other_ids)])


def _changed_times(frame: pd.DataFrame, changed: list[tuple[str, datetime]]) -> np.ndarray:
    """Whole UTC seconds of every changed sighting: now, and as kept (where it was)."""
    now = np.asarray([math.floor(at.timestamp()) for _, at in changed], dtype=np.float64)
    return np.r_[now, _kept_times(frame, [i for i, _ in changed])]


def _kept_times(frame: pd.DataFrame, ids: list[str]) -> np.ndarray:
    """Whole UTC seconds of the kept sightings with these ids (none for ids not kept)."""
    epochs = frame["epoch_s"].to_numpy()
    return np.asarray(epochs[frame["id"].isin(ids).to_numpy()], dtype=np.float64)


def _span(epochs: np.ndarray, times: np.ndarray, params: DedupParams) -> tuple[float, float]:
    """The times [lo, hi] to regroup: from the first changed time to the last, widened to
    the kept blocks that reach within max_hours of either end. Outside it the data are
    as kept, and the kept sightings nearest it are over max_hours away from anything in it."""
    reach = params.max_hours * 3600.0
    lo, hi = float(times.min()), float(times.max())
    if len(epochs) == 0:
        return lo, hi
    starts = np.r_[0, np.flatnonzero(np.diff(epochs) > reach) + 1]
    ends = np.r_[starts[1:] - 1, len(epochs) - 1]
    p = int(np.searchsorted(epochs, lo, "left")) - 1  # the last kept sighting before lo
    if p >= 0 and epochs[p] >= lo - reach:
        lo = float(epochs[starts[np.searchsorted(starts, p, "right") - 1]])
    q = int(np.searchsorted(epochs, hi, "right"))  # the first kept sighting after hi
    if q < len(epochs) and epochs[q] <= hi + reach:
        hi = float(epochs[ends[np.searchsorted(starts, q, "right") - 1]])
    return lo, hi


def _read_span(store: ObservationStore, lo: float, hi: float) -> SightingColumns:
    """The active sightings whose whole second lies in [lo, hi], as a full read has them."""
    start = datetime.fromtimestamp(lo, UTC)
    end = datetime.fromtimestamp(hi, UTC) + timedelta(seconds=1)  # the last second's fractions
    cols = store.sighting_columns(ObservationQuery(start=start, end=end))
    keep = int(np.searchsorted(cols.epoch_s, hi, "right"))  # sorted: rows after hi end it
    if keep == len(cols):
        return cols
    return SightingColumns(**{f.name: getattr(cols, f.name)[:keep] for f in fields(cols)})


def _decision_crosses(
    inputs: ReportInputs, frame: pd.DataFrame, new: SightingColumns, a: int, b: int
) -> bool:
    """Whether a decided pair has one sighting inside the span and one outside it."""
    links, cuts = resolve_decisions(inputs.decisions)
    pairs = links + cuts
    if not pairs:
        return False
    decided = list({i for pair in pairs for i in pair})
    ids = frame["id"]
    out_ids = pd.concat([ids.iloc[:a], ids.iloc[b:]])
    outside = set(out_ids[out_ids.isin(decided)])
    # Inside: the span's sightings now and as kept (one retracted since still decides).
    in_ids = pd.concat([pd.Series(new.id, copy=False), ids.iloc[a:b]])
    inside = set(in_ids[in_ids.isin(decided)])
    return any((x in inside and y in outside) or (y in inside and x in outside) for x, y in pairs)


def _spliced(old: HerdTables, part: HerdTables, a: int, b: int) -> HerdTables:
    """The kept tables with sightings a..b-1 (and their herds) replaced by `part`'s."""
    herd = old.sightings["herd"].to_numpy()
    h_a = int(herd[:a].max()) + 1 if a > 0 else 0  # herds before the span: 0..h_a-1
    h_b = int(herd[a:b].max()) + 1 if b > a else h_a
    gained = part.grouping.n_herds - (h_b - h_a)
    moved = len(part.sightings) - (b - a)
    # Herds after the span shift by the herds gained; a herd of before the span that a
    # decided link carries past it (its sightings on both sides) keeps its number.
    tail = herd[b:]
    labels = np.concatenate(
        [
            herd[:a],
            part.grouping.labels.astype(herd.dtype) + h_a,
            np.where(tail >= h_b, tail + gained, tail),
        ]
    )
    sightings = {
        name: labels if name == "herd" else _joined(old.sightings[name], part.sightings[name], a, b)
        for name in old.sightings.columns
    }
    grouping = Grouping(
        labels=labels,
        n_herds=old.grouping.n_herds + gained,
        candidates=_spliced_candidates(
            old.grouping.candidates, part.grouping.candidates, (a, b), moved, len(labels)
        ),
    )
    herds = _spliced_herds(old.herds, part.herds, h_a, h_b)
    return HerdTables(pd.DataFrame(sightings, copy=False), herds, grouping)


def _joined(old: pd.Series, new: pd.Series, a: int, b: int) -> Any:
    """Column old[:a] + new + old[b:], in the kept column's own kind."""
    parts: list[Any] = [old.array[:a], new.array, old.array[b:]]
    if isinstance(old.dtype, pd.CategoricalDtype):
        return _first_seen_order(union_categoricals([pd.Categorical(p) for p in parts]))
    if isinstance(old.array, pd.arrays.ArrowStringArray):
        arrow: list[Any] = [p._pa_array for p in parts]  # pandas' Arrow text: its buffers
        chunks = [c for chunked in arrow for c in chunked.chunks]
        return pd.array(pa.chunked_array(chunks, arrow[0].type).combine_chunks(), dtype=old.dtype)
    kind: Any = old.dtype
    return np.concatenate([np.asarray(p) for p in parts]).astype(kind, copy=False)


def _first_seen_order(merged: pd.Categorical) -> pd.Categorical:
    """The categories a build's dictionary encoding gives: those present, in the order each
    first appears in the column."""
    codes = merged.codes
    present = pd.unique(codes[codes >= 0])
    recode = np.full(len(merged.categories) + 1, -1, dtype=np.int64)
    recode[present] = np.arange(len(present))
    return pd.Categorical.from_codes(recode[codes], merged.categories[present])


def _spliced_candidates(
    old: Candidates, part: Candidates, span: tuple[int, int], moved: int, sightings: int
) -> Candidates:
    """Pairs before the span, the span's, then those after it shifted: the order of a full
    search, block after block (no pair crosses the span's edges)."""
    a, b = span
    before, after = old.i < a, old.i >= b
    kind = np.int32 if sightings < 2**31 else np.int64  # as geo.dedup.find_candidates does

    def joined(name: str, shift_part: int, shift_after: int) -> np.ndarray:
        values = getattr(old, name)
        inside = getattr(part, name)
        return np.concatenate(
            [
                values[before],
                (inside + shift_part).astype(values.dtype),
                values[after] + shift_after,
            ]
        )

    return Candidates(
        joined("i", a, moved).astype(kind, copy=False),
        joined("j", a, moved).astype(kind, copy=False),
        joined("km", 0, 0),
        joined("hours", 0, 0),
    )


def _spliced_herds(old: pd.DataFrame, part: pd.DataFrame, h_a: int, h_b: int) -> pd.DataFrame:
    pieces = [p for p in (old.iloc[:h_a], part, old.iloc[h_b:]) if len(p)]
    if not pieces:
        return old.iloc[:0]
    herds = (
        pd.concat(pieces, ignore_index=True)
        if len(pieces) > 1
        else pieces[0].reset_index(drop=True)
    )
    herds.index = pd.RangeIndex(len(herds), name="herd")
    return herds
