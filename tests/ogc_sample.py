"""Sample data for the OGC and export tests: sightings spread over two populations, three
count methods, two observers and a survey with a track, one retracted sighting."""

from __future__ import annotations

from datetime import timedelta

from data.store import ObservationStore
from domain.records import Composition, Survey
from tests.factories import BASE_TIME, make_observation

SURVEY = Survey(
    id="aerial-2024-07",
    method="aerial",
    started_at=BASE_TIME - timedelta(hours=1),
    ended_at=BASE_TIME + timedelta(hours=6),
    name="July flight",
    geometry={"type": "LineString", "coordinates": [[125.5, 70.5], [127.5, 71.5]]},
    effort_km=120.0,
    created_by="olga",
)


def seed(store: ObservationStore, n: int = 60) -> list[str]:
    """n sightings (every third by ivan, every fourth a photo count, the second half in
    yana-indigirka and a year later); returns the id of the one retracted afterwards."""
    store.add_survey(SURVEY)
    items = []
    for i in range(n):
        late = i >= n // 2
        items.append(
            make_observation(
                i,
                lon=125.0 + (i % 10) * 0.3,
                lat=70.0 + (i // 10) * 0.25,
                observed_at=BASE_TIME + timedelta(days=400 if late else 0, minutes=7 * i),
                population="yana-indigirka" if late else "lena-olenek",
                count_method="photo" if i % 4 == 0 else "visual",
                observer="ivan" if i % 3 == 0 else "olga",
                survey_id=SURVEY.id if i % 5 == 0 else None,
                composition=Composition(adult_males=i % 3, adult_females=5, calves=None),
                count=10 + i,
            )
        )
    for who in ("olga", "ivan"):
        store.add_observations([o for o in items if o.observer == who], actor=who)
    gone = items[7]
    store.retract_observation(gone.id, actor=gone.observer, reason="double entry")
    return [str(gone.id)]
