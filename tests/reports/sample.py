"""Hand-checked sightings for report tests: one herd seen twice, one far away, one last year."""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path

from data.demo import demo_dataset
from data.sqlite import SQLiteStore
from domain.records import Composition
from tests.factories import BASE_LAT, BASE_LON, BASE_TIME, make_observation

# Three km east of the base point, in degrees of longitude at its latitude.
THREE_KM_EAST = 3 / (111.32 * math.cos(math.radians(BASE_LAT)))


def sightings():
    """2023: one herd of 100. 2024: one herd seen by two teams 3 km and 2 h apart, and a
    herd of 50 about 300 km south in the same hour."""
    last_year = make_observation(
        1,
        observed_at=BASE_TIME - timedelta(days=365),
        lon=BASE_LON,
        lat=BASE_LAT,
        count=100,
        composition=Composition(adult_males=30, adult_females=50, calves=10),
    )
    first_team = make_observation(
        2,
        observed_at=BASE_TIME,
        lon=BASE_LON,
        lat=BASE_LAT,
        count=400,
        composition=Composition(adult_males=100, adult_females=200, yearlings=20, calves=50),
    )
    second_team = make_observation(
        3,
        observed_at=BASE_TIME + timedelta(hours=2),
        lon=BASE_LON + THREE_KM_EAST,
        lat=BASE_LAT,
        count=380,
        composition=Composition(adult_males=90, adult_females=190, calves=45, unclassified=55),
    )
    far_away = make_observation(
        4,
        observed_at=BASE_TIME + timedelta(minutes=30),
        lon=BASE_LON,
        lat=BASE_LAT - 2.7,
        count=50,
        composition=Composition(adult_males=10, adult_females=20, yearlings=2, calves=6),
    )
    return [last_year, first_team, second_team, far_away]


def demo_store(path: Path, per_survey: int = 20) -> SQLiteStore:
    """A migrated SQLite store at `path` holding the (synthetic) demo data; the caller
    closes it."""
    store = SQLiteStore(str(path))
    store.migrate()
    surveys, observations = demo_dataset(per_survey=per_survey)
    for survey in surveys:
        store.add_survey(survey)
    store.add_observations(observations, actor="demo")
    return store
