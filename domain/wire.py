"""The one definition of an observation on the wire: a GeoJSON Feature's properties.

Everything that reads or writes an observation's properties is made from `PROPERTIES`:
the pydantic input model and the msgspec fast path (field_api/schemas.py, fastpath.py),
the output Feature (`observation_feature` here, and the row→Feature fast path in
data/rows.py), the CSV columns, the store's columns and the Feature text PostGIS keeps per
row. To add an optional field: a line here, a field on `Observation`, and a migration per
backend that adds its column.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any, Literal

from domain.records import COMPOSITION_FIELDS, COUNT_METHODS, Composition, Observation
from domain.times import rfc3339

# The version of the Feature a store may keep as text (PostGIS, migrations 0004 and 0005):
# raise it with any change to what observation_feature writes, and `herdwatch migrate`
# rewrites the stored texts.
FEATURE_VERSION = 1

Kind = Literal["datetime", "text", "int", "number", "choice", "composition", "flags"]


class _Required:
    """The default of a field a tablet must send."""

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()
# Every text a client sends: no C0 control character but tab, newline and carriage return,
# no DEL. PostgreSQL cannot store a NUL and SQLite truncates text at one in places; both
# backends refuse the same texts because both input paths check this one pattern.
TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
TEXT_PATTERN_REASON = "contains a control character (such as NUL) that cannot be stored"


@dataclass(frozen=True, slots=True)
class WireField:
    """One property of an observation Feature: its type, limits and default on input."""

    name: str
    kind: Kind
    default: Any = None  # REQUIRED, a value, or None (may be left out or null)
    ge: float | None = None
    le: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    description: str | None = None
    server: bool = False  # set by the server: written out, ignored when a client sends it

    @property
    def nullable(self) -> bool:
        """A device field whose value may be null (its default is None)."""
        return self.default is None


# In the order the output Feature lists them (the API's bytes depend on it).
PROPERTIES: tuple[WireField, ...] = (
    WireField(
        "observed_at",
        "datetime",
        REQUIRED,
        description="RFC 3339 with offset, e.g. 2024-06-01T10:00:00+09:00",
    ),
    WireField(
        "timezone", "text", "Asia/Yakutsk", description="IANA zone of the observer (UTC+9..+11)"
    ),
    WireField(
        "count", "int", REQUIRED, ge=0, le=1_000_000, description="total animals in the herd"
    ),
    WireField("composition", "composition", Composition()),
    WireField("count_method", "choice", "visual", choices=COUNT_METHODS),
    WireField("accuracy_m", "number", ge=0, le=1_000_000),
    WireField("survey_id", "text", min_length=1, max_length=100),
    WireField("population", "text", "unknown", min_length=1, max_length=64),
    WireField("behaviour", "text", max_length=200),
    WireField("notes", "text", max_length=4000),
    WireField("device_id", "text", max_length=200),
    WireField("observer", "text", server=True),
    WireField("revision", "int", server=True),
    WireField("status", "text", server=True),
    WireField("review_state", "text", server=True),
    WireField("flags", "flags", server=True),
    WireField("region", "text", server=True),
    WireField("created_at", "datetime", server=True),
    WireField("updated_at", "datetime", server=True),
)
# Where a position's accuracy in metres goes (an ODK/Kobo geopoint's fourth value).
POSITION_ACCURACY = "accuracy_m"
DEVICE_PROPERTIES: tuple[WireField, ...] = tuple(f for f in PROPERTIES if not f.server)
SERVER_PROPERTIES: tuple[WireField, ...] = tuple(f for f in PROPERTIES if f.server)
# Darwin Core terms of the optional properties a DwC-A occurrence carries as they are
# (data/exports/dwca.py); the required ones (time, place, count) it maps itself.
DARWIN_CORE_TERMS: dict[str, str] = {
    "accuracy_m": "coordinateUncertaintyInMeters",
    "behaviour": "behavior",
    "notes": "occurrenceRemarks",
}
# The composition's classes: each a non-negative whole number, left out when not recorded.
COMPOSITION_CLASS = WireField("composition class", "int", ge=0)
# Device properties that are one plain value each, stored in a column of the same name.
PLAIN_DEVICE: tuple[str, ...] = tuple(
    f.name for f in DEVICE_PROPERTIES if f.kind not in ("datetime", "composition")
)
# Properties whose value needs converting between the record and the Feature.
# CSV: these lead, the rest follow in the Feature's order, composition classes flattened.
_CSV_LEAD = ("id", "observed_at", "timezone", "lon", "lat", "accuracy_m", "count")


def _flat_names() -> tuple[str, ...]:
    names: list[str] = []
    for f in PROPERTIES:
        names += COMPOSITION_FIELDS if f.kind == "composition" else (f.name,)
    return tuple(names)


CSV_COLUMNS: tuple[str, ...] = _CSV_LEAD + tuple(n for n in _flat_names() if n not in _CSV_LEAD)


def _isoformat(value: datetime | None) -> str | None:
    return rfc3339(value) if value is not None else None


def define(name: str, params: str, body: str, namespace: dict[str, Any]) -> Callable[..., Any]:
    """A function compiled from source made out of PROPERTIES.

    The builders below run thousands of times per listing page or uploaded batch: spelled
    out as one dict or call expression, field by field, they cost what a hand-written
    builder costs (a loop over the table took a third longer), and still come from the
    one table. `body` is the function's body; `namespace` the names it uses.
    """
    source = f"def {name}({params}):\n" + "\n".join(f"    {line}" for line in body.splitlines())
    scope = dict(namespace)
    exec(compile(source, f"<wire {name}>", "exec"), scope)  # noqa: S102  # our own table
    built: Callable[..., Any] = scope[name]
    return built


def wire_value(f: WireField, value: str) -> str:
    """Python source for a property's Feature value from the source `value` of the record's
    field (a datetime, a Composition, the flags tuple, or a plain value)."""
    if f.kind == "datetime":
        required = f.default is REQUIRED
        return f"rfc3339({value})" if required else f"(rfc3339({value}) if {value} else None)"
    if f.kind == "composition":
        return "{" + ", ".join(f"{n!r}: {value}.{n}" for n in COMPOSITION_FIELDS) + "}"
    if f.kind == "flags":
        return f"list({value})"
    return value


def _record_value(f: WireField, value: str) -> str:
    """Python source for an Observation field from a parsed property `value`."""
    if f.kind == "composition":
        return f"Composition({', '.join(f'{value}.{n}' for n in COMPOSITION_FIELDS)})"
    if f.kind == "number":  # an integer in JSON is still a measurement
        return f"(float({value}) if {value} is not None else None)"
    return value


# observation_feature(obs) -> dict: an observation as a GeoJSON Feature, every property in
# PROPERTIES order (the API's bytes), as a plain function: a listing builds 1,000 of them.
observation_feature: Callable[[Observation], dict[str, Any]] = define(
    "observation_feature",
    "obs",
    "c = obs.composition\n"
    "return {'type': 'Feature', 'id': str(obs.id), "
    "'geometry': {'type': 'Point', 'coordinates': [obs.lon, obs.lat]}, 'properties': {"
    + ", ".join(
        f"{f.name!r}: {wire_value(f, 'c' if f.kind == 'composition' else 'obs.' + f.name)}"
        for f in PROPERTIES
    )
    + "}}",
    {"rfc3339": rfc3339},
)
# feature_to_observation(feature, lon, lat, observer) -> Observation: a domain record from
# a parsed Feature (an ObservationFeatureIn or the fast path's msgspec struct, both made
# from PROPERTIES: one builder for both) and its already transformed lon/lat.
feature_to_observation: Callable[[Any, float, float, str], Observation] = define(
    "feature_to_observation",
    "feature, lon, lat, observer",
    "p = feature.properties\n"
    "return Observation(id=feature.id, lon=lon, lat=lat, observer=observer, "
    + ", ".join(f"{f.name}={_record_value(f, 'p.' + f.name)}" for f in DEVICE_PROPERTIES)
    + ")",
    {"Observation": Observation, "Composition": Composition},
)


_CSV_CELL: dict[str, Callable[[Any], Any]] = {
    "datetime": _isoformat,
    "flags": ";".join,
}


def csv_row(obs: Observation) -> list[object]:
    """One observation as a CSV row in CSV_COLUMNS order (empty cells for missing values)."""
    values: dict[str, Any] = {"id": obs.id, "lon": obs.lon, "lat": obs.lat}
    for f in PROPERTIES:
        value = getattr(obs, f.name)
        if f.kind == "composition":
            values.update(value.as_dict())
        else:
            values[f.name] = _CSV_CELL.get(f.kind, _same)(value)
    return [values[name] for name in CSV_COLUMNS]


def _same(value: Any) -> Any:
    return value


def record_changes(properties: Any, names: Iterable[str]) -> dict[str, Any]:
    """Observation fields from some parsed device properties (an edit names a few)."""
    changes = {}
    for name in names:
        value = getattr(properties, name)
        if name == "composition":
            value = Composition(*_GET_CLASSES(value))
        elif name in _NUMBERS and value is not None:
            value = float(value)
        changes[name] = value
    return changes


_GET_CLASSES = attrgetter(*COMPOSITION_FIELDS)
_NUMBERS = tuple(f.name for f in DEVICE_PROPERTIES if f.kind == "number")


__all__ = [
    "CSV_COLUMNS",
    "DARWIN_CORE_TERMS",
    "FEATURE_VERSION",
    "DEVICE_PROPERTIES",
    "PROPERTIES",
    "REQUIRED",
    "WireField",
    "csv_row",
    "feature_to_observation",
    "observation_feature",
    "record_changes",
]
