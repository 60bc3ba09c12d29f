"""The store contract: every backend gives the same answers to the same calls."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from data import rows as _rows
from data.store import ObservationStore
from domain.errors import Conflict, Gone, NotFound
from domain.records import Composition, ObservationQuery, Survey
from tests.factories import BASE_TIME, make_batch, make_observation


def test_new_observations_are_created_once(store: ObservationStore) -> None:
    batch = make_batch(3)
    assert [o.status for o in store.add_observations(batch, actor="olga")] == ["created"] * 3
    assert [o.status for o in store.add_observations(batch, actor="olga")] == ["unchanged"] * 3
    assert store.count_observations(ObservationQuery()) == 3


def test_same_id_different_content_conflicts_naming_fields(store: ObservationStore) -> None:
    obs = make_observation()
    store.add_observations([obs], actor="olga")
    changed = replace(obs, count=obs.count + 1, notes="recounted")
    [outcome] = store.add_observations([changed], actor="olga")
    assert outcome.status == "conflict"
    assert outcome.differing == ("count", "notes")
    assert store.get_observation(obs.id).count == obs.count


def test_same_instant_in_another_offset_is_an_identical_resend(store: ObservationStore) -> None:
    obs = make_observation()
    store.add_observations([obs], actor="olga")
    utc_spelling = replace(
        obs, observed_at=obs.observed_at.astimezone(BASE_TIME.tzinfo).astimezone(tz=None)
    )
    [outcome] = store.add_observations([utc_spelling], actor="olga")
    assert outcome.status == "unchanged"


def test_another_observers_id_conflicts_without_revealing_its_content(
    store: ObservationStore,
) -> None:
    obs = make_observation(observer="olga")
    store.add_observations([obs], actor="olga")
    [same] = store.add_observations([replace(obs, observer="ivan")], actor="ivan")
    [other] = store.add_observations([replace(obs, observer="ivan", count=1)], actor="ivan")
    for outcome in (same, other):
        assert (outcome.status, outcome.differing, outcome.revision) == ("conflict", (), None)
    assert store.get_observation(obs.id).observer == "olga"


def test_duplicate_ids_inside_one_batch_store_one_record(store: ObservationStore) -> None:
    obs = make_observation()
    outcomes = store.add_observations([obs, obs, replace(obs, count=1)], actor="olga")
    assert [o.status for o in outcomes] == ["created", "unchanged", "conflict"]
    assert store.count_observations(ObservationQuery()) == 1


def test_round_trip_keeps_every_field(store: ObservationStore) -> None:
    obs = make_observation(
        7,
        notes="ridge north of camp",
        behaviour="moving",
        survey_id="s-1",
        composition=Composition(1, 2, 3, 4, 5),
    )
    store.add_observations([obs], actor="olga")
    got = store.get_observation(obs.id)
    assert got.client_content() == obs.client_content()
    assert got.observed_at == obs.observed_at and got.observed_at.utcoffset() == timedelta(hours=9)
    assert (got.revision, got.status, got.observer, got.region) == (
        1,
        "active",
        "olga",
        "Sakha Republic",
    )


def test_points_outside_yakutia_are_flagged_not_rejected(store: ObservationStore) -> None:
    inside = make_observation(1)
    neighbour = make_observation(2, lon=100.5, lat=72.5)  # Taimyr, Krasnoyarsk Krai
    far = make_observation(3, lon=10.0, lat=60.0)  # Norway
    store.add_observations([inside, neighbour, far], actor="olga")
    assert store.get_observation(inside.id).flags == ()
    assert store.get_observation(neighbour.id).flags == ("outside-yakutia",)
    assert store.get_observation(neighbour.id).region == "Krasnoyarsk Krai"
    assert store.get_observation(far.id).flags == ("outside-yakutia", "outside-study-area")


def test_missing_observation_is_not_found(store: ObservationStore) -> None:
    with pytest.raises(NotFound):
        store.get_observation(make_observation(99).id)


def test_query_filters_by_bbox_time_population_and_survey(store: ObservationStore) -> None:
    batch = make_batch(10)
    batch[3] = replace(batch[3], population="sundrun", survey_id="s-2")
    batch[4] = replace(batch[4], lon=150.0, lat=69.0)
    store.add_observations(batch, actor="olga")
    ids = lambda q: {o.id for o in store.query_observations(q).items}  # noqa: E731
    assert batch[4].id not in ids(ObservationQuery(bbox=(125.0, 70.0, 135.0, 73.0)))
    assert ids(ObservationQuery(bbox=(149.0, 68.0, 151.0, 70.0))) == {batch[4].id}
    window = ObservationQuery(start=batch[2].observed_at, end=batch[5].observed_at)
    assert ids(window) == {batch[i].id for i in (2, 3, 4, 5)}
    assert ids(ObservationQuery(populations=("sundrun",))) == {batch[3].id}
    assert ids(ObservationQuery(survey_id="s-2")) == {batch[3].id}
    assert ids(ObservationQuery(methods=("photo",))) == set()


def test_bbox_across_the_antimeridian(store: ObservationStore) -> None:
    east = make_observation(1, lon=179.5, lat=66.0)
    west = make_observation(2, lon=-179.5, lat=66.0)
    middle = make_observation(3, lon=0.0, lat=66.0)
    store.add_observations([east, west, middle], actor="olga")
    found = {
        o.id
        for o in store.query_observations(ObservationQuery(bbox=(179.0, 65.0, -179.0, 67.0))).items
    }
    assert found == {east.id, west.id}


def test_survey_method_filter_uses_the_survey(store: ObservationStore) -> None:
    store.add_survey(Survey(id="air-1", method="aerial", started_at=BASE_TIME))
    flown = make_observation(1, survey_id="air-1")
    store.add_observations([flown, make_observation(2)], actor="olga")
    found = store.query_observations(ObservationQuery(survey_methods=("aerial",))).items
    assert [o.id for o in found] == [flown.id]


def test_paging_walks_every_record_once_in_time_order(store: ObservationStore) -> None:
    batch = make_batch(25)
    store.add_observations(list(reversed(batch)), actor="olga")
    seen, after = [], None
    while True:
        page = store.query_observations(ObservationQuery(limit=10, after=after))
        seen += [o.id for o in page.items]
        if page.next_after is None:
            break
        after = page.next_after
    assert seen == [o.id for o in batch]


def test_edit_against_current_revision_then_stale_revision_conflicts(
    store: ObservationStore,
) -> None:
    obs = make_observation()
    store.add_observations([obs], actor="olga")
    edited = store.update_observation(obs.id, {"count": 50}, base_revision=1, actor="olga")
    assert (edited.count, edited.revision) == (50, 2)
    with pytest.raises(Conflict):
        store.update_observation(obs.id, {"count": 51}, base_revision=1, actor="olga")
    assert store.get_observation(obs.id).count == 50


def test_resending_the_first_upload_after_an_edit_is_unchanged(store: ObservationStore) -> None:
    obs = make_observation()
    store.add_observations([obs], actor="olga")
    store.update_observation(obs.id, {"count": 50}, base_revision=1, actor="olga")
    [outcome] = store.add_observations([obs], actor="olga")
    assert (outcome.status, outcome.revision) == ("unchanged", 2)


def test_moving_a_point_retags_its_region(store: ObservationStore) -> None:
    obs = make_observation()
    store.add_observations([obs], actor="olga")
    moved = store.update_observation(
        obs.id, {"lon": 10.0, "lat": 60.0}, base_revision=1, actor="adam"
    )
    assert moved.flags == ("outside-yakutia", "outside-study-area")
    assert (
        store.query_observations(ObservationQuery(bbox=(9.0, 59.0, 11.0, 61.0))).items[0].id
        == obs.id
    )


def test_retraction_is_a_tombstone_with_history(store: ObservationStore) -> None:
    obs = make_observation()
    store.add_observations([obs], actor="olga")
    store.update_observation(obs.id, {"notes": "two calves"}, base_revision=1, actor="olga")
    store.retract_observation(obs.id, actor="olga", reason="duplicate of another tablet")
    assert store.get_observation(obs.id).status == "retracted"
    assert store.count_observations(ObservationQuery()) == 0
    assert store.count_observations(ObservationQuery(include_retracted=True)) == 1
    [outcome] = store.add_observations([obs], actor="olga")
    assert outcome.status == "gone"
    with pytest.raises(Gone):
        store.retract_observation(obs.id, actor="olga")
    with pytest.raises(Gone):
        store.update_observation(obs.id, {"count": 1}, base_revision=3, actor="olga")
    history = store.history(obs.id)
    assert [(r.revision, r.action, r.actor) for r in history] == [
        (1, "create", "olga"),
        (2, "edit", "olga"),
        (3, "retract", "olga"),
    ]
    assert history[1].before is not None and history[1].before["notes"] is None
    assert history[1].after is not None and history[1].after["notes"] == "two calves"
    assert history[2].reason == "duplicate of another tablet"
    assert history[0].after == history[1].before  # the create's snapshot


def test_history_of_an_unedited_record_shows_what_was_created(store: ObservationStore) -> None:
    obs = make_observation()
    store.add_observations([obs], actor="olga")
    [created] = store.history(obs.id)
    assert created.before is None and created.after is not None
    assert created.after["count"] == obs.count and created.after["revision"] == 1


def test_changes_feed_returns_each_change_after_the_cursor(store: ObservationStore) -> None:
    batch = make_batch(3)
    store.add_observations(batch, actor="olga")
    changed, cursor = store.changes_since(0, limit=100)
    assert {o.id for o in changed} == {o.id for o in batch}
    assert store.changes_since(cursor, limit=100) == ([], cursor)
    store.update_observation(batch[1].id, {"count": 9}, base_revision=1, actor="olga")
    changed, cursor2 = store.changes_since(cursor, limit=100)
    assert [(o.id, o.count) for o in changed] == [(batch[1].id, 9)] and cursor2 > cursor
    mine, _ = store.changes_since(0, limit=100, observer="someone-else")
    assert mine == []


def test_a_failure_halfway_through_a_batch_leaves_none_of_it(
    store: ObservationStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {"n": 0}
    real = _rows.revision_row

    def failing(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 50:
            raise RuntimeError("disk pulled out mid-batch")
        return real(*args, **kwargs)

    monkeypatch.setattr(_rows, "revision_row", failing)
    with pytest.raises(RuntimeError):
        store.add_observations(make_batch(100), actor="olga")
    monkeypatch.setattr(_rows, "revision_row", real)
    assert store.count_observations(ObservationQuery(include_retracted=True)) == 0
    assert store.changes_since(0, limit=10) == ([], 0)
    assert [o.status for o in store.add_observations(make_batch(100), actor="olga")] == [
        "created"
    ] * 100


def test_herd_counts_sum_per_period_population_and_cell(store: ObservationStore) -> None:
    batch = make_batch(6) + [
        make_observation(100, observed_at=BASE_TIME.replace(year=2023), population="sundrun")
    ]
    store.add_observations(batch, actor="olga")
    by_year = store.herd_counts(ObservationQuery(), every="year")
    expected = {
        ("2024", "lena-olenek"): sum(o.count for o in batch[:6]),
        ("2023", "sundrun"): batch[6].count,
    }
    assert {(c.period, c.population): c.animals for c in by_year} == expected
    assert {(c.period, c.population): c.sightings for c in by_year} == {
        ("2024", "lena-olenek"): 6,
        ("2023", "sundrun"): 1,
    }
    calves = {c.period: c.calves for c in by_year}
    assert calves["2024"] == 6 * 6
    cells = store.herd_counts(ObservationQuery(), every="month", by="cell", cell_size_m=100_000)
    assert sum(c.animals for c in cells) == sum(o.count for o in batch)
    assert all(":" in c.key for c in cells)


def test_periods_are_local_time(store: ObservationStore) -> None:
    # 31 December 20:00 UTC is already 1 January in Yakutsk (UTC+9).
    new_year = make_observation(
        1, observed_at=BASE_TIME.replace(year=2023, month=12, day=31, hour=20).astimezone(tz=None)
    )
    store.add_observations([replace(new_year, observed_at=new_year.observed_at)], actor="olga")
    [count] = store.herd_counts(ObservationQuery(), every="year")
    local_year = new_year.observed_at.astimezone(BASE_TIME.tzinfo).year
    assert count.period == str(local_year)


def test_seasons_follow_the_reindeer_calendar(store: ObservationStore) -> None:
    june = make_observation(1, observed_at=BASE_TIME.replace(month=6, day=1))
    january = make_observation(2, observed_at=BASE_TIME.replace(month=1, day=15))
    store.add_observations([june, january], actor="olga")
    periods = {c.period for c in store.herd_counts(ObservationQuery(), every="season")}
    assert periods == {"2024-calving", "2023-winter"}


def test_surveys_are_idempotent_by_id(store: ObservationStore) -> None:
    survey = Survey(
        id="aerial-2024-07",
        method="aerial",
        started_at=BASE_TIME,
        team=("Ivanov", "Petrova"),
        geometry={"type": "LineString", "coordinates": [[128.0, 71.0], [130.0, 72.0]]},
        effort_km=120.5,
        created_by="olga",
    )
    assert store.add_survey(survey).status == "created"
    assert store.add_survey(survey).status == "unchanged"
    with pytest.raises(Conflict):
        store.add_survey(replace(survey, method="foot"))
    got = store.get_survey("aerial-2024-07")
    assert (got.team, got.effort_km, got.geometry) == (survey.team, 120.5, survey.geometry)
    assert [s.id for s in store.list_surveys()] == ["aerial-2024-07"]
    with pytest.raises(NotFound):
        store.get_survey("nope")


def test_tokens_identify_users_until_revoked(store: ObservationStore) -> None:
    token = store.add_user("olga", "observer")
    second = store.add_token("olga")
    assert store.user_for_token(token).name == "olga"  # type: ignore[union-attr]
    assert store.user_for_token("wrong") is None
    with pytest.raises(Conflict):
        store.add_user("olga", "admin")
    store.revoke_token(second)
    assert store.user_for_token(second) is None and store.user_for_token(token) is not None
    store.revoke_user("olga")
    assert store.user_for_token(token) is None
    assert [(u.name, u.active) for u in store.list_users()] == [("olga", False)]


def test_feature_pages_equal_the_records_as_features(store: ObservationStore) -> None:
    from field_api.schemas import observation_feature

    batch = make_batch(12)
    batch[3] = replace(batch[3], lon=10.0, lat=60.0, notes="far away", accuracy_m=None)
    # Spellings a stored text could get wrong: escapes, Cyrillic, 17 significant digits,
    # whole seconds, a zone west of Greenwich and one with a historic offset in seconds.
    batch[4] = replace(
        batch[4],
        notes='herd "B"\\north\nстадо ✓',
        behaviour="\t",
        lon=129.12345678901234,
        lat=62.000000000000014,
        accuracy_m=0.1,
    )
    batch[6] = replace(
        batch[6],
        observed_at=batch[6].observed_at.replace(microsecond=0),
        timezone="America/Anchorage",
        survey_id="s-1",
    )
    batch[7] = replace(
        batch[7], observed_at=datetime(1880, 6, 1, 12, tzinfo=UTC), timezone="Asia/Yakutsk"
    )
    # A zone PostgreSQL would read as a fixed-offset abbreviation, and whole-number floats.
    batch[8] = replace(
        batch[8],
        observed_at=datetime(2024, 7, 1, 10, tzinfo=UTC),
        timezone="CET",
        lon=130.0,
        lat=62.0,
        accuracy_m=5.0,
    )
    store.add_observations(batch, actor="olga")
    store.update_observation(batch[5].id, {"count": 99}, base_revision=1, actor="olga")
    after = None
    while True:
        query = ObservationQuery(limit=5, after=after)
        records, features = store.query_observations(query), store.query_features(query)
        # Byte for byte: the same spelling of every number and time as a single GET.
        assert features.features == msgspec.json.encode(
            [observation_feature(o) for o in records.items]
        )
        assert features.returned == len(records.items)
        assert features.next_after == records.next_after
        if records.next_after is None:
            break
        after = records.next_after


def test_migrate_measures_stored_survey_tracks_again_on_the_ellipsoid(
    store: ObservationStore,
) -> None:
    """A survey stored with its km measured in EPSG:3576 (one degree of meridian at 56° N
    as 106.6 km) holds the ellipsoid's 111.35 km once the 0010 migration has run."""
    track = {"type": "LineString", "coordinates": [[121.0, 56.0], [121.0, 57.0]]}
    old = Survey(id="air-old", method="aerial", started_at=BASE_TIME, geometry=track)
    old = replace(old, effort_km=106.629)  # as EPSG:3576 measured it
    store.add_survey(old)
    with store._write() as conn:  # type: ignore[attr-defined]  # as before the migration
        conn.execute(store._sql("DELETE FROM schema_migrations WHERE version = {p}"), (10,))  # type: ignore[attr-defined]
    odd = Survey(id="air-odd", method="aerial", started_at=BASE_TIME, effort_km=5.0)
    store.add_survey(odd)
    with store._write() as conn:  # type: ignore[attr-defined]  # strata stored by hand, oddly
        conn.execute(
            store._sql("UPDATE surveys SET strata = {p} WHERE id = {p}"),  # type: ignore[attr-defined]
            ('[{"name": "no transects"}]', "air-odd"),
        )
    applied = store.migrate()
    assert applied == ["0010_effort_on_the_ellipsoid"]
    assert store.get_survey("air-old").effort_km == pytest.approx(111.351, abs=1e-3)
    sql = store._sql("SELECT effort_km FROM surveys WHERE id = {p}")  # type: ignore[attr-defined]
    assert store._read_one(sql, ("air-odd",))[0] == 5.0  # type: ignore[attr-defined]  # as it was
    assert store.migrate() == []  # once
