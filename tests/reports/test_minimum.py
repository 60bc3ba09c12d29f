"""A period's minimum count comes from one survey: repeated surveys of a range never add up."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread

from domain.census import CensusRule
from domain.records import Composition
from maps.style import population_colour
from reports.charts import counts_figure, population_rows
from reports.minimum import survey_keys
from reports.population import build_population_report
from tests.factories import YAKUTSK, make_observation

# Three herds of one population, seen by each of three surveys of 2024 (km apart, so that
# the herds stay distinct; months apart, so that de-duplication cannot join them).
HERDS = ((126.0, 71.0), (126.5, 71.0), (127.0, 71.0))
SURVEYS = {
    "march-snowmobile": (datetime(2024, 3, 20, 11, tzinfo=YAKUTSK), (300, 500, 400)),
    "july-aerial": (datetime(2024, 7, 12, 11, tzinfo=YAKUTSK), (900, 700, 800)),
    "september-foot": (datetime(2024, 9, 26, 11, tzinfo=YAKUTSK), (600, 650, 700)),
}
# Calves are born in May and June: none in March, many in July.
CALVES = {"march-snowmobile": 0, "july-aerial": 60, "september-foot": 40}


def three_surveys() -> list:
    observations = []
    for s, (survey, (when, counts)) in enumerate(SURVEYS.items()):
        for h, ((lon, lat), count) in enumerate(zip(HERDS, counts, strict=True)):
            classes = Composition(
                adult_males=20, adult_females=100, calves=CALVES[survey], unclassified=None
            )
            observations.append(
                make_observation(
                    10 * s + h,
                    observed_at=when + timedelta(hours=h),
                    lon=lon,
                    lat=lat,
                    count=count,
                    composition=classes,
                    survey_id=survey,
                )
            )
    return observations


def seen(n, when, lon, lat, count, survey, population="lena-olenek"):
    """One sighting of a herd, by its number, time, place, count and survey."""
    place = {"observed_at": when, "lon": lon, "lat": lat}
    return make_observation(n, **place, count=count, population=population, survey_id=survey)


@pytest.fixture
def surveyed(store):
    store.add_observations(three_surveys(), actor="olga")
    return store


def lena(frame):
    return frame[frame["population"] == "lena-olenek"]


def test_the_years_minimum_count_is_the_largest_survey_not_the_sum(surveyed):
    report = build_population_report(surveyed, "year", "2024")
    [row] = lena(report.summary).to_dict("records")
    assert row["minimum_count"] == 900 + 700 + 800  # July, not 1,200 + 2,400 + 1,950
    assert row["survey"] == "july-aerial" and row["surveys"] == 3 and row["herds"] == 3
    assert not row["census"]
    total = report.summary[report.summary["population"] == "all populations"].iloc[0]
    assert total["minimum_count"] == 2400
    assert total["sighting_total"] == 1200 + 2400 + 1950  # the raw sum, labelled as such
    # Every survey's own count beside it, and which one the figure is from.
    surveys = lena(report.surveys).set_index("survey")
    assert surveys["minimum_count"].to_dict() == {
        "july-aerial": 2400,
        "march-snowmobile": 1200,
        "september-foot": 1950,
    }
    assert surveys["used"].to_dict() == {
        "july-aerial": True,
        "march-snowmobile": False,
        "september-foot": False,
    }
    # The trend's point for 2024 is the same figure, from the same survey.
    [point] = lena(report.trend_counts).to_dict("records")
    assert (point["minimum_count"], point["survey"]) == (2400, "july-aerial")
    assert "never a sum across surveys" in " ".join(report.methods)


def test_a_designated_census_survey_is_used_when_configured(surveyed):
    by_season = CensusRule.parse(seasons=["lena-olenek=rut"])
    report = build_population_report(surveyed, "year", "2024", census=by_season)
    [row] = lena(report.summary).to_dict("records")
    assert (row["minimum_count"], row["survey"], row["census"]) == (1950, "september-foot", True)
    assert "Lena-Olenek: the rut season" in " ".join(report.methods)  # the name, not the id
    by_id = CensusRule.parse(surveys=["march-snowmobile"])
    report = build_population_report(surveyed, "year", "2024", census=by_id)
    assert lena(report.summary).iloc[0]["minimum_count"] == 1200
    with pytest.raises(ValueError, match="population=season"):
        CensusRule.parse(seasons=["lena-olenek"])


def test_composition_is_given_per_survey_never_pooled(surveyed):
    report = build_population_report(surveyed, "year", "2024")
    comp = lena(report.composition).set_index("survey")
    assert comp.loc["march-snowmobile", "calves_per_100_cows"] == 0
    assert comp.loc["july-aerial", "calves_per_100_cows"] == pytest.approx(60)
    assert comp.loc["september-foot", "calves_per_100_cows"] == pytest.approx(40)
    assert comp.loc["july-aerial", "season"] == "post-calving"
    assert len(comp) == 3  # no row pools March with July


def test_the_change_uses_the_same_single_survey_figure(store):
    july = datetime(2023, 7, 12, 11, tzinfo=YAKUTSK)
    last_year = [
        seen(100 + i, july + timedelta(hours=i), 126.0 + i, 71.0, 500, f"2023-{i}")
        for i in range(2)
    ]
    store.add_observations(three_surveys() + last_year, actor="olga")
    report = build_population_report(store, "year", "2024")
    [row] = lena(report.summary).to_dict("records")
    assert (row["previous_minimum_count"], row["change"]) == (500, 1900)


def test_the_trend_says_which_seasons_its_counts_come_from(store):
    """Seen: one year's count from a March survey in a run of July ones, unsaid. Here 2023's
    largest survey is in March, 2024's in July (the summer season)."""
    march = datetime(2023, 3, 20, 11, tzinfo=YAKUTSK)
    march_2023 = [
        seen(200 + i, march + timedelta(hours=i), 126.0 + i, 71.0, 450, "2023-march")
        for i in range(2)
    ]
    store.add_observations(three_surveys() + march_2023, actor="olga")
    report = build_population_report(store, "year", "2024")
    counts = lena(report.trend_counts)
    assert counts[["year", "survey"]].values.tolist() == [
        [2023, "2023-march"],
        [2024, "july-aerial"],
    ]
    seasons = dict(zip(counts["year"], counts["season"], strict=True))
    [row] = lena(report.trend).to_dict("records")
    assert row["counts_from"] == f"{seasons[2023]} ×1, {seasons[2024]} ×1"  # a tie: in order
    assert seasons[2023] != seasons[2024]


