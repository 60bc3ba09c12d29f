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

from collections.abc import Collection
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec

from data.uploads import UploadRules, to_lon_lat
from domain import wire
from domain.records import COMPOSITION_FIELDS, Observation

_NON_NEGATIVE = Annotated[int, msgspec.Meta(ge=wire.COMPOSITION_CLASS.ge)]
_Composition = msgspec.defstruct(
    "_Composition",
    [(name, _NON_NEGATIVE | None, None) for name in COMPOSITION_FIELDS],
    forbid_unknown_fields=True,
)


def _type(f: wire.WireField) -> Any:
    """The msgspec type of a device property, with the same limits as the pydantic model."""
    if f.kind == "composition":
        return _Composition
    if f.kind == "choice":
        return Literal[f.choices]
    base: Any = {"datetime": datetime, "text": str, "int": int, "number": float}[f.kind]
    limits: dict[str, Any] = {
        "ge": f.ge,
        "le": f.le,
        "min_length": f.min_length,
        "max_length": f.max_length,
        "pattern": wire.TEXT_PATTERN if f.kind == "text" else None,
        "tz": True if f.kind == "datetime" else None,
    }
    typed = Annotated[base, msgspec.Meta(**limits)]
    return typed | None if f.nullable else typed


def _spec(f: wire.WireField) -> tuple[str, Any] | tuple[str, Any, Any]:
    if f.server:  # set by the server, ignored when a client echoes them back
        return (f.name, Any, None)
    if f.default is wire.REQUIRED:
        return (f.name, _type(f))
    if f.kind == "composition":
        return (f.name, _Composition, msgspec.field(default_factory=_Composition))
    return (f.name, _type(f), f.default)


_Properties = msgspec.defstruct(
    "_Properties",
    [_spec(f) for f in wire.PROPERTIES],
    forbid_unknown_fields=True,
    kw_only=True,
)


class _Point(msgspec.Struct, forbid_unknown_fields=True):
    type: Literal["Point"]
    coordinates: Annotated[list[float], msgspec.Meta(min_length=2, max_length=3)]


class _Feature(msgspec.Struct):
    type: Literal["Feature"]
    id: UUID
    geometry: _Point
    properties: _Properties  # type: ignore[valid-type]  # made by defstruct


class _Batch(msgspec.Struct):
    type: Literal["FeatureCollection"]
    features: list[_Feature]


_DECODER = msgspec.json.Decoder(_Batch)


def decode_valid_batch(
    body: bytes, *, crs: str | None, observer: str, rules: UploadRules
) -> list[Observation] | None:
    """Observations when every feature is valid; None when anything needs explaining."""
    try:
        features = _DECODER.decode(body).features
    except (msgspec.ValidationError, msgspec.DecodeError, RecursionError):
        return None
    if len(features) > rules.max_batch_size or not features:
        return None
    lons, lats = to_lon_lat(
        [f.geometry.coordinates[0] for f in features],
        [f.geometry.coordinates[1] for f in features],
        crs,
    )
    latest = rules.latest()
    known: Collection[str] = frozenset(rules.populations)
    observations = []
    for feature, lon, lat in zip(features, lons, lats, strict=True):
        if not rules.accepts(feature.properties, float(lon), float(lat), latest, known):
            return None
        observations.append(wire.feature_to_observation(feature, float(lon), float(lat), observer))
    return observations
