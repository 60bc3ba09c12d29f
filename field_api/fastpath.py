"""The upload hot path: a whole batch of valid features decoded by msgspec in one pass.

Most batches from tablets are entirely valid. For those, msgspec decodes and checks the
JSON bytes several times faster than pydantic, which matters at tens of thousands of
observations a second. The moment anything is wrong the fast path gives up (returns None)
and the pydantic path in field_api/ingest.py judges every feature and names every error.
So the fast path must never accept what the pydantic schemas refuse: its constraints are
the same or stricter, and tests/field_api/test_fastpath.py runs every invalid case of the
validation suite through it.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec

from domain.records import Observation
from field_api.schemas import classified_total, feature_to_observation, timezone_known
from geo.coords import to_wgs84

NonNegative = Annotated[int, msgspec.Meta(ge=0)]


def _text(max_length: int, min_length: int = 0) -> Any:
    return Annotated[str, msgspec.Meta(min_length=min_length, max_length=max_length)]


class _Composition(msgspec.Struct, forbid_unknown_fields=True):
    adult_males: NonNegative | None = None
    adult_females: NonNegative | None = None
    yearlings: NonNegative | None = None
    calves: NonNegative | None = None
    unclassified: NonNegative | None = None


class _Properties(msgspec.Struct, forbid_unknown_fields=True):
    observed_at: Annotated[datetime, msgspec.Meta(tz=True)]
    count: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)]
    timezone: str = "Asia/Yakutsk"
    composition: _Composition = msgspec.field(default_factory=_Composition)
    count_method: Literal["visual", "photo", "estimate"] = "visual"
    accuracy_m: Annotated[float, msgspec.Meta(ge=0, le=1_000_000)] | None = None
    survey_id: _text(100, 1) | None = None  # type: ignore[valid-type]
    population: _text(64, 1) = "unknown"  # type: ignore[valid-type]
    behaviour: _text(200) | None = None  # type: ignore[valid-type]
    notes: _text(4000) | None = None  # type: ignore[valid-type]
    device_id: _text(200) | None = None  # type: ignore[valid-type]
    # Set by the server, ignored when a client echoes them back (as in the pydantic schema).
    observer: Any = None
    revision: Any = None
    status: Any = None
    review_state: Any = None
    flags: Any = None
    region: Any = None
    created_at: Any = None
    updated_at: Any = None


class _Point(msgspec.Struct, forbid_unknown_fields=True):
    type: Literal["Point"]
    coordinates: Annotated[list[float], msgspec.Meta(min_length=2, max_length=3)]


class _Feature(msgspec.Struct):
    type: Literal["Feature"]
    id: UUID
    geometry: _Point
    properties: _Properties


class _Batch(msgspec.Struct):
    type: Literal["FeatureCollection"]
    features: list[_Feature]


_DECODER = msgspec.json.Decoder(_Batch)


def decode_valid_batch(
    body: bytes,
    *,
    crs: str | None,
    observer: str,
    populations: Collection[str],
    max_batch_size: int,
    max_future_minutes: float,
) -> list[Observation] | None:
    """Observations when every feature is valid; None when anything needs explaining."""
    try:
        features = _DECODER.decode(body).features
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
    if len(features) > max_batch_size or not features:
        return None
    lons, lats = _lon_lat(features, crs)
    latest = datetime.now(UTC) + timedelta(minutes=max_future_minutes)
    observations = []
    for feature, lon, lat in zip(features, lons, lats, strict=True):
        p = feature.properties
        if not _plausible(p, float(lon), float(lat), populations, latest):
            return None
        observations.append(feature_to_observation(feature, float(lon), float(lat), observer))
    return observations


def _lon_lat(features: list[_Feature], crs: str | None) -> tuple[Any, Any]:
    xs = [f.geometry.coordinates[0] for f in features]
    ys = [f.geometry.coordinates[1] for f in features]
    if crs is None:
        return xs, ys
    return to_wgs84(xs, ys, crs)


def _plausible(
    p: _Properties, lon: float, lat: float, populations: Collection[str], latest: datetime
) -> bool:
    """The checks pydantic's schema leaves to field_api/ingest.py, as one yes or no."""
    return (
        -180.0 <= lon <= 180.0
        and -90.0 <= lat <= 90.0
        and (p.accuracy_m is None or math.isfinite(p.accuracy_m))
        and classified_total(p.composition) <= p.count
        and p.population in populations
        and timezone_known(p.timezone)
        and p.observed_at <= latest
    )
