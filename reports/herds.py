"""De-duplicated herds from the store's sightings and researchers' decisions (compute only)."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from data.herds import (
    SIGHTING_COLUMNS,
    HerdDecision,
    SightingColumns,
    empty_sighting_columns,
)
from data.store import ObservationStore
from domain.periods import EVERY, period_keys
from domain.records import ObservationQuery, Survey
from domain.seasons import SeasonCalendar
from geo.dedup import DedupParams, Grouping, Sightings, group_herds, resolve_decisions

CLASS_COLUMNS = ("adult_males", "adult_females", "yearlings", "calves")
OUTSIDE = "outside the study area"


@dataclass(frozen=True)
class ReportInputs:
    """Everything a report reads from the store, loaded once and reused for many periods."""

    sightings: SightingColumns
    surveys: dict[str, Survey]
    decisions: list[HerdDecision]
    params: DedupParams = DedupParams()
    seasons: SeasonCalendar = field(default_factory=SeasonCalendar)
    loaded_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    data_version: tuple[int, ...] = ()  # the store's, read before the data: reports print it

    def kept(self) -> ReportInputs:
        """These inputs as the herd cache keeps them once the herds are built: without the
        sighting columns, two fifths of the memory (the herd tables keep the few columns
        read afterwards, KEPT_COLUMNS)."""
        return replace(self, sightings=empty_sighting_columns())


@dataclass(frozen=True)
class HerdTables:
    """Sightings with their herd number, and one row per de-duplicated herd."""

    sightings: pd.DataFrame  # one row per sighting, column "herd"
    herds: pd.DataFrame  # one row per herd (index = herd number)
    grouping: Grouping


def load_inputs(
    store: ObservationStore,
    *,
    params: DedupParams = DedupParams(),
    seasons: SeasonCalendar | None = None,
    query: ObservationQuery | None = None,
    sightings: bool = True,
) -> ReportInputs:
    """Read active sightings (lean columns; none unless `sightings`), every survey and
    every decision."""
    version = store.data_version()  # first: a change while reading makes it older, not newer
    return ReportInputs(
        sightings=(
            store.sighting_columns(query or ObservationQuery())
            if sightings
            else empty_sighting_columns()
        ),
        surveys={s.id: s for s in all_surveys(store)},
        decisions=store.list_herd_decisions(),
        params=params,
        seasons=seasons or SeasonCalendar(),
        data_version=version,
    )


def all_surveys(store: ObservationStore) -> list[Survey]:
    found: list[Survey] = []
    while True:
        page = store.list_surveys(limit=1000, after=found[-1].id if found else None)
        found += page
        if len(page) < 1000:
            return found


# The sighting columns read once the herds are built (reports, herd pages, decisions, and
# the time, to regroup only the time blocks a data change touches: reports.herd_update):
# the herd tables keep only these, and the herd cache keeps no other (ReportInputs.kept).
KEPT_COLUMNS = ("id", "epoch_s", "count", "population", "region", "survey_id", "synthetic")
CODED_COLUMNS = ("population", "region", "survey_id")  # kept as codes: few distinct values


def build_herds(inputs: ReportInputs) -> HerdTables:
    """Group sightings into herds (geo.dedup) and summarise each herd."""
    cols = inputs.sightings
    # The few distinct texts as codes, on a thread of their own meanwhile (Arrow encodes in
    # C with the GIL released): the kept grouping holds one compact copy of the sightings
    # (reports.population.period_sightings turns a period's codes back into text).
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="herdwatch-codes") as pool:
        coded = pool.map(lambda name: _coded(getattr(cols, name)), CODED_COLUMNS)
        links, cuts = _decided_pairs(cols, inputs.decisions)
        sightings = _as_sightings(cols)
        grouping = group_herds(sightings, inputs.params, links=links, cuts=cuts)
        columns = {name: getattr(cols, name) for name in SIGHTING_COLUMNS}
        columns["herd"] = grouping.labels
        columns["classified"] = np.clip(sightings.classes, 0, None).sum(axis=1)
        herds = _herd_rows(columns, inputs.seasons)
        # The columns themselves, not copies.
        kept = {name: columns[name] for name in (*KEPT_COLUMNS, "herd")}
        kept.update(zip(CODED_COLUMNS, coded, strict=True))
    return HerdTables(pd.DataFrame(kept, copy=False), herds, grouping)


def _coded(text: Any) -> pd.Categorical:
    """Text with few distinct values (a pandas "str" array) as a Categorical: small integer
    codes and the distinct texts once (dictionary-encoded in Arrow, in C)."""
    encoded = text._pa_array.combine_chunks().dictionary_encode()
    categories = pd.Index(pd.array(encoded.dictionary, dtype="str"))
    # pandas stores the codes in the smallest integers that hold them (int8 for < 128).
    return pd.Categorical.from_codes(encoded.indices.to_numpy(zero_copy_only=False), categories)


def _as_sightings(cols: SightingColumns) -> Sightings:
    if len(cols) == 0:
        classes = np.empty((0, 4), dtype=np.int64)
    else:
        classes = np.column_stack([getattr(cols, n) for n in CLASS_COLUMNS])
    return Sightings(
        cols.ea_x, cols.ea_y, cols.epoch_s, cols.count, classes.astype(np.int64, copy=False)
    )


def _decided_pairs(
    cols: SightingColumns, decisions: Sequence[HerdDecision]
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Decisions as index pairs into the loaded sightings (pairs with a missing sighting drop)."""
    links, cuts = resolve_decisions(decisions)
    if not links and not cuts:
        return None, None
    index = pd.Index(cols.id)

    def positions(pairs: list[tuple[str, str]]) -> np.ndarray:
        flat = index.get_indexer([i for pair in pairs for i in pair]).reshape(-1, 2)
        return flat[(flat >= 0).all(axis=1)]

    return positions(links), positions(cuts)


