"""Domain records: what Herdwatch stores, independent of HTTP and of the database."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

from domain.i18n import Message

POPULATIONS: tuple[str, ...] = (
    "lena-olenek",
    "yana-indigirka",
    "sundrun",
    "new-siberian-islands",
    "forest",
    "taimyr",
    "unknown",
)
COUNT_METHODS: tuple[str, ...] = ("visual", "photo", "estimate")
SURVEY_METHODS: tuple[str, ...] = ("aerial", "snowmobile", "foot", "camera", "collar")
ROLES: tuple[str, ...] = ("observer", "researcher", "admin")
REVIEW_STATES: tuple[str, ...] = ("pending", "accepted", "rejected")
COMPOSITION_FIELDS: tuple[str, ...] = (
    "adult_males",
    "adult_females",
    "yearlings",
    "calves",
    "unclassified",
)

Period = Literal["month", "season", "year"]
Status = Literal["active", "retracted"]
OutcomeStatus = Literal["created", "unchanged", "conflict", "gone", "invalid"]

# Fields a device sends; the idempotency comparison looks at these and nothing else.
CLIENT_FIELDS: tuple[str, ...] = (
    "observed_at",
    "timezone",
    "lon",
    "lat",
    "accuracy_m",
    "count",
    "composition",
    "count_method",
    "survey_id",
    "population",
    "behaviour",
    "notes",
    "device_id",
)
# Fields an observer may change with PATCH (the id and the device are fixed).
EDITABLE_FIELDS: tuple[str, ...] = tuple(f for f in CLIENT_FIELDS if f != "device_id")


@dataclass(frozen=True, slots=True)
class Composition:
    """Sex/age classes of one herd sighting; None means the class was not recorded."""

    adult_males: int | None = None
    adult_females: int | None = None
    yearlings: int | None = None
    calves: int | None = None
    unclassified: int | None = None

    def classified_total(self) -> int:
        """Animals placed in any class (unclassified included: they were counted)."""
        return sum(v or 0 for v in (getattr(self, n) for n in COMPOSITION_FIELDS))

    def as_dict(self) -> dict[str, int | None]:
        return {n: getattr(self, n) for n in COMPOSITION_FIELDS}


@dataclass(frozen=True, slots=True)
class Observation:
    """One herd sighting, keyed by the UUID the tablet made at first save."""

    id: UUID
    observed_at: datetime  # timezone-aware; stored as UTC, local zone kept in `timezone`
    lon: float
    lat: float
    count: int
    timezone: str = "Asia/Yakutsk"
    accuracy_m: float | None = None
    composition: Composition = field(default_factory=Composition)
    count_method: str = "visual"
    survey_id: str | None = None
    population: str = "unknown"
    behaviour: str | None = None
    notes: str | None = None
    device_id: str | None = None
    # Set by the server.
    observer: str = ""
    revision: int = 1
    status: Status = "active"
    review_state: str = "pending"
    flags: tuple[str, ...] = ()
    region: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def client_content(self) -> dict[str, Any]:
        """The device-supplied fields in a canonical, JSON-ready form."""
        return {name: _canonical(getattr(self, name)) for name in CLIENT_FIELDS}

    def content_hash(self, observed_utc: str | None = None) -> str:
        """SHA-256 of the device-supplied content: equal hashes mean an identical re-send.

        `observed_utc` may pass in utc_iso(observed_at) when the caller has it already.
        """
        c = self.composition
        # repr of a flat tuple in CLIENT_FIELDS order (float repr is the shortest round-trip
        # form, stable across Python versions): this runs once per uploaded record.
        canonical = (
            observed_utc or utc_iso(self.observed_at),
            self.timezone,
            round(self.lon, 9),
            round(self.lat, 9),
            self.accuracy_m,
            self.count,
            c.adult_males,
            c.adult_females,
            c.yearlings,
            c.calves,
            c.unclassified,
            self.count_method,
            self.survey_id,
            self.population,
            self.behaviour,
            self.notes,
            self.device_id,
        )
        return hashlib.sha256(repr(canonical).encode()).hexdigest()

    def differing_fields(self, other: Observation) -> list[str]:
        """Names of device-supplied fields whose values differ between two versions."""
        mine, theirs = self.client_content(), other.client_content()
        return [name for name in CLIENT_FIELDS if mine[name] != theirs[name]]


def utc_iso(moment: datetime) -> str:
    """One fixed spelling of an instant in UTC (microseconds always shown): text order is
    time order, and identical instants hash identically."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        # Compare instants, not spellings: 10:00+09:00 and 01:00Z are the same moment.
        return value.astimezone(UTC).isoformat()
    if isinstance(value, Composition):
        return value.as_dict()
    if isinstance(value, tuple) and value and isinstance(value[0], TransectStratum):
        return [s.as_dict() for s in value]
    if isinstance(value, float):
        return round(value, 9)
    return value


