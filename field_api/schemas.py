"""Wire formats: GeoJSON observation Features in, receipts and FeatureCollections out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StrictInt,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)

from domain import wire
from domain.i18n import Message
from domain.records import (
    COMPOSITION_FIELDS,
    COUNT_METHODS,
    EDITABLE_FIELDS,
    SURVEY_METHODS,
    Outcome,
    Survey,
    TransectStratum,
)
from domain.times import range_problem, rfc3339
from domain.wire import feature_to_observation, observation_feature

Count = StrictInt
# JSON numbers only ("126" or true are typing mistakes, not coordinates), finite. Checked
# inside pydantic-core: a Python validator here would run thousands of times per batch.
Number = Annotated[float, Strict(), Field(allow_inf_nan=False)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _composition_model() -> type[BaseModel]:
    cls = wire.COMPOSITION_CLASS
    fields: dict[str, Any] = {
        name: (Count | None, Field(None, ge=cls.ge)) for name in COMPOSITION_FIELDS
    }
    return create_model(
        "CompositionIn",
        __base__=_Strict,
        __doc__="Sex/age classes; leave out a class that was not recorded.",
        **fields,
    )


CompositionIn = _composition_model()


def _rfc3339_text(value: Any) -> Any:
    """A time must be written out: pydantic would read 0 or 1.7e9 as a Unix time."""
    if not isinstance(value, (str, datetime)):
        raise ValueError(
            Message("must be an RFC 3339 date-time text, e.g. 2024-07-10T10:00:00+09:00")
        )
    return value


TimeText = Annotated[AwareDatetime, BeforeValidator(_rfc3339_text)]


def _annotation(f: wire.WireField) -> Any:
    """The pydantic type of a device property (limits go in its Field)."""
    base: Any = {
        "datetime": TimeText,
        "text": str,
        "int": Count,
        "number": Number,
        "choice": Literal[f.choices] if f.choices else str,
        "composition": CompositionIn,
    }[f.kind]
    return base | None if f.nullable else base


def _field(f: wire.WireField, *, required_default: Any = ...) -> Any:
    if f.server:  # a client echoing a GET back may send them, and they are ignored
        return (Any, Field(None, exclude=True))
    default: Any = required_default if f.default is wire.REQUIRED else f.default
    if f.kind == "composition":
        default = CompositionIn()
    limits: dict[str, Any] = {
        "ge": f.ge,
        "le": f.le,
        "min_length": f.min_length,
        "max_length": f.max_length,
        "pattern": wire.TEXT_PATTERN if f.kind == "text" else None,
        "description": f.description,
    }
    return (_annotation(f), Field(default, **{k: v for k, v in limits.items() if v is not None}))


# What a tablet records about one herd sighting, made from domain/wire.py. The time zone,
# "classified ≤ count" and the other rules are checked in data/uploads.py, once per record
# in plain Python, so that this model validates entirely inside pydantic-core.
ObservationPropertiesIn = create_model(
    "ObservationPropertiesIn",
    __base__=_Strict,
    __doc__="What a tablet records about one herd sighting.",
    **{f.name: _field(f) for f in wire.PROPERTIES},
)


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
    properties: ObservationPropertiesIn  # made from domain/wire.py by create_model


class FeatureCollectionEnvelope(BaseModel):
    """A batch: only the envelope is checked here, each feature on its own afterwards."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["FeatureCollection"]
    features: list[Any]


# ---- out ----------------------------------------------------------------------------------


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


# The editable device properties of an edit (EDITABLE_FIELDS: the device is fixed).
ObservationChangesIn = create_model(
    "ObservationChangesIn",
    __base__=_Strict,
    __doc__="Changed properties of an edit.",
    # Leaving a property out changes nothing; a required one left out defaults to None,
    # never validated, so an explicit null is still refused.
    **{
        f.name: _field(f, required_default=None)
        for f in wire.DEVICE_PROPERTIES
        if f.name in EDITABLE_FIELDS
    },
)


# ---- survey geometry: as strict as an observation's point -----------------------------------

MAX_SURVEY_POSITIONS = 100_000  # a day's GPS track at one fix a second is 86,400
Position = Annotated[list[Number], Field(min_length=2, max_length=3)]
Ring = Annotated[list[Position], Field(min_length=4)]


