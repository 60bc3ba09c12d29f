"""Sighting columns agree on every backend: whole UTC seconds, the fraction dropped."""

from __future__ import annotations

from datetime import timedelta

from data.store import ObservationStore
from domain.records import ObservationQuery
from tests.factories import BASE_TIME, make_observation


def test_epoch_seconds_drop_the_fraction(store: ObservationStore) -> None:
    almost = BASE_TIME + timedelta(seconds=19, microseconds=999_864)
    store.add_observations([make_observation(1, observed_at=almost)], actor="olga")
    columns = store.sighting_columns(ObservationQuery())
    assert list(columns.epoch_s) == [float(int(almost.timestamp()))]