@dataclass(frozen=True, slots=True)
class TransectStratum:
    """A stratum of a strip-transect survey: its area, the transects flown across it and
    the width of the strip in which every animal is counted (both sides together)."""

    name: str
    strip_width_m: float
    area: dict[str, Any]  # GeoJSON Polygon or MultiPolygon, lon/lat
    transects: dict[str, Any]  # GeoJSON MultiLineString: one line per transect, lon/lat

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "strip_width_m": self.strip_width_m,
            "area": self.area,
            "transects": self.transects,
        }


@dataclass(frozen=True, slots=True)
class Survey:
    """An effort unit: one flight, snowmobile route, foot transect, camera or collar deployment."""

    id: str
    method: str
    started_at: datetime
    ended_at: datetime | None = None
    name: str = ""
    team: tuple[str, ...] = ()
    platform: str | None = None
    geometry: dict[str, Any] | None = None  # GeoJSON track (LineString) or area (Polygon)
    effort_km: float | None = None
    effort_km2: float | None = None
    notes: str | None = None
    created_by: str = ""
    created_at: datetime | None = None
    strata: tuple[TransectStratum, ...] = ()  # strip transects, when the survey flew them

    def content_hash(self) -> str:
        data = {f.name: _canonical(getattr(self, f.name)) for f in fields(self)}
        for server_field in ("created_by", "created_at", "effort_km", "effort_km2"):
            data.pop(server_field)
        payload = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Revision:
    """One audit entry: every create, edit, retraction and review, with before and after."""

    seq: int
    observation_id: UUID
    revision: int
    action: Literal["create", "edit", "retract", "review"]
    actor: str
    at: datetime
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one uploaded record."""

    id: UUID
    status: OutcomeStatus
    revision: int | None = None
    differing: tuple[str, ...] = ()
    message: str | Message | None = None  # a Message where it is meant for a person


@dataclass(frozen=True, slots=True)
class ObservationQuery:
    """Filters shared by listing, maps, counts and reports."""

    bbox: tuple[float, float, float, float] | None = None  # min_lon, min_lat, max_lon, max_lat
    start: datetime | None = None
    end: datetime | None = None
    populations: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()  # count methods: visual, photo, estimate
    survey_methods: tuple[str, ...] = ()  # survey methods: aerial, snowmobile, foot, ...
    survey_id: str | None = None
    observer: str | None = None
    include_retracted: bool = False
    limit: int = 100
    after: tuple[str, str] | None = None  # keyset cursor: (observed_at UTC iso, id)
    # The page that ends just before this key instead (a "prev" link), still in time order.
    before: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Extent:
    """Where and when a query's observations lie (EPSG:4326 degrees, UTC instants)."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Page:
    """One page of observations and the cursor for the next, if any."""

    items: list[Observation]
    next_after: tuple[str, str] | None


@dataclass(frozen=True, slots=True)
class FeaturePage:
    """One page of observations already written as GeoJSON (the listing's hot path).

    `features` is the JSON text of an array of Features, each as
    field_api.schemas.observation_feature makes it; `returned` counts them.
    """

    features: bytes
    returned: int
    next_after: tuple[str, str] | None


@dataclass(frozen=True, slots=True)
class HerdCount:
    """Aggregated counts for one period, population and cell (or region)."""

    period: str  # e.g. "2024", "2024-07", "2024-calving"
    population: str
    key: str  # cell id "x:y" (EPSG:3576 grid indices), region name, or "all"
    lon: float  # representative point (cell centre or count-weighted centroid)
    lat: float
    sightings: int
    animals: int
    adult_males: int = 0
    adult_females: int = 0
    yearlings: int = 0
    calves: int = 0
    unclassified: int = 0
    herds: int | None = None  # de-duplicated herds behind `animals`; None for raw sightings


@dataclass(frozen=True, slots=True)
class User:
    """A person or device account; its token is stored hashed."""

    name: str
    role: str
    active: bool = True
    created_at: datetime | None = None


def observation_to_dict(obs: Observation) -> dict[str, Any]:
    """Every field of an observation, JSON-ready (used for audit snapshots and transfers)."""
    data = {name: _canonical(value) for name, value in _iter_fields(obs)}
    data["id"] = str(obs.id)
    data["flags"] = list(obs.flags)
    return data


def _iter_fields(obs: Observation) -> list[tuple[str, Any]]:
    return [(f.name, getattr(obs, f.name)) for f in fields(obs)]


__all__ = [
    "COMPOSITION_FIELDS",
    "Composition",
    "Extent",
    "HerdCount",
    "Observation",
    "ObservationQuery",
    "Outcome",
    "Page",
    "Revision",
    "Survey",
    "User",
]
