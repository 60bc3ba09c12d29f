"""Arrow tables as either backend sends them become the same typed sighting columns."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pyarrow as pa

from data.herds import SIGHTING_COLUMNS, sighting_columns_from_arrow, uuid_text

# In SIGHTING_COLUMNS order: id, epoch, local date, lon, lat, x, y, count, 5 classes, population,
# region, survey, synthetic; as the SQL sends them: "" for no text, -1 for a class not recorded.
LATE = (
    "b",
    "2024-07-10T12:00:59",  # SQLite sends the first 19 characters of the UTC text
    "2024-07-10",
    120.5,
    63.25,
    1.5e6,
    -2.25e6,
    40,
    -1,
    20,
    -1,
    5,
    15,
    "lena-olenek",
    "",
    "",
    True,
)
EARLY = (
    "a",
    "2024-07-10T11:59:00",
    "2024-07-10",
    120.0,
    63.0,
    1.4e6,
    -2.2e6,
    7,
    1,
    2,
    3,
    1,
    0,
    "lena-olenek",
    "Sakha Republic",
    "s1",
    False,
)


def table(rows: Sequence[Sequence[Any]]) -> pa.Table:
    """What the ADBC drivers return: one typed Arrow column per name."""
    return pa.table({name: [r[k] for r in rows] for k, name in enumerate(SIGHTING_COLUMNS)})


def test_rows_become_typed_columns_in_time_order() -> None:
    cols = sighting_columns_from_arrow(table([LATE, EARLY]))
    assert cols.id.tolist() == ["a", "b"] and cols.id.dtype == "str"
    assert cols.epoch_s.tolist() == [1720612740.0, 1720612859.0]  # the fraction dropped
    assert cols.count.dtype == np.int64 and cols.count.tolist() == [7, 40]
    assert cols.adult_males.tolist() == [1, -1] and cols.yearlings.tolist() == [3, -1]
    assert cols.region.tolist() == ["Sakha Republic", ""] and cols.survey_id.tolist() == ["s1", ""]
    assert cols.ea_x.tolist() == [1.4e6, 1.5e6] and cols.lat.dtype == np.float64
    assert cols.synthetic.tolist() == [False, True]


def test_numeric_epochs_and_no_rows() -> None:
    numeric = (*EARLY[:1], 1720612740, *EARLY[2:])
    assert sighting_columns_from_arrow(table([numeric])).epoch_s.tolist() == [1720612740.0]
    empty = sighting_columns_from_arrow(table([]))
    assert len(empty) == 0 and empty.id.dtype == "str" and empty.count.dtype == np.int64


def test_same_second_ties_go_by_id() -> None:
    rows = [(*EARLY[:1], 1720612740, *EARLY[2:]), ("0", 1720612740, *EARLY[2:])]
    assert sighting_columns_from_arrow(table(rows)).id.tolist() == ["0", "a"]


def test_postgresql_types_become_the_same_columns() -> None:
    """uuid bytes, timestamptz microseconds and dates (what PostgreSQL's binary COPY sends)
    give the text and whole seconds that SQLite's text gives."""
    ids = [uuid.uuid4() for _ in range(50)] + [uuid.UUID(int=0), uuid.UUID(int=2**128 - 1)]
    rows = [("x", 0, *EARLY[2:]) for _ in ids]
    typed = table(rows)
    typed = typed.set_column(0, "id", pa.array([u.bytes for u in ids], pa.binary(16)))
    # Before 1970 too: whole seconds are floored, as SQL's floor(extract(epoch ...)) was.
    moments = [datetime(2024, 7, 10, 11, 59, 0, 999_999, tzinfo=UTC)] * 51
    moments.append(datetime(1969, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC))
    typed = typed.set_column(1, "epoch_s", pa.array(moments, pa.timestamp("us", tz="UTC")))
    typed = typed.set_column(2, "local_date", pa.array([date(2024, 7, 10)] * 52, pa.date32()))
    cols = sighting_columns_from_arrow(typed)
    assert sorted(cols.id.tolist()) == sorted(str(u) for u in ids)
    assert cols.epoch_s.tolist()[0] == -1.0  # earliest first
    assert set(cols.epoch_s.tolist()[1:]) == {float(int(moments[0].timestamp()))}
    assert set(cols.local_date.tolist()) == {"2024-07-10"} and cols.local_date.dtype == "str"
    # Same-second ties still go by the id's text.
    assert cols.id.tolist()[1:] == sorted(cols.id.tolist()[1:])


def test_uuid_text_of_a_sliced_column() -> None:
    ids = [uuid.uuid4() for _ in range(10)]
    column = pa.array([u.bytes for u in ids], pa.binary(16)).slice(3, 4)
    assert uuid_text(column).to_pylist() == [str(u) for u in ids[3:7]]


def test_dates_of_several_chunks_keep_their_days() -> None:
    """Two parts read apart arrive as two chunks, each with other days."""
    from data.herds import _date_text

    first = [date(2024, 3, d) for d in (1, 2, 3, 2)]
    second = [date(2025, 7, d) for d in (9, 8)] + [date(2024, 3, 3)]
    chunked = pa.chunked_array([pa.array(first, pa.date32()), pa.array(second, pa.date32())])
    assert _date_text(chunked).to_pylist() == [d.isoformat() for d in first + second]


class _UuidType(pa.ExtensionType):
    """What pyarrow 18 and later make of the driver's uuid: an extension over 16 bytes."""

    def __init__(self) -> None:
        super().__init__(pa.binary(16), "herdwatch.test-uuid")

    def __arrow_ext_serialize__(self) -> bytes:
        return b""

    @classmethod
    def __arrow_ext_deserialize__(cls, storage: Any, serialized: bytes) -> _UuidType:
        return cls()


def test_uuid_extension_columns_become_text() -> None:
    ids = [uuid.uuid4() for _ in range(3)]
    storage = pa.array([u.bytes for u in ids], pa.binary(16))
    typed = table([(*EARLY[:1], 1720612740 + k, *EARLY[2:]) for k in range(3)])
    typed = typed.set_column(0, "id", pa.ExtensionArray.from_storage(_UuidType(), storage))
    assert sighting_columns_from_arrow(typed).id.tolist() == [str(u) for u in ids]


def test_uuid_text_past_32_bit_offsets(monkeypatch) -> None:
    """Past 59 million ids the text needs 64-bit offsets (a large string array)."""
    import data.herds

    monkeypatch.setattr(data.herds, "_STRING_BYTES", 36 * 3)  # as if 3 ids were 59 million
    ids = [uuid.uuid4() for _ in range(4)]
    text = uuid_text(pa.array([u.bytes for u in ids], pa.binary(16)))
    assert text.type == pa.large_string() and text.to_pylist() == [str(u) for u in ids]
    rows = [(f"{k}", 1720612740 + k, *EARLY[2:]) for k in range(4)]
    typed = table(rows).set_column(0, "id", pa.array([u.bytes for u in ids], pa.binary(16)))
    assert sighting_columns_from_arrow(typed).id.tolist() == [str(u) for u in ids]
