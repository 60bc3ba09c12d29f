"""Plain factory functions with fixed, readable defaults and keyword overrides."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from domain.records import Composition, Observation

YAKUTSK = ZoneInfo("Asia/Yakutsk")
BASE_TIME = datetime(2024, 7, 10, 10, 0, tzinfo=YAKUTSK)
# West of the Lena delta, in the Lena-Olenek range, well inside the Sakha Republic.
BASE_LON, BASE_LAT = 126.0, 71.0


def make_observation(n: int = 0, **overrides: Any) -> Observation:
    """The n-th of a family of distinct, valid observations (ids are stable per n)."""
    obs = Observation(
        id=uuid.uuid5(uuid.NAMESPACE_URL, f"herdwatch-test/{n}"),
        observed_at=BASE_TIME + timedelta(minutes=n),
        timezone="Asia/Yakutsk",
        lon=BASE_LON + (n % 50) * 0.01,
        lat=BASE_LAT + (n // 50) * 0.01,
        accuracy_m=10.0,
        count=40 + n % 7,
        composition=Composition(adult_males=10, adult_females=20, yearlings=2, calves=6),
        count_method="visual",
        population="lena-olenek",
        device_id="tablet-1",
        observer="olga",
    )
    return replace(obs, **overrides)


def make_batch(size: int, start: int = 0, **overrides: Any) -> list[Observation]:
    return [make_observation(start + i, **overrides) for i in range(size)]


def make_feature(n: int = 0, **properties: Any) -> dict[str, Any]:
    """An observation as a tablet sends it: a GeoJSON Feature."""
    obs = make_observation(n)
    geometry = properties.pop("coordinates", [obs.lon, obs.lat])
    props: dict[str, Any] = {
        "observed_at": obs.observed_at.isoformat(),
        "timezone": obs.timezone,
        "count": obs.count,
        "composition": {"adult_males": 10, "adult_females": 20, "yearlings": 2, "calves": 6},
        "count_method": "visual",
        "population": "lena-olenek",
        "accuracy_m": 10.0,
        "device_id": "tablet-1",
    }
    props.update(properties)
    return {
        "type": "Feature",
        "id": str(obs.id),
        "geometry": {"type": "Point", "coordinates": geometry},
        "properties": props,
    }


def make_collection(size: int, start: int = 0) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": [make_feature(start + i) for i in range(size)]}