def test_a_population_not_counted_the_period_before_has_no_change(store):
    """Seen: previous 0 and a change of the whole count for a population not surveyed the
    year before, because another population was."""
    july = datetime(2023, 7, 12, 11, tzinfo=YAKUTSK)
    taimyr_2023 = seen(300, july, 100.0, 72.0, 800, "taimyr-2023", "taimyr")
    store.add_observations([*three_surveys(), taimyr_2023], actor="olga")
    report = build_population_report(store, "year", "2024")
    [row] = lena(report.summary).to_dict("records")
    assert row["minimum_count"] == 2400
    assert pd.isna(row["previous_minimum_count"]) and pd.isna(row["change"])  # "–"
    everyone = report.summary[report.summary["population"] == "all populations"].iloc[0]
    assert everyone["previous_minimum_count"] == 800  # taimyr's, the only one counted then
    assert pd.isna(everyone["change"])  # not +1,600: the two periods count other populations


def test_a_population_seen_in_one_area_then_two_keeps_its_previous_figure(store):
    """Seen: its "all areas" row, new this period, had previous 0 and a change of the
    whole count (the row existed only where a population was seen in several areas)."""

    def taimyr(i: int, year: int, lon: float, lat: float, count: int):
        when = datetime(year, 7, 12, 11 + i, tzinfo=YAKUTSK)
        return seen(400 + 10 * (year % 100) + i, when, lon, lat, count, f"taimyr-{year}", "taimyr")

    krasnoyarsk, sakha = (100.0, 72.0), (115.0, 70.0)
    then = [taimyr(0, 2023, *krasnoyarsk, 120)]
    now = [taimyr(0, 2024, *krasnoyarsk, 100), taimyr(1, 2024, *sakha, 50)]
    store.add_observations(then + now, actor="olga")
    report = build_population_report(store, "year", "2024")
    rows = report.summary[report.summary["population"] == "taimyr"].set_index("area")
    assert rows.loc["all areas", "minimum_count"] == 150
    assert rows.loc["all areas", "previous_minimum_count"] == 120
    assert rows.loc["all areas", "change"] == 30


