"""Wire formats: GeoJSON observation Features in, receipts and FeatureCollections out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal
from uuid import UUID
from zoneinfo import available_timezones

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StrictInt,
    model_validator,
)

from domain.records import (
    COUNT_METHODS,
    SURVEY_METHODS,
    Composition,
    Observation,
    Outcome,
    Survey,
)

_ZONES = frozenset(available_timezones())
Count = StrictInt
# JSON numbers only ("126" or true are typing mistakes, not coordinates), finite. Checked
# inside pydantic-core: a Python validator here would run thousands of times per batch.
Number = Annotated[float, Strict(), Field(allow_inf_nan=False)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CompositionIn(_Strict):
    """Sex/age classes; leave out a class that was not recorded."""

    adult_males: Count | None = Field(None, ge=0)
    adult_females: Count | None = Field(None, ge=0)
    yearlings: Count | None = Field(None, ge=0)
    calves: Count | None = Field(None, ge=0)
    unclassified: Count | None = Field(None, ge=0)


class ObservationPropertiesIn(_Strict):
    """What a tablet records about one herd sighting."""

    observed_at: AwareDatetime = Field(
        description="RFC 3339 with offset, e.g. 2024-06-01T10:00:00+09:00"
    )
    timezone: str = Field("Asia/Yakutsk", description="IANA zone of the observer (UTC+9..+11)")
    count: Count = Field(ge=0, le=1_000_000, description="total animals in the herd")
    composition: CompositionIn = CompositionIn()
    count_method: Literal["visual", "photo", "estimate"] = "visual"
    accuracy_m: Number | None = Field(None, ge=0, le=1_000_000)
    survey_id: str | None = Field(None, min_length=1, max_length=100)
    population: str = Field("unknown", min_length=1, max_length=64)
    behaviour: str | None = Field(None, max_length=200)
    notes: str | None = Field(None, max_length=4000)
    device_id: str | None = Field(None, max_length=200)

    # Set by the server; a client echoing a GET back may send them, and they are ignored.
    observer: Any = Field(None, exclude=True)
    revision: Any = Field(None, exclude=True)
    status: Any = Field(None, exclude=True)
    review_state: Any = Field(None, exclude=True)
    flags: Any = Field(None, exclude=True)
    region: Any = Field(None, exclude=True)
    created_at: Any = Field(None, exclude=True)
    updated_at: Any = Field(None, exclude=True)

    # The time zone and "classified ≤ count" are checked in field_api/ingest.py, once per
    # record in plain Python, so that this model validates entirely inside pydantic-core.


def classified_total(c: Any) -> int:
    """Animals placed in any class (a CompositionIn or the fast path's struct)."""
    return (
        (c.adult_males or 0)
        + (c.adult_females or 0)
        + (c.yearlings or 0)
        + (c.calves or 0)
        + (c.unclassified or 0)
    )


def timezone_known(name: str) -> bool:
    return name in _ZONES


class PointIn(_Strict):
    type: Literal["Point"]
    coordinates: list[Number] = Field(
        min_length=2, max_length=3, description="[lon, lat] or [x, y] in `crs`"
    )


class ObservationFeatureIn(BaseModel):
    """One observation as a GeoJSON Feature; `id` is the UUID the tablet made at first save."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    type: Literal["Feature"]
    id: UUID
    geometry: PointIn
    properties: ObservationPropertiesIn


class FeatureCollectionEnvelope(BaseModel):
    """A batch: only the envelope is checked here, each feature on its own afterwards."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["FeatureCollection"]
    features: list[Any]


def feature_to_observation(feature: Any, lon: float, lat: float, observer: str) -> Observation:
    """A domain record from a validated Feature and its (already transformed) lon/lat.

    `feature` is an ObservationFeatureIn, or the upload fast path's msgspec struct of the
    same shape (field_api/fastpath.py): one builder for both.
    """
    p = feature.properties
    c = p.composition
    return Observation(
        id=feature.id,
        observed_at=p.observed_at,
        timezone=p.timezone,
        lon=lon,
        lat=lat,
        accuracy_m=float(p.accuracy_m) if p.accuracy_m is not None else None,
        count=p.count,
        composition=Composition(
            c.adult_males, c.adult_females, c.yearlings, c.calves, c.unclassified
        ),
        count_method=p.count_method,
        survey_id=p.survey_id,
        population=p.population,
        behaviour=p.behaviour,
        notes=p.notes,
        device_id=p.device_id,
        observer=observer,
    )


def future_problem(observed_at: datetime, max_future_minutes: float) -> str | None:
    """A reason when a time lies too far ahead: a tablet clock set wrong, usually."""
    limit = datetime.now(UTC) + timedelta(minutes=max_future_minutes)
    if observed_at > limit:
        return (
            f"observed_at {observed_at.isoformat()} is in the future; check the tablet's "
            f"clock and time zone (at most {max_future_minutes:g} minutes ahead is accepted)"
        )
    return None


# ---- out ----------------------------------------------------------------------------------


def observation_feature(obs: Observation) -> dict[str, Any]:
    """An observation as a GeoJSON Feature (built by hand: listing pages must be fast)."""
    c = obs.composition
    return {
        "type": "Feature",
        "id": str(obs.id),
        "geometry": {"type": "Point", "coordinates": [obs.lon, obs.lat]},
        "properties": {
            "observed_at": obs.observed_at.isoformat(),
            "timezone": obs.timezone,
            "count": obs.count,
            "composition": {
                "adult_males": c.adult_males,
                "adult_females": c.adult_females,
                "yearlings": c.yearlings,
                "calves": c.calves,
                "unclassified": c.unclassified,
            },
            "count_method": obs.count_method,
            "accuracy_m": obs.accuracy_m,
            "survey_id": obs.survey_id,
            "population": obs.population,
            "behaviour": obs.behaviour,
            "notes": obs.notes,
            "device_id": obs.device_id,
            "observer": obs.observer,
            "revision": obs.revision,
            "status": obs.status,
            "review_state": obs.review_state,
            "flags": list(obs.flags),
            "region": obs.region,
            "created_at": obs.created_at.isoformat() if obs.created_at else None,
            "updated_at": obs.updated_at.isoformat() if obs.updated_at else None,
        },
    }


def outcome_json(outcome: Outcome, index: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(outcome.id),
        "status": outcome.status,
        "revision": outcome.revision,
    }
    if index is not None:
        body = {"index": index, **body}
    if outcome.differing:
        body["differing"] = list(outcome.differing)
    if outcome.message:
        body["message"] = outcome.message
    return body


class ObservationPatch(_Strict):
    """An edit: the revision it was based on and the fields to change."""

    revision: Count = Field(ge=1, description="the revision this edit was based on")
    properties: dict[str, Any] = Field(default_factory=dict)
    geometry: PointIn | None = None


class RetractIn(_Strict):
    reason: str | None = Field(None, max_length=1000)


class SurveyIn(_Strict):
    """An effort unit: a flight, snowmobile route, foot transect, camera or collar deployment."""

    id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")
    method: Literal["aerial", "snowmobile", "foot", "camera", "collar"]
    started_at: AwareDatetime
    ended_at: AwareDatetime | None = None
    name: str = Field("", max_length=200)
    team: list[str] = Field(default_factory=list, max_length=50)
    platform: str | None = Field(None, max_length=200)
    geometry: dict[str, Any] | None = Field(
        None, description="GeoJSON LineString track or Polygon area, lon/lat"
    )
    notes: str | None = Field(None, max_length=4000)

    @model_validator(mode="after")
    def _ordered(self) -> SurveyIn:
        if self.ended_at is not None and self.ended_at < self.started_at:
            raise ValueError("ended_at is before started_at")
        return self

    def to_record(
        self, created_by: str, effort_km: float | None, effort_km2: float | None
    ) -> Survey:
        return Survey(
            id=self.id,
            method=self.method,
            started_at=self.started_at,
            ended_at=self.ended_at,
            name=self.name,
            team=tuple(self.team),
            platform=self.platform,
            geometry=self.geometry,
            effort_km=effort_km,
            effort_km2=effort_km2,
            notes=self.notes,
            created_by=created_by,
        )


def survey_json(survey: Survey) -> dict[str, Any]:
    return {
        "id": survey.id,
        "method": survey.method,
        "started_at": survey.started_at.isoformat(),
        "ended_at": survey.ended_at.isoformat() if survey.ended_at else None,
        "name": survey.name,
        "team": list(survey.team),
        "platform": survey.platform,
        "geometry": survey.geometry,
        "effort_km": survey.effort_km,
        "effort_km2": survey.effort_km2,
        "notes": survey.notes,
        "created_by": survey.created_by,
        "created_at": survey.created_at.isoformat() if survey.created_at else None,
    }


__all__ = ["COUNT_METHODS", "SURVEY_METHODS"]
