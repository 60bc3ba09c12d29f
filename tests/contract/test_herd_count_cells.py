"""Herd counts per cell against counts made independently in Python, on every backend.

SQLite reads year and month counts at the map's cell sizes from its herd-count index
(data/sql/sqlite/0004_herd_count_index.sql) and everything else with a sort: both must
give what the observations say, with every filter, in the same order.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from data.store import ObservationStore
from domain.periods import period_key
from domain.records import Composition, HerdCount, Observation, ObservationQuery, Period, Survey
from domain.seasons import SeasonCalendar
from geo.coords import to_equal_area
from geo.grid import CELL_SIZES_M, cell_centre_lon_lat
from tests.factories import make_observation

# Zones far apart, so local months and years differ from UTC ones near midnight.
ZONES = ("Asia/Yakutsk", "Asia/Magadan", "Pacific/Kiritimati", "Pacific/Honolulu", "UTC")
POPULATIONS = ("lena-olenek", "sundrun", "taimyr")
# Both sides of the 0 index (negative cells west of the pole-to-Greenwich axis) and Yakutia.
PLACES = ((126.0, 71.0), (140.5, 66.2), (-170.0, 66.0), (60.0, 70.0), (128.3, 71.4))


def _observations() -> list[Observation]:
    """Sightings on month and year edges, at several places, methods and compositions."""
    found = []
    edges = [
        datetime(2023, 12, 31, 23, 30, tzinfo=UTC),
        datetime(2024, 1, 31, 12, 0, tzinfo=UTC),
        datetime(2024, 6, 30, 14, 45, tzinfo=UTC),
        datetime(2024, 7, 1, 9, 0, tzinfo=UTC),
        datetime(2024, 10, 31, 23, 0, tzinfo=UTC),
    ]
    for n in range(120):
        lon, lat = PLACES[n % len(PLACES)]
        classes = Composition(n % 4, n % 6, None, n % 3, None) if n % 5 else Composition()
        found.append(
            make_observation(
                n,
                observed_at=edges[n % len(edges)] + timedelta(hours=(n // 7) % 5 - 2),
                timezone=ZONES[n % len(ZONES)],
                lon=lon + (n % 9) * 0.37,
                lat=lat + (n % 4) * 0.29,
                count=5 + n % 13,
                composition=classes,
                population=POPULATIONS[n % 3],
                count_method=("visual", "photo")[n % 2],
                survey_id="aerial-1" if n % 4 else None,
            )
        )
    return found


def _expected(
    observations: list[Observation], every: Period, size: float, keep: list[bool]
) -> list[tuple[object, ...]]:
    """Sums per (period, population, cell), made without SQL, sorted like the store sorts."""
    calendar = SeasonCalendar()
    xs, ys = to_equal_area([o.lon for o in observations], [o.lat for o in observations])
    sums: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0] * 7)
    for obs, x, y, kept in zip(observations, xs, ys, keep, strict=True):
        if not kept:
            continue
        local = obs.observed_at.astimezone(ZoneInfo(obs.timezone)).date()
        key = f"{math.floor(x / size)}:{math.floor(y / size)}"
        total = sums[(period_key(local, every, calendar), obs.population, key)]
        c = obs.composition
        parts = (
            1,
            obs.count,
            c.adult_males,
            c.adult_females,
            c.yearlings,
            c.calves,
            c.unclassified,
        )
        for i, part in enumerate(parts):
            total[i] += part or 0
    return [(*k, *v) for k, v in sorted(sums.items(), key=lambda kv: [s.encode() for s in kv[0]])]


def _as_tuples(counts: list[HerdCount], size: float) -> list[tuple[object, ...]]:
    for c in counts:
        ix, _, iy = c.key.partition(":")
        assert (c.lon, c.lat) == cell_centre_lon_lat(int(ix), int(iy), size)
    return [
        (
            c.period,
            c.population,
            c.key,
            c.sightings,
            c.animals,
            c.adult_males,
            c.adult_females,
            c.yearlings,
            c.calves,
            c.unclassified,
        )
        for c in counts
    ]


@pytest.mark.parametrize("every", ["year", "month", "season"])
def test_herd_counts_per_cell_match_the_observations_under_every_filter(
    store: ObservationStore, every: Period
) -> None:
    store.add_survey(
        Survey(id="aerial-1", method="aerial", started_at=datetime(2023, 1, 1, tzinfo=UTC))
    )
    observations = _observations()
    store.add_observations(observations, actor="olga")
    retracted = {o.id for o in observations[::11]}
    for obs in observations[::11]:
        store.retract_observation(obs.id, actor="olga")

    def kept(test: Callable[[Observation], bool]) -> list[bool]:
        return [o.id not in retracted and test(o) for o in observations]

    start, end = datetime(2024, 1, 1, 3, tzinfo=UTC), datetime(2024, 7, 1, 8, 30, tzinfo=UTC)
    # Honolulu's first hours of July are still June there, Kiritimati's last of October
    # already November: a window's UTC months do not bound the local ones.
    july, october = datetime(2024, 7, 1, 6, tzinfo=UTC), datetime(2024, 10, 31, 22, tzinfo=UTC)
    box = (120.0, 60.0, 145.0, 75.0)
    filters = {
        "none": (ObservationQuery(), kept(lambda o: True)),
        "retracted too": (ObservationQuery(include_retracted=True), [True] * len(observations)),
        "time window": (
            ObservationQuery(start=start, end=end),
            kept(lambda o: start <= o.observed_at <= end),
        ),
        "local months outside the window's": (
            ObservationQuery(start=july, end=october),
            kept(lambda o: july <= o.observed_at <= october),
        ),
        "bbox": (
            ObservationQuery(bbox=box),
            kept(lambda o: box[0] <= o.lon <= box[2] and box[1] <= o.lat <= box[3]),
        ),
        "one population": (
            ObservationQuery(populations=("sundrun",)),
            kept(lambda o: o.population == "sundrun"),
        ),
        "populations and method": (
            ObservationQuery(populations=("sundrun", "taimyr"), methods=("photo",)),
            kept(lambda o: o.population != "lena-olenek" and o.count_method == "photo"),
        ),
        "survey method": (
            ObservationQuery(survey_methods=("aerial",)),
            kept(lambda o: o.survey_id == "aerial-1"),
        ),
    }
    for size in (*CELL_SIZES_M, 30_000.0):
        for name, (query, keep) in filters.items():
            counts = store.herd_counts(query, every=every, by="cell", cell_size_m=size)
            expected = _expected(observations, every, size, keep)
            assert _as_tuples(counts, size) == expected, (name, size)
            assert expected, name  # no filter leaves nothing to compare


def test_herd_counts_per_cell_follow_an_edit_that_moves_a_sighting(
    store: ObservationStore,
) -> None:
    obs = replace(make_observation(1), lon=126.0, lat=71.0)
    store.add_observations([obs], actor="olga")
    before = store.herd_counts(ObservationQuery(), every="month", by="cell", cell_size_m=100_000)
    store.update_observation(obs.id, {"lon": 140.0, "lat": 66.0}, base_revision=1, actor="olga")
    after = store.herd_counts(ObservationQuery(), every="month", by="cell", cell_size_m=100_000)
    moved = replace(obs, lon=140.0, lat=66.0)
    assert [c.key for c in before] != [c.key for c in after]
    assert _as_tuples(after, 100_000) == _expected([moved], "month", 100_000, [True])