def test_sightings_with_no_survey_are_grouped_in_survey_windows():
    import pandas as pd

    days = ["2024-03-01", "2024-03-02", "2024-03-04", "2024-03-09", "2024-03-10", "2024-03-17"]
    herds = pd.DataFrame(
        {
            "survey_id": ["", "", "", "", "", "s1"],
            "local_date": days,
            "population": ["lena-olenek"] * 6,
        }
    )
    keys = survey_keys(herds).tolist()
    # Gaps of 1 and 2 days keep a window; 5 days start a new one; a named survey is itself.
    assert keys == [
        "window:lena-olenek:2024-03-01",
        "window:lena-olenek:2024-03-01",
        "window:lena-olenek:2024-03-01",
        "window:lena-olenek:2024-03-09",
        "window:lena-olenek:2024-03-09",
        "s1",
    ]
    daily = pd.DataFrame(
        {
            "survey_id": [""] * 10,
            "local_date": [f"2024-04-{d:02d}" for d in range(1, 11)],
            "population": ["forest"] * 10,
        }
    )
    # A window is at most seven days long, however continuous the sightings.
    assert len(set(survey_keys(daily))) == 2


def test_the_counts_chart_draws_a_population_seen_in_one_area_only(sqlite_store):
    """Every population here is seen in one area: the chart used to be an empty frame."""
    sqlite_store.add_observations(three_surveys(), actor="olga")
    report = build_population_report(sqlite_store, "year", "2024")
    assert lena(population_rows(report.summary))["minimum_count"].tolist() == [2400]
    png = io.BytesIO()
    counts_figure(report).savefig(png, format="png", dpi=60)
    pixels = imread(io.BytesIO(png.getvalue()), format="png")[..., :3]
    colour = np.array([int(population_colour("lena-olenek")[i : i + 2], 16) for i in (1, 3, 5)])
    matches = (np.abs(pixels * 255 - colour) < 8).all(axis=-1).sum()
    assert matches > 500  # a bar of the population's colour, not a few legend pixels


def test_the_census_is_configured_from_the_command_line_and_the_settings(tmp_path):
    import csv

    from data.sqlite import SQLiteStore
    from field_api.cli import main
    from field_api.settings import Settings

    db = tmp_path / "h.db"
    store = SQLiteStore(str(db))
    store.migrate()
    store.add_observations(three_surveys(), actor="olga")
    store.close()
    out = tmp_path / "out"
    args = ["--database-url", f"sqlite:///{db}", "report", "--every", "year", "--period", "2024"]
    assert (
        main([*args, "--out", str(out), "--format", "csv", "--census-season", "lena-olenek=rut"])
        == 0
    )
    with open(out / "year" / "2024" / "herdwatch-year-2024-summary.csv") as f:
        [lena_row] = [r for r in csv.DictReader(f) if r["population"] == "lena-olenek"]
    assert (lena_row["minimum_count"], lena_row["survey"]) == ("1950", "september-foot")
    assert main([*args, "--out", str(tmp_path / "bad"), "--census-season", "rut"]) == 2
    settings = Settings(census_seasons="lena-olenek=post-calving", census_surveys="s1, s2")
    assert settings.census == CensusRule({"lena-olenek": "post-calving"}, frozenset({"s1", "s2"}))
    with pytest.raises(ValueError, match="population=season"):
        Settings(census_seasons="post-calving")
