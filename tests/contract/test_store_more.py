"""More of the store contract: edges where two SQL dialects could quietly disagree."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from data.bulk import StoredObservation
from data.store import ObservationStore
from domain.records import ObservationQuery, Survey
from domain.seasons import SeasonCalendar
from tests.factories import BASE_TIME, make_batch, make_observation


def _ids(store: ObservationStore, query: ObservationQuery) -> set[object]:
    return {o.id for o in store.query_observations(query).items}


def test_bbox_and_time_window_together_are_exact_at_every_edge(store: ObservationStore) -> None:
    t0, t1 = BASE_TIME, BASE_TIME + timedelta(days=30)
    inside = [
        make_observation(1, lon=130.0, lat=70.0, observed_at=t0),  # corner, first instant
        make_observation(2, lon=131.0, lat=71.0, observed_at=t1),  # corner, last instant
        make_observation(3, lon=130.5, lat=70.5, observed_at=t0 + timedelta(days=3)),
    ]
    outside = [
        make_observation(4, lon=131.0000001, lat=70.5, observed_at=t0 + timedelta(days=1)),
        make_observation(5, lon=130.5, lat=69.9999999, observed_at=t0 + timedelta(days=1)),
        make_observation(6, lon=130.5, lat=70.5, observed_at=t0 - timedelta(microseconds=1)),
        make_observation(7, lon=130.5, lat=70.5, observed_at=t1 + timedelta(microseconds=1)),
        make_observation(8, lon=140.0, lat=70.5, observed_at=t0 + timedelta(days=1)),
    ]
    store.add_observations(inside + outside, actor="olga")
    query = ObservationQuery(bbox=(130.0, 70.0, 131.0, 71.0), start=t0, end=t1)
    assert _ids(store, query) == {o.id for o in inside}
    assert store.count_observations(query) == 3
    assert _ids(store, replace(query, end=None)) == {o.id for o in inside} | {outside[3].id}
    assert _ids(store, replace(query, start=None)) == {o.id for o in inside} | {outside[2].id}


def test_bbox_across_the_antimeridian_with_a_time_window(store: ObservationStore) -> None:
    when = BASE_TIME + timedelta(days=1)
    east = make_observation(1, lon=179.5, lat=66.0, observed_at=when)
    west = make_observation(2, lon=-179.5, lat=66.0, observed_at=when)
    late = make_observation(3, lon=-179.5, lat=66.0, observed_at=when + timedelta(days=400))
    store.add_observations([east, west, late], actor="olga")
    query = ObservationQuery(
        bbox=(179.0, 65.0, -179.0, 67.0), start=BASE_TIME, end=BASE_TIME + timedelta(days=10)
    )
    assert _ids(store, query) == {east.id, west.id}


def test_paging_a_bbox_and_time_window_walks_each_record_once(store: ObservationStore) -> None:
    batch = make_batch(30)
    store.add_observations(batch, actor="olga")
    query = ObservationQuery(
        bbox=(110.0, 60.0, 150.0, 75.0),
        start=batch[3].observed_at,
        end=batch[26].observed_at,
        limit=4,
    )
    seen = []
    while True:
        page = store.query_observations(query)
        seen += [o.id for o in page.items]
        if page.next_after is None:
            break
        query = replace(query, after=page.next_after)
    assert seen == [o.id for o in batch[3:27]]


def test_a_cursor_whose_id_is_not_a_uuid_pages_like_text(store: ObservationStore) -> None:
    batch = make_batch(3, observed_at=BASE_TIME)  # one instant: the id decides the order
    store.add_observations(batch, actor="olga")
    ordered = sorted(str(o.id) for o in batch)
    moment = batch[0].observed_at.astimezone(BASE_TIME.tzinfo).isoformat()
    utc = store.query_observations(ObservationQuery(limit=1)).next_after
    assert utc is not None
    for fake, expected in (("", ordered), ("~", []), (ordered[1][:8], ordered[1:])):
        page = store.query_observations(ObservationQuery(after=(utc[0], fake)))
        assert [str(o.id) for o in page.items] == expected, (moment, fake)


def test_cell_keys_and_periods_sort_bytewise(store: ObservationStore) -> None:
    # West of the pole-to-Greenwich axis the EPSG:3576 cells have negative indices.
    places = [(60.0, 70.0), (140.0, 70.0), (-170.0, 66.0), (10.0, 60.0)]
    batch = [make_observation(i, lon=lon, lat=lat) for i, (lon, lat) in enumerate(places)]
    store.add_observations(batch, actor="olga")
    cells = store.herd_counts(ObservationQuery(), every="year", by="cell", cell_size_m=50_000)
    keys = [c.key for c in cells]
    assert keys == sorted(keys) and any(k.startswith("-") for k in keys) and len(keys) == 4
    regions = store.herd_counts(ObservationQuery(), every="year", by="region")
    assert [c.key for c in regions] == sorted(c.key for c in regions)
    assert "outside study area" in {c.key for c in regions}


def test_a_custom_season_calendar_wraps_the_year(store: ObservationStore) -> None:
    calendar = SeasonCalendar.parse("spring=03-01,autumn=09-01")
    days = [(2024, 2, 28), (2024, 3, 1), (2024, 8, 31), (2024, 9, 1), (2024, 12, 31)]
    batch = [
        make_observation(i, observed_at=BASE_TIME.replace(year=y, month=m, day=d))
        for i, (y, m, d) in enumerate(days)
    ]
    store.add_observations(batch, actor="olga")
    counts = store.herd_counts(ObservationQuery(), every="season", seasons=calendar)
    assert {c.period: c.sightings for c in counts} == {
        "2023-autumn": 1,
        "2024-spring": 2,
        "2024-autumn": 2,
    }


def test_changes_feed_for_one_observer(store: ObservationStore) -> None:
    store.add_observations(make_batch(3, observer="olga"), actor="olga")
    store.add_observations(make_batch(2, start=10, observer="ivan"), actor="ivan")
    mine, cursor = store.changes_since(0, limit=10, observer="ivan")
    assert {o.observer for o in mine} == {"ivan"} and len(mine) == 2
    assert store.changes_since(cursor, limit=10, observer="ivan") == ([], cursor)


def test_surveys_and_users_list_in_bytewise_order(store: ObservationStore) -> None:
    for sid in ("b-2", "B-1", "a-3", "_x"):
        store.add_survey(Survey(id=sid, method="foot", started_at=BASE_TIME))
    assert [s.id for s in store.list_surveys()] == ["B-1", "_x", "a-3", "b-2"]
    assert [s.id for s in store.list_surveys(after="_x", limit=1)] == ["a-3"]
    for name in ("olga", "Ivan", "adam"):
        store.add_user(name, "observer")
    assert [u.name for u in store.list_users()] == ["Ivan", "adam", "olga"]


def test_import_keeps_all_and_only_a_later_revision_replaces(store: ObservationStore) -> None:
    original = replace(make_observation(1), created_at=BASE_TIME, updated_at=BASE_TIME)
    item = StoredObservation(original, "f" * 64, 7)
    assert store.import_observations([item]) == 1
    assert store.import_observations([item]) == 0  # re-run: nothing new
    [[copied]] = list(store.export_observations())
    assert copied == item
    older = replace(item, observation=replace(original, count=1))
    newer = replace(item, observation=replace(original, count=2, revision=2), change_seq=9)
    store.import_observations([older])
    assert store.get_observation(original.id).count == original.count
    store.import_observations([newer])
    assert store.get_observation(original.id).count == 2
    [[exported]] = list(store.export_observations())
    assert exported.change_seq == 9 and exported.upload_hash == "f" * 64
