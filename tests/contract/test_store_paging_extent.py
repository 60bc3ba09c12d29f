"""Store methods behind /ogc on every backend: bounded counts, extents, pages before a key."""

from __future__ import annotations

from dataclasses import replace

from domain.records import ObservationQuery
from tests.ogc_sample import seed


def _ids(page):
    return [str(o.id) for o in page.items]


def test_count_at_most_stops_at_the_cap(store):
    seed(store)
    total = store.count_observations(ObservationQuery())
    assert store.count_at_most(ObservationQuery(), total) == total
    assert store.count_at_most(ObservationQuery(), total - 1) is None
    photo = ObservationQuery(methods=("photo",))
    assert store.count_at_most(photo, 100) == store.count_observations(photo)


def test_extent_of_a_query(store):
    assert store.observation_extent(ObservationQuery()) is None
    seed(store)
    items = store.query_observations(
        ObservationQuery(limit=1000, populations=("lena-olenek",))
    ).items
    extent = store.observation_extent(ObservationQuery(populations=("lena-olenek",)))
    assert (extent.min_lon, extent.max_lon) == (
        min(o.lon for o in items),
        max(o.lon for o in items),
    )
    assert (extent.min_lat, extent.max_lat) == (
        min(o.lat for o in items),
        max(o.lat for o in items),
    )
    assert extent.start == items[0].observed_at and extent.end == items[-1].observed_at


def test_the_page_before_a_key_is_in_time_order(store):
    seed(store)
    everything = _ids(store.query_observations(ObservationQuery(limit=1000)))
    forward = store.query_observations(ObservationQuery(limit=10))
    second = store.query_observations(ObservationQuery(limit=10, after=forward.next_after))
    key = second.next_after
    before = store.query_observations(ObservationQuery(limit=10, before=key))
    assert _ids(before) == everything[9:19] and before.next_after is None  # key: the 20th
    first = store.query_observations(replace(ObservationQuery(limit=25), before=key))
    assert _ids(first) == everything[:19]
    text = store.query_features(ObservationQuery(limit=10, before=key))
    assert text.returned == 10 and text.next_after is None
