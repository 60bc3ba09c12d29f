"""Maps of de-duplicated herds show the report's numbers: every period, filters, decisions."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import datetime, timedelta

import pytest

from data.herds import HerdDecision
from reports.population import build_population_report
from tests.factories import YAKUTSK, make_observation
from tests.reports.test_minimum import three_surveys

MAP = "/maps/herd-counts"


def sundrun_and_a_second_team() -> list:
    """Two Sundrun surveys in 2024 (one herd seen twice by two teams an hour apart), and a
    Lena-Olenek herd in 2023."""
    when = datetime(2024, 7, 20, 9, tzinfo=YAKUTSK)
    made = [
        make_observation(
            200,
            population="sundrun",
            observed_at=when,
            lon=152.0,
            lat=70.6,
            count=300,
            survey_id="sundrun-july",
        ),
        make_observation(
            201,
            population="sundrun",
            observed_at=when + timedelta(hours=1),
            lon=152.01,
            lat=70.6,
            count=280,
            survey_id="sundrun-july",
        ),
        make_observation(
            202,
            population="sundrun",
            observed_at=when + timedelta(days=60),
            lon=151.0,
            lat=70.0,
            count=150,
            survey_id="sundrun-september",
        ),
        make_observation(
            203,
            observed_at=datetime(2023, 7, 12, 10, tzinfo=YAKUTSK),
            count=900,
            survey_id="lena-2023",
        ),
    ]
    return made


@pytest.fixture
def surveyed(api):
    api.store.add_observations(three_surveys() + sundrun_and_a_second_team(), actor="olga")
    return api


def map_counts(html: str) -> dict[tuple[str, str], int]:
    """(period, population) → animals drawn, read from the page's data table."""
    found = re.search(r'id="hw-map-data">(.*?)</script>', html, re.S)
    assert found
    data = json.loads(found.group(1))
    sums: dict[tuple[str, str], int] = defaultdict(int)
    for i, rows in enumerate(data["counts"]):
        for row in rows:
            sums[(data["periods"][i], data["populations"][row[0]]["id"])] += row[2]
    return dict(sums)


def totals_table(html: str) -> dict[str, int]:
    rows = re.findall(r'data-period="([^"]+)">.*?hw-animals">([\d,]+)<', html)
    return {period: int(n.replace(",", "")) for period, n in rows}


def report_counts(store, every: str, periods: list[str], population: str | None = None):
    """(period, population) → the report's minimum count (populations over all areas)."""
    found = {}
    for period in periods:
        summary = build_population_report(store, every, period).summary
        for row in summary.to_dict("records"):
            several = (summary["population"] == row["population"]).sum() > 1
            if row["population"] == "all populations" or (several and row["area"] != "all areas"):
                continue
            if population is None or row["population"] == population:
                found[(period, row["population"])] = row["minimum_count"]
    return {k: v for k, v in found.items() if v}


@pytest.mark.parametrize("every", ["year", "season", "month"])
def test_the_herd_map_and_its_totals_equal_the_reports_minimum_counts(surveyed, every):
    html = surveyed.researcher.get(MAP, params={"every": every}).text
    drawn = map_counts(html)
    periods = sorted({p for p, _ in drawn})
    assert drawn == report_counts(surveyed.store, every, periods)
    if every == "year":
        # 2024: Lena-Olenek's July survey (2,400, not the 5,550 of all three) and Sundrun's
        # July survey with its two teams' sighting merged (300, not 580).
        assert drawn[("2024", "lena-olenek")] == 2400 and drawn[("2024", "sundrun")] == 300
    table = totals_table(html)
    for period in periods:
        total = build_population_report(surveyed.store, every, period).summary.iloc[-1]
        assert table[period] == total["minimum_count"]


def test_a_filter_never_splits_a_herd_and_gives_the_reports_figure(surveyed):
    lena = map_counts(surveyed.researcher.get(MAP, params={"population": "lena-olenek"}).text)
    assert lena == report_counts(surveyed.store, "year", ["2023", "2024"], "lena-olenek")
    # A box around the two teams' sightings counts their herd once (300, its largest
    # sighting) and leaves out Sundrun's September herd further south-west.
    box = {"bbox": "151.5,70.5,152.5,70.7", "population": "sundrun"}
    boxed = map_counts(surveyed.researcher.get(MAP, params=box).text)
    assert boxed == {("2024", "sundrun"): 300}
    month = {"datetime": "2024-07-01T00:00:00+09:00/2024-07-31T23:59:59+09:00"}
    july = map_counts(surveyed.researcher.get(MAP, params=month).text)
    assert july == {("2024", "lena-olenek"): 2400, ("2024", "sundrun"): 300}


def test_herd_decisions_change_the_map_as_they_change_the_report(surveyed):
    ids = [o.id for o in sundrun_and_a_second_team()]
    surveyed.store.add_herd_decision(HerdDecision("reject", (ids[0], ids[1]), actor="rita"))
    drawn = map_counts(surveyed.researcher.get(MAP).text)
    assert drawn[("2024", "sundrun")] == 580  # two herds now, both of the July survey
    assert drawn == report_counts(surveyed.store, "year", ["2023", "2024"])


def test_raw_sightings_are_still_there_and_labelled(surveyed):
    html = surveyed.researcher.get(MAP, params={"view": "sightings"}).text
    assert map_counts(html)[("2024", "lena-olenek")] == 1200 + 2400 + 1950
    assert "not de-duplicated" in html
    herds = surveyed.researcher.get(MAP).text
    assert "De-duplicated herds per year" in herds and "not de-duplicated" not in herds
    refused = surveyed.researcher.get(MAP, params={"method": "photo"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "method"
    assert surveyed.researcher.get(MAP, params={"view": "cows"}).status_code == 422