class _Geometry(_Strict):
    def positions(self) -> int:
        def count(value: Any) -> int:
            if value and isinstance(value[0], (int, float)):
                return 1
            return sum(count(v) for v in value)

        return count(getattr(self, "coordinates"))  # noqa: B009  # every subclass has it

    @model_validator(mode="after")
    def _not_too_many(self) -> _Geometry:
        if self.positions() > MAX_SURVEY_POSITIONS:
            raise ValueError(
                Message(
                    "more than {limit} positions: simplify the track", limit=MAX_SURVEY_POSITIONS
                )
            )
        return self


class LineStringIn(_Geometry):
    type: Literal["LineString"]
    coordinates: list[Position] = Field(min_length=2)


class MultiLineStringIn(_Geometry):
    type: Literal["MultiLineString"]
    coordinates: list[Annotated[list[Position], Field(min_length=2)]] = Field(min_length=1)


class PolygonIn(_Geometry):
    type: Literal["Polygon"]
    coordinates: list[Ring] = Field(min_length=1)


class MultiPolygonIn(_Geometry):
    type: Literal["MultiPolygon"]
    coordinates: list[Annotated[list[Ring], Field(min_length=1)]] = Field(min_length=1)


SurveyGeometryIn = Annotated[
    LineStringIn | MultiLineStringIn | PolygonIn | MultiPolygonIn, Field(discriminator="type")
]


# Free text from a client: checked for characters no store can keep (domain/wire.py).
Text = Annotated[str, Field(pattern=wire.TEXT_PATTERN)]


class RetractIn(_Strict):
    reason: Text | None = Field(None, max_length=1000)


SURVEY_ID_PATTERN = r"^[A-Za-z0-9._:-]+$"


class StratumIn(_Strict):
    """One stratum of a strip-transect survey (reports estimate its animals from it)."""

    name: Text = Field(min_length=1, max_length=100)
    strip_width_m: float = Field(gt=0, le=10_000, allow_inf_nan=False, description="both sides")
    area: Annotated[PolygonIn | MultiPolygonIn, Field(discriminator="type")] = Field(
        description="GeoJSON Polygon or MultiPolygon, lon/lat"
    )
    transects: MultiLineStringIn = Field(description="GeoJSON MultiLineString, a line a transect")


class SurveyIn(_Strict):
    """An effort unit: a flight, snowmobile route, foot transect, camera or collar deployment."""

    id: str = Field(min_length=1, max_length=100, pattern=SURVEY_ID_PATTERN)
    method: Literal["aerial", "snowmobile", "foot", "camera", "collar"]
    started_at: TimeText
    ended_at: TimeText | None = None
    name: Text = Field("", max_length=200)
    team: list[Annotated[Text, Field(max_length=200)]] = Field(default_factory=list, max_length=50)
    platform: Text | None = Field(None, max_length=200)
    geometry: SurveyGeometryIn | None = Field(
        None, description="GeoJSON LineString track or Polygon area, lon/lat"
    )
    notes: Text | None = Field(None, max_length=4000)
    strata: list[StratumIn] = Field(
        default_factory=list, max_length=50, description="strip transects, when flown"
    )

    @field_validator("started_at", "ended_at")
    @classmethod
    def _in_range(cls, value: datetime | None) -> datetime | None:
        problem = range_problem(value) if value is not None else None
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("ended_at")
    @classmethod
    def _after_start(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        # A field's validator, not the model's: the error then names ended_at (it named
        # the whole body).
        started = info.data.get("started_at")
        if value is not None and started is not None and value < started:
            raise ValueError(Message("ended_at is before started_at"))
        return value

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
            geometry=self.geometry.model_dump() if self.geometry else None,
            effort_km=effort_km,
            effort_km2=effort_km2,
            notes=self.notes,
            created_by=created_by,
            strata=tuple(TransectStratum(**s.model_dump()) for s in self.strata),
        )


def survey_json(survey: Survey) -> dict[str, Any]:
    return {
        "id": survey.id,
        "method": survey.method,
        "started_at": rfc3339(survey.started_at),
        "ended_at": rfc3339(survey.ended_at) if survey.ended_at else None,
        "name": survey.name,
        "team": list(survey.team),
        "platform": survey.platform,
        "geometry": survey.geometry,
        "effort_km": survey.effort_km,
        "effort_km2": survey.effort_km2,
        "notes": survey.notes,
        "created_by": survey.created_by,
        "created_at": survey.created_at.isoformat() if survey.created_at else None,
        "strata": [s.as_dict() for s in survey.strata],
    }


__all__ = ["COUNT_METHODS", "SURVEY_METHODS", "feature_to_observation", "observation_feature"]
