"""Population report arithmetic on small, hand-checked data sets."""

from __future__ import annotations

import pytest

from data.herds import HerdDecision
from domain.periods import PeriodError
from reports.herds import build_herds, load_inputs
from reports.population import build_population_report, compute_report
from tests.reports.sample import sightings


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
    low, high = comp["calves_per_100_cows_low"], comp["calves_per_100_cows_high"]
    assert low < comp["calves_per_100_cows"] < high


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
    assert effort["method"] == "no survey" and effort["herd_animals"] == 450


def test_trend_needs_three_years(loaded):
    report = build_population_report(loaded, "year", "2024")
    lena = row(report.trend, population="lena-olenek")
    assert lena["years"] == 2 and lena["rate_pct"] is None
    assert report.trend_counts[report.trend_counts["population"] == "lena-olenek"][
        "minimum_count"
    ].tolist() == [100, 450]


def test_the_methods_note_says_what_was_counted(loaded):
    text = " ".join(build_population_report(loaded, "year", "2024").methods)
    assert "de-duplicated herds" in text and "not a population count" in text
    assert "never a sum across surveys" in text and "survey windows" in text
    assert "EPSG:3576" in text and "quasi-Poisson" in text and "24 hours" in text


def test_herds_are_built_once_for_many_periods(loaded):
    inputs = load_inputs(loaded)
    tables = build_herds(inputs)
    years = [compute_report(inputs, tables, "year", y) for y in ("2023", "2024")]
    assert [len(r.herds) for r in years] == [1, 2]


@pytest.mark.parametrize(
    ("every", "period", "field"),
    [
        ("week", "2024", "every"),
        ("year", "24", "period"),
        ("month", "2024-13", "period"),
        ("season", "2024-spring", "period"),
    ],
)
def test_bad_periods_name_the_field(loaded, every, period, field):
    with pytest.raises(PeriodError) as caught:
        build_population_report(loaded, every, period)
    assert caught.value.field == field
