"""The herd cache keeps what is made of the herds, few of each kind, until the data change."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from domain.seasons import SeasonCalendar
from reports.herd_cache import KEPT_PER_KIND, HerdCache
from reports.herds import CODED_COLUMNS, KEPT_COLUMNS, build_herds, load_inputs
from tests.factories import BASE_TIME, make_observation
from tests.reports.sample import sightings


def test_kept_things_are_made_once_and_go_with_the_data(store) -> None:
    store.add_observations(sightings(), actor="olga")
    cache, seasons = HerdCache(), SeasonCalendar()
    calls: list[int] = []

    def make(inputs, tables) -> int:
        calls.append(1)
        return tables.grouping.n_herds

    assert cache.kept(store, seasons, ("thing", 1), make) == 3
    assert cache.kept(store, seasons, ("thing", 1), make) == 3 and len(calls) == 1
    store.add_observations([_far_sighting()], actor="olga")
    assert cache.kept(store, seasons, ("thing", 1), make) == 4 and len(calls) == 2
    assert cache.builds == 2


def test_each_kind_keeps_only_its_allowance(store) -> None:
    store.add_observations(sightings(), actor="olga")
    cache, seasons = HerdCache(), SeasonCalendar()
    limit = KEPT_PER_KIND["report"]
    for k in range(limit + 3):
        cache.kept(store, seasons, ("report", k), lambda i, t, k=k: k)
    made = cache.made
    # The newest stay; the oldest were let go and are made again when asked.
    assert cache.kept(store, seasons, ("report", limit + 2), lambda i, t: -1) == limit + 2
    assert cache.kept(store, seasons, ("report", 0), lambda i, t: -1) == -1
    assert cache.made == made + 1


def test_nothing_is_kept_when_told_not_to(store) -> None:
    store.add_observations(sightings(), actor="olga")
    cache = HerdCache(keep=False)
    for _ in range(2):
        cache.kept(store, SeasonCalendar(), ("thing",), lambda i, t: 1)
    assert cache.made == 0 and cache.builds == 2


def test_the_kept_grouping_holds_one_compact_copy_of_the_sightings(store) -> None:
    store.add_observations(sightings(), actor="olga")
    inputs = load_inputs(store)
    tables = build_herds(inputs)
    cols, frame = inputs.sightings, tables.sightings
    assert list(frame.columns) == [*KEPT_COLUMNS, "herd"]  # what is read after the build
    assert cols.id.dtype == "str" and hasattr(cols.id, "_pa_array")  # Arrow, not objects
    assert frame["id"].array._pa_array is cols.id._pa_array  # shared, not copied
    for name in CODED_COLUMNS:  # few distinct texts: one byte a sighting, the texts once
        assert frame[name].cat.codes.dtype == np.int8
        assert frame[name].astype("str").tolist() == getattr(cols, name).tolist()
    assert np.shares_memory(frame["count"].to_numpy(), cols.count)
    assert tables.herds["herd_id"].dtype == "str" and tables.herds["year"].dtype == "str"


def test_the_cache_keeps_the_herds_but_not_the_sighting_columns(store) -> None:
    store.add_observations(sightings(), actor="olga")
    inputs, tables = HerdCache().herds(store, SeasonCalendar())
    assert len(inputs.sightings) == 0 and len(tables.sightings) == len(sightings())
    assert inputs.surveys == load_inputs(store).surveys  # the rest of the inputs stay


def _far_sighting():
    """A herd of its own, forty days after the sample's."""
    return make_observation(90, observed_at=BASE_TIME + timedelta(days=40), count=7)
