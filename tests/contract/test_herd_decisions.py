"""Herd decisions and sighting columns: the same behaviour on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from data.herds import HerdDecision
from data.store import ObservationStore
from domain.records import Composition, ObservationQuery, Survey
from tests.factories import BASE_TIME, make_batch, make_observation


def test_decisions_are_kept_in_order_with_who_and_when(store):
    a, b, c = (make_observation(i).id for i in range(3))
    before = datetime.now(UTC) - timedelta(seconds=5)
    first = store.add_herd_decision(HerdDecision("merge", (a, b, c), actor="rita", note="one herd"))
    second = store.add_herd_decision(HerdDecision("split", (c,), actor="adam", other_ids=(a, b)))
    listed = store.list_herd_decisions()
    assert [d.id for d in listed] == [first.id, second.id] and first.id < second.id
    assert listed[0] == first and listed[0].observation_ids == (a, b, c)
    assert listed[0].actor == "rita" and listed[0].note == "one herd"
    assert listed[1].action == "split" and listed[1].other_ids == (a, b) and listed[1].note is None
    assert listed[1].decided_at is not None and listed[1].decided_at >= before


def test_no_decisions_is_an_empty_list(store):
    assert store.list_herd_decisions() == []


def test_sighting_columns_hold_active_sightings_in_time_order(store):
    late = make_observation(1, composition=Composition(adult_females=20, calves=None))
    early = make_observation(2, observed_at=late.observed_at - timedelta(hours=3), count=99)
    gone = make_observation(3)
    store.add_observations([late, early, gone], actor="olga")
    store.retract_observation(gone.id, actor="olga")
    cols = store.sighting_columns(ObservationQuery())
    assert list(cols.id) == [str(early.id), str(late.id)]
    assert cols.count.tolist() == [99, late.count]
    assert cols.epoch_s[1] - cols.epoch_s[0] == 3 * 3600
    assert cols.epoch_s[1] == late.observed_at.timestamp()
    assert cols.local_date.tolist() == ["2024-07-10", "2024-07-10"]
    assert cols.calves[1] == -1 and cols.adult_females[1] == 20
    assert cols.population.tolist() == ["lena-olenek"] * 2
    assert cols.region.tolist() == ["Sakha Republic"] * 2
    assert np.isclose(cols.lon[0], early.lon) and cols.ea_x.dtype == np.float64
    assert cols.synthetic.tolist() == [False, False]


def test_sighting_columns_mark_synthetic_records(store):
    store.add_observations(
        [make_observation(1, flags=("synthetic",)), make_observation(2)], actor="olga"
    )
    assert store.sighting_columns(ObservationQuery()).synthetic.tolist() == [True, False]


def test_sighting_columns_follow_the_query_filters(store):
    sundrun = make_observation(2, population="sundrun")
    store.add_observations([make_observation(1), sundrun], actor="olga")
    cols = store.sighting_columns(ObservationQuery(populations=("sundrun",)))
    assert cols.population.tolist() == ["sundrun"]
    assert len(store.sighting_columns(ObservationQuery(populations=("taimyr",)))) == 0


def test_sighting_columns_break_same_second_ties_by_id(store):
    same = [make_observation(n, observed_at=make_observation(0).observed_at) for n in range(5, 9)]
    store.add_observations(same, actor="olga")
    assert list(store.sighting_columns(ObservationQuery()).id) == sorted(str(o.id) for o in same)


def test_the_data_version_moves_with_every_change_a_report_could_see(
    store: ObservationStore,
) -> None:
    batch = make_batch(3)
    seen = [store.data_version()]
    store.add_observations(batch, actor="olga")
    seen.append(store.data_version())
    store.add_observations(batch, actor="olga")  # a re-send changes nothing
    assert store.data_version() == seen[-1]
    store.update_observation(batch[0].id, {"count": 7}, base_revision=1, actor="olga")
    seen.append(store.data_version())
    store.retract_observation(batch[1].id, actor="olga")
    seen.append(store.data_version())
    store.add_herd_decision(HerdDecision("merge", (batch[0].id, batch[2].id), actor="rita"))
    seen.append(store.data_version())
    store.add_survey(Survey(id="s-1", method="aerial", started_at=BASE_TIME, created_by="rita"))
    seen.append(store.data_version())
    assert len(set(seen)) == len(seen), seen
