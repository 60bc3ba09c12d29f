"""Population report arithmetic on small, hand-checked data sets."""

from __future__ import annotations

from datetime import timedelta

import pytest

from data.herds import HerdDecision
from data.records import Composition
from reports.herds import build_herds, load_inputs
from reports.periods import PeriodError
from reports.population import build_population_report, compute_report
from tests.factories import BASE_LAT, BASE_LON, BASE_TIME, make_observation

# Three km east of the base point at 71.64°N is 0.0855° of longitude.
THREE_KM_EAST = 3 / (111.32 * 0.31449)


def sightings():
    """2023: one herd of 100. 2024: one herd seen by two teams 3 km and 2 h apart, and a
    herd of 50 about 300 km south in the same hour."""
    last_year = make_observation(
        1, observed_at=BASE_TIME - timedelta(days=365), count=100,
        composition=Composition(adult_males=30, adult_females=50, calves=10))  # fmt: skip
    first_team = make_observation(
        2, count=400, composition=Composition(adult_males=100, adult_females=200, yearlings=20,
                                              calves=50))  # fmt: skip
    second_team = make_observation(
        3, observed_at=BASE_TIME + timedelta(hours=2), lon=BASE_LON + THREE_KM_EAST,
        lat=BASE_LAT, count=380, composition=Composition(adult_males=90, adult_females=190,
                                                         calves=45, unclassified=55))  # fmt: skip
    far_away = make_observation(
        4, observed_at=BASE_TIME + timedelta(minutes=30), lon=BASE_LON, lat=BASE_LAT - 2.7,
        count=50, composition=Composition(adult_males=10, adult_females=20, yearlings=2, calves=6))  # fmt: skip
    return [last_year, first_team, second_team, far_away]


@pytest.fixture
def loaded(sqlite_store):
    sqlite_store.add_observations(sightings(), actor="olga")
    return sqlite_store


def row(frame, **match):
    chosen = frame
    for key, value in match.items():
        chosen = chosen[chosen[key] == value]
    assert len(chosen) == 1, chosen
    return chosen.iloc[0]


def test_summary_counts_herds_not_sightings(loaded):
    report = build_population_report(loaded, "year", "2024")
    total = row(report.summary, population="all populations")
    assert (total["sightings"], total["herds"]) == (3, 2)
    assert total["minimum_count"] == 400 + 50  # the merged herd counts its largest sighting
    assert total["sighting_total"] == 830  # raw, shown beside it and labelled
    assert total["previous_minimum_count"] == 100
    assert (total["change"], total["change_pct"]) == (350, 350.0)
    lena = row(report.summary, population="lena-olenek", area="Sakha Republic")
    assert lena["herds"] == 2 and lena["minimum_count"] == 450


def test_a_merge_decision_changes_the_next_report(loaded):
    ids = [o.id for o in sightings()]
    before = build_population_report(loaded, "year", "2024")
    loaded.add_herd_decision(HerdDecision("merge", (ids[1], ids[3]), actor="rita"))
    after = build_population_report(loaded, "year", "2024")
    assert row(before.summary, population="all populations")["herds"] == 2
    merged = row(after.summary, population="all populations")
    assert (merged["herds"], merged["minimum_count"]) == (1, 400)
    assert after.decisions == 1


def test_a_reject_decision_splits_the_two_teams_herd(loaded):
    ids = [o.id for o in sightings()]
    loaded.add_herd_decision(HerdDecision("reject", (ids[1], ids[2]), actor="rita"))
    report = build_population_report(loaded, "year", "2024")
    assert row(report.summary, population="all populations")["minimum_count"] == 400 + 380 + 50


def test_composition_uses_each_herds_best_classified_sighting(loaded):
    report = build_population_report(loaded, "year", "2024")
    comp = row(report.composition, population="lena-olenek")
    assert comp["herds_classified"] == 2
    assert comp["calves_per_100_cows"] == pytest.approx(round(100 * 56 / 220, 2))
    assert comp["bulls_per_100_cows"] == pytest.approx(round(100 * 110 / 220, 2))
    assert comp["percent_calves"] == pytest.approx(round(100 * 56 / (370 + 38), 2))
    assert comp["calves_per_100_cows_low"] < comp["calves_per_100_cows"] < comp["calves_per_100_cows_high"]


def test_herds_table_lists_the_sightings_each_herd_merged(loaded):
    report = build_population_report(loaded, "year", "2024")
    ids = [str(o.id) for o in sightings()]
    merged = row(report.herds, size=400)
    assert sorted(merged["sighting_ids"].split()) == sorted([ids[1], ids[2]])
    assert merged["herd_id"] == ids[1] and merged["sightings"] == 2


def test_months_and_previous_periods(loaded):
    report = build_population_report(loaded, "month", "2024-07")
    assert report.previous.key == "2024-06"
    assert row(report.summary, population="all populations")["previous_minimum_count"] is None
    season = build_population_report(loaded, "season", "2024-post-calving")
    assert season.previous.key == "2024-calving" and len(season.herds) == 2


def test_effort_credits_herds_to_their_survey(loaded):
    report = build_population_report(loaded, "year", "2024")
    effort = row(report.effort, population="lena-olenek")
    assert effort["method"] == "no survey" and effort["minimum_count"] == 450


def test_trend_needs_three_years(loaded):
    report = build_population_report(loaded, "year", "2024")
    lena = row(report.trend, population="lena-olenek")
    assert lena["years"] == 2 and lena["rate_pct"] is None
    assert report.trend_counts[report.trend_counts["population"] == "lena-olenek"][
        "minimum_count"].tolist() == [100, 450]  # fmt: skip


def test_the_methods_note_says_what_was_counted(loaded):
    text = " ".join(build_population_report(loaded, "year", "2024").methods)
    assert "de-duplicated herd sizes" in text and "not a population count" in text
    assert "EPSG:3576" in text and "quasi-Poisson" in text and "24 hours" in text


def test_herds_are_built_once_for_many_periods(loaded):
    inputs = load_inputs(loaded)
    tables = build_herds(inputs)
    years = [compute_report(inputs, tables, "year", y) for y in ("2023", "2024")]
    assert [len(r.herds) for r in years] == [1, 2]


@pytest.mark.parametrize(("every", "period", "field"), [
    ("week", "2024", "every"), ("year", "24", "period"), ("month", "2024-13", "period"),
    ("season", "2024-spring", "period"),
])  # fmt: skip
def test_bad_periods_name_the_field(loaded, every, period, field):
    with pytest.raises(PeriodError) as caught:
        build_population_report(loaded, every, period)
    assert caught.value.field == field