def _herd_rows(col: dict[str, Any], seasons: SeasonCalendar) -> pd.DataFrame:
    """Per herd: size = largest count among its sightings; place, population and area from
    that sighting; composition from its best-classified sighting; period from its first.
    Ties go to the earliest sighting (rows are in time order), as pandas' idxmax does.
    `col`: the sighting columns (numbers as numpy arrays, text as Arrow-backed arrays,
    gathered with take()), the herd number and the animals classified."""
    groups = _HerdGroups(col["herd"])
    first, largest, best = (
        groups.first(),
        groups.first_max(col["count"]),
        groups.first_max(col["classified"]),
    )
    herds = pd.DataFrame(
        {
            "herd_id": col["id"].take(first),
            "first_seen": col["epoch_s"][first],
            "last_seen": groups.reduce(np.maximum, col["epoch_s"]),
            "local_date": col["local_date"].take(first),
            "sightings": groups.sizes,
            "size": col["count"][largest],
            "sighting_total": groups.reduce(np.add, col["count"]),
            "population": col["population"].take(largest),
            "area": _area(col["region"].take(largest)),
            "lon": col["lon"][largest],
            "lat": col["lat"][largest],
            "x": col["ea_x"][largest],
            "y": col["ea_y"][largest],
            "survey_id": col["survey_id"].take(largest),
            **{name: col[name][best] for name in (*CLASS_COLUMNS, "unclassified", "classified")},
        },
        index=pd.RangeIndex(groups.n, name="herd"),
    )
    # Keys per distinct local day (a few thousand), then spread to the herds.
    codes, days = pd.factorize(col["local_date"].take(first), use_na_sentinel=False)
    for every in EVERY:
        herds[every] = pd.array(period_keys(list(days), every, seasons), dtype="str").take(codes)
    return herds


def _area(region: Any) -> Any:
    """The region, or OUTSIDE where the sighting lies in none."""
    text = pd.Series(region, copy=False)
    return text.where(text != "", OUTSIDE).array


class _HerdGroups:
    """Rows grouped by herd number 0..n-1 with numpy (one stable sort); pandas groupby and
    row takes of the million-row frame cost most of a second."""

    def __init__(self, herd: np.ndarray) -> None:
        self.order = np.argsort(herd, kind="stable")  # within a herd: rows in time order
        self.herd = herd[self.order]
        self.starts = _run_starts(self.herd)
        self.n = len(self.starts)
        self.sizes = np.diff(np.r_[self.starts, len(herd)])

    def first(self) -> np.ndarray:
        return self.order[self.starts]

    def reduce(self, ufunc: np.ufunc, values: np.ndarray) -> np.ndarray:
        return ufunc.reduceat(values[self.order], self.starts)

    def first_max(self, values: np.ndarray) -> np.ndarray:
        """Row of each herd's largest value, the earliest row where several share it."""
        ordered = values[self.order]
        at_max = np.flatnonzero(ordered == np.repeat(self.reduce(np.maximum, values), self.sizes))
        return self.order[at_max[_run_starts(self.herd[at_max])]]


def _run_starts(keys: np.ndarray) -> np.ndarray:
    """Positions where a run of equal sorted keys begins."""
    return np.flatnonzero(np.r_[len(keys) > 0, keys[1:] != keys[:-1]])


def sighting_ids_by_herd(tables: HerdTables, herds: pd.Index) -> pd.Series:
    """Space-separated sighting ids of the given herds (for exports; costly for all herds)."""
    chosen = tables.sightings[tables.sightings["herd"].isin(herds)]
    return chosen.groupby("herd")["id"].agg(" ".join)


def herd_members(inputs: ReportInputs, tables: HerdTables, ids: Sequence[str]) -> list[str]:
    """Every sighting id in the herd holding all of `ids`; ValueError if they are in several."""
    frame = tables.sightings
    chosen = frame[frame["id"].isin(list(ids))]
    missing = sorted(set(ids) - set(chosen["id"]))
    if missing:
        raise ValueError(f"not an active sighting: {', '.join(missing)}")
    herds = chosen["herd"].unique()
    if len(herds) != 1:
        raise ValueError("these sightings are in different herds: split one herd at a time")
    return [str(i) for i in frame.loc[frame["herd"] == herds[0], "id"]]


def inputs_around(
    store: ObservationStore,
    epochs: Sequence[float],
    *,
    params: DedupParams = DedupParams(),
    seasons: SeasonCalendar | None = None,
) -> ReportInputs:
    """Inputs for the time around some sightings: a herd spans at most max_span_hours, so
    three spans either side hold every sighting that could join theirs."""
    reach = 3 * params.max_span_hours * 3600
    start = datetime.fromtimestamp(min(epochs) - reach, UTC)
    end = datetime.fromtimestamp(max(epochs) + reach, UTC)
    return load_inputs(
        store, params=params, seasons=seasons, query=ObservationQuery(start=start, end=end)
    )
