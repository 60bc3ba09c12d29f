"""Record types for herd de-duplication: researchers' decisions and lean sighting columns."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import numpy as np

DecisionAction = Literal["confirm", "reject", "merge", "split"]
DECISION_ACTIONS: tuple[str, ...] = ("confirm", "reject", "merge", "split")

# Column order of SightingColumns rows, as every backend selects them.
SIGHTING_COLUMNS: tuple[str, ...] = (
    "id",
    "epoch_s",
    "local_date",
    "lon",
    "lat",
    "ea_x",
    "ea_y",
    "count",
    "adult_males",
    "adult_females",
    "yearlings",
    "calves",
    "unclassified",
    "population",
    "region",
    "survey_id",
    "synthetic",
)


@dataclass(frozen=True, slots=True)
class HerdDecision:
    """A researcher's decision about which sightings are one herd, kept with who and when.

    confirm/reject name exactly two sightings; merge names two or more; split names the
    sightings split off in `observation_ids` and the rest of their herd in `other_ids`.
    """

    action: DecisionAction
    observation_ids: tuple[UUID, ...]
    actor: str
    other_ids: tuple[UUID, ...] = ()
    note: str | None = None
    id: int | None = None  # set by the store, in decision order
    decided_at: datetime | None = None  # set by the store


@dataclass(frozen=True, slots=True)
class SightingColumns:
    """Active sightings as parallel columns: what reports and de-duplication read.

    Numbers are numpy arrays; text columns are pandas "str" arrays backed by Arrow (one
    buffer per column, not a Python object per value: a million sightings' five text
    columns take about 0.1 GB this way, 0.4 GB as Python strings). `epoch_s` is whole UTC
    seconds (fractions dropped); `local_date` is "YYYY-MM-DD" in the observer's zone.
    Composition classes that were not recorded are -1.
    """

    id: Any  # str array
    epoch_s: np.ndarray  # float64
    local_date: Any  # str array
    lon: np.ndarray
    lat: np.ndarray
    ea_x: np.ndarray  # EPSG:3576 metres
    ea_y: np.ndarray
    count: np.ndarray  # int64
    adult_males: np.ndarray
    adult_females: np.ndarray
    yearlings: np.ndarray
    calves: np.ndarray
    unclassified: np.ndarray
    population: Any  # str array
    region: Any  # str array, "" where outside every region
    survey_id: Any  # str array, "" where none
    synthetic: np.ndarray  # bool: flagged "synthetic" (demo and benchmark data)

    def __len__(self) -> int:
        return len(self.id)

    def take(self, index: np.ndarray) -> SightingColumns:
        """The rows at `index` (a boolean mask or integer positions)."""
        return SightingColumns(*(getattr(self, name)[index] for name in SIGHTING_COLUMNS))


TEXT_COLUMNS = ("id", "local_date", "population", "region", "survey_id")
FLOAT_COLUMNS = ("lon", "lat", "ea_x", "ea_y")
_NUMBER_KINDS: dict[str, Any] = {**dict.fromkeys(FLOAT_COLUMNS, np.float64), "synthetic": bool}


def sighting_columns_from_arrow(table: Any) -> SightingColumns:
    """Columns from an Arrow table named as SIGHTING_COLUMNS (both backends read one, in C:
    Python's sqlite3 and psycopg spent 4 s of a million-sighting report building a Python
    object per value).

    The SQL already sends "" for missing text and -1 for unrecorded classes. SQLite sends
    text: `epoch_s` as the first 19 characters of the UTC time, parsed here. PostgreSQL
    sends its own types, turned into the same columns here (typed_columns). The rows are
    put in (whole second, id) order, the same on every backend: sorting here is cheaper
    than SQL's ORDER BY, which walks the time index and jumps around the table.
    """
    import pandas as pd

    if table.num_rows == 0:
        return empty_sighting_columns()
    table, seconds = _typed_columns(table)
    order = _time_order(seconds, table.column("id"))

    def ordered(name: str) -> Any:
        column = table.column(name)
        if name in TEXT_COLUMNS:
            # Into time order in C, one chunk first (a take across many chunks cost five
            # times as much); pandas keeps the Arrow buffers.
            return pd.array(column.combine_chunks().take(order), dtype="str")
        # Numbers: a numpy gather is several times faster than Arrow's take.
        return column.to_numpy().astype(_NUMBER_KINDS.get(name, np.int64), copy=False)[order]

    # Two at a time: Arrow's take and numpy's gathers run with the GIL released.
    names = [n for n in SIGHTING_COLUMNS if n != "epoch_s"]
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="herdwatch-columns") as pool:
        columns: dict[str, Any] = dict(zip(names, pool.map(ordered, names), strict=True))
    columns["epoch_s"] = seconds[order].astype(np.float64)
    return SightingColumns(**columns)


def _typed_columns(table: Any) -> tuple[Any, np.ndarray]:
    """The table with an `id` and `local_date` of text, and the whole UTC seconds.

    PostgreSQL's binary COPY sends uuid as 16 bytes, timestamptz as microseconds and date as
    days: turning them into text on the server tripled the COPY's cost (1.8 s instead of
    0.6 s at a million), here it takes a few hundredths."""
    import pyarrow as pa
    import pyarrow.compute as pc

    ids = table.column("id")
    # pyarrow 18 and later read the driver's uuid as the arrow.uuid extension type (not
    # fixed_size_binary itself): its storage tells.
    if pa.types.is_fixed_size_binary(getattr(ids.type, "storage_type", ids.type)):
        table = table.set_column(table.schema.get_field_index("id"), "id", uuid_text(ids))
    dates = table.column("local_date")
    if pa.types.is_date(dates.type):
        index = table.schema.get_field_index("local_date")
        table = table.set_column(index, "local_date", _date_text(dates))
    epoch = table.column("epoch_s")
    if pa.types.is_string(epoch.type) or pa.types.is_large_string(epoch.type):
        epoch = pc.cast(epoch, pa.timestamp("s"))  # ISO 8601: four times strptime's speed
    if pa.types.is_timestamp(epoch.type):
        per_second = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[epoch.type.unit]
        ticks = epoch.cast(pa.int64()).to_numpy()
        return table, np.floor_divide(ticks, per_second)  # whole seconds, the fraction dropped
    return table, epoch.cast(pa.int64()).to_numpy()


# Where the 32 hex digits go in the 36 characters of 8-4-4-4-12: (text, digits) slices.
_STRING_BYTES = 2**31  # what an Arrow string array's 32-bit offsets reach
_GROUPS = ((0, 0, 8), (9, 8, 4), (14, 12, 4), (19, 16, 4), (24, 20, 12))


def uuid_text(ids: Any) -> Any:
    """16-byte UUIDs (an Arrow fixed_size_binary(16) or arrow.uuid column, no nulls) as
    their canonical lowercase text, an Arrow string array, in numpy: the same text
    str(uuid.UUID(b)) gives."""
    import pyarrow as pa

    raw = ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids
    if isinstance(raw, pa.ExtensionArray):  # arrow.uuid: the bytes are its storage's
        raw = raw.storage
    n = len(raw)
    data = np.frombuffer(raw.buffers()[1], dtype=np.uint8)[raw.offset * 16 : (raw.offset + n) * 16]
    # bytes.hex runs in C over the whole buffer: (n, 32) characters.
    digits = np.frombuffer(data.tobytes().hex().encode("ascii"), dtype=np.uint8).reshape(n, 32)
    text = np.empty((n, 36), dtype=np.uint8)
    text[:, (8, 13, 18, 23)] = ord("-")
    for at, start, length in _GROUPS:
        text[:, at : at + length] = digits[:, start : start + length]
    small = 36 * n < _STRING_BYTES  # 32-bit offsets: up to 59 million ids
    offsets = np.arange(0, 36 * (n + 1), 36, dtype=np.int32 if small else np.int64)
    kind = pa.StringArray if small else pa.LargeStringArray
    return kind.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(text))


def _date_text(dates: Any) -> Any:
    """Arrow dates as 'YYYY-MM-DD' text: each distinct day formatted once (a few thousand
    days among a million sightings; Arrow's strftime per value took 0.7 s)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    # One chunk first: chunks encoded apart would each have their own dictionary.
    whole = dates.combine_chunks() if isinstance(dates, pa.ChunkedArray) else dates
    coded = pc.dictionary_encode(whole)
    days = pc.strftime(coded.dictionary, format="%Y-%m-%d")
    return pc.take(days, coded.indices)


def _time_order(seconds: np.ndarray, ids: Any) -> np.ndarray:
    """Positions in (whole UTC second, id) order (seconds: int64; ids: an Arrow string
    column). Whole numbers sort by radix, several times faster than floats."""
    import pyarrow as pa
    import pyarrow.compute as pc

    order = np.argsort(seconds, kind="stable")
    ordered = seconds[order]
    ties = np.flatnonzero(ordered[1:] == ordered[:-1])
    if len(ties) == 0:
        return order
    # Positions in runs of the same second (a few per cent), re-sorted by (second, id) at
    # once, in Arrow (ids stay Arrow text, never Python strings).
    tied = np.unique(np.concatenate([ties, ties + 1]))
    subset = order[tied]
    keys = pa.table({"second": seconds[subset], "id": ids.take(subset)})
    within = pc.sort_indices(keys, sort_keys=[("second", "ascending"), ("id", "ascending")])
    order[tied] = subset[within.to_numpy()]
    return order


def empty_sighting_columns() -> SightingColumns:
    import pandas as pd

    kinds = {
        "epoch_s": np.float64,
        "lon": np.float64,
        "lat": np.float64,
        "ea_x": np.float64,
        "ea_y": np.float64,
        "synthetic": bool,
    }
    empty: list[Any] = [
        pd.array([], dtype="str")
        if n in TEXT_COLUMNS
        else np.array([], dtype=kinds.get(n, np.int64))
        for n in SIGHTING_COLUMNS
    ]
    return SightingColumns(*empty)
