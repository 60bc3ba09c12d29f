"""Rows as either backend sends them become the same typed sighting columns."""

from __future__ import annotations

import numpy as np

from data.herds import sighting_columns_from_rows

# In SIGHTING_COLUMNS order: id, epoch, local date, lon, lat, x, y, count, 5 classes, population,
# region, survey, synthetic.
LATE = (
    "b",
    "2024-07-10T12:00:59.999864+00:00",
    "2024-07-10",
    120.5,
    63.25,
    1.5e6,
    -2.25e6,
    40,
    None,
    20,
    None,
    5,
    15,
    "lena-olenek",
    None,
    None,
    1,
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
    0,
)


def test_rows_become_typed_columns_in_time_order() -> None:
    cols = sighting_columns_from_rows(iter([LATE, EARLY]))  # a cursor is an iterator
    assert cols.id.tolist() == ["a", "b"]
    assert cols.epoch_s.tolist() == [1720612740.0, 1720612859.0]  # the fraction dropped
    assert cols.count.dtype == np.int64 and cols.count.tolist() == [7, 40]
    assert cols.adult_males.tolist() == [1, -1] and cols.yearlings.tolist() == [3, -1]
    assert cols.region.tolist() == ["Sakha Republic", ""] and cols.survey_id.tolist() == ["s1", ""]
    assert cols.ea_x.tolist() == [1.4e6, 1.5e6] and cols.lat.dtype == np.float64
    assert cols.synthetic.tolist() == [False, True]


def test_numeric_epochs_and_no_rows() -> None:
    numeric = (*EARLY[:1], 1720612740, *EARLY[2:])
    assert sighting_columns_from_rows([numeric]).epoch_s.tolist() == [1720612740.0]
    assert len(sighting_columns_from_rows([])) == 0
