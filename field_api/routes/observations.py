"""Observation uploads (idempotent on the device-made UUID), listing, edits and retraction."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Annotated, Any, TypeVar
from uuid import UUID

import msgspec
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ValidationError

from data import edits, survey_access
from data.uploads import Rejected, crs_problem
from domain.i18n import Joined, Message, rendered, translator
from domain.records import EDITABLE_FIELDS, Observation, Outcome
from domain.wire import observation_feature, record_changes
from field_api.body import parse_json, read_body, read_json
from field_api.deps import AnyUser, Reader, SettingsDep, StoreDep, Uploader, may_change, may_read
from field_api.errors import ApiError, pydantic_errors, summary
from field_api.filters import QueryDep, encode_cursor
from field_api.ingest import (
    Parsed,
    parse_batch_json,
    parse_features,
    refuse_closed_surveys,
    survey_ids,
    upload_rules,
)
from field_api.language import language_headers, request_language
from field_api.query_check import DeclaredQueryOnly
from field_api.routes.photos import photo_json
from field_api.schemas import (
    FeatureCollectionEnvelope,
    ObservationChangesIn,
    ObservationPatch,
    RetractIn,
    outcome_json,
)
from geo.coords import CoordinateError, normalise_crs

router = APIRouter(
    prefix="/api/v1/observations", tags=["observations"], dependencies=[DeclaredQueryOnly]
)
M = TypeVar("M", bound=BaseModel)

CrsParam = Annotated[
    str | None, Query(description="CRS of the coordinates, e.g. EPSG:32652 (UTM 52N)")
]
_FEATURE_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/geo+json": {
                "schema": {"$ref": "#/components/schemas/ObservationFeaturePut"}
            }
        },
    }
}
_BATCH_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/geo+json": {"schema": {"$ref": "#/components/schemas/FeatureCollectionIn"}}
        },
    }
}
_STATUS = {"created": 201, "unchanged": 200}
_FEATURE_OUT: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the observation as a GeoJSON Feature",
        "content": {"application/geo+json": {"schema": {"type": "object"}}},
    }
}
_PATCH_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/ObservationPatch"}}
        },
    }
}
_RETRACT_DOC = {
    "requestBody": {
        "required": False,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RetractIn"}}},
    }
}


def _crs(crs: str | None) -> str | None:
    try:
        return normalise_crs(crs) if crs else None
    except CoordinateError as exc:
        raise ApiError(422, "invalid_crs", crs_problem(exc, crs or ""), field="crs") from exc


@router.api_route("/batch", methods=["GET", "PUT", "PATCH", "DELETE"], include_in_schema=False)
def batch_other_methods() -> None:
    """Only POST goes to /batch: without this, /{observation_id} took "batch" as an id (422)."""
    raise ApiError(
        405, "method_not_allowed", Message("send a batch with POST"), headers={"Allow": "POST"}
    )


@router.put(
    "/{observation_id}",
    openapi_extra=_FEATURE_DOC,
    status_code=201,
    responses={
        200: {"description": "identical re-send: nothing stored"},
        409: {"description": "same id, different content"},
        410: {"description": "retracted"},
    },
)
async def put_observation(
    observation_id: UUID,
    request: Request,
    user: Uploader,
    store: StoreDep,
    settings: SettingsDep,
    crs: CrsParam = None,
) -> JSONResponse:
    """Store one observation under the device's UUID: 201 created, 200 identical re-send."""
    feature = await read_json(request)
    if isinstance(feature, dict) and "id" not in feature:
        feature = {**feature, "id": str(observation_id)}
    [parsed] = parse_features(
        [feature], crs=_crs(crs), observer=user.name, settings=settings, prefix=""
    )
    await _check_surveys([parsed], user, store, prefix="")
    _raise_if_invalid(parsed, observation_id)
    assert parsed.observation is not None
    [outcome] = await run_in_threadpool(
        store.add_observations, [parsed.observation], actor=user.name
    )
    return _single_response(outcome, request)


async def _check_surveys(
    parsed: list[Parsed], user: AnyUser, store: StoreDep, *, prefix: str
) -> None:
    """Sightings attached to a survey not open to the uploader are refused (one by one)."""
    ids = survey_ids(parsed)
    if ids:
        closed = await run_in_threadpool(survey_access.closed_surveys, store, user, ids)
        refuse_closed_surveys(parsed, closed, prefix)


def _raise_if_invalid(parsed: Parsed, observation_id: UUID) -> None:
    if parsed.errors:
        raise ApiError(422, "validation_error", summary(parsed.errors), errors=parsed.errors)
    if parsed.id != observation_id:
        raise ApiError(
            422,
            "id_mismatch",
            Message(
                "the body's id {body_id} differs from the URL's {url_id}",
                body_id=str(parsed.id),
                url_id=str(observation_id),
            ),
            field="id",
        )


def _single_response(outcome: Outcome, request: Request) -> JSONResponse:
    body = outcome_json(outcome)
    if outcome.status in _STATUS:
        # Spelled out: url_for searches every route, a twentieth of a single upload's time.
        location = f"{str(request.base_url).rstrip('/')}{router.prefix}/{outcome.id}"
        return JSONResponse(
            body, status_code=_STATUS[outcome.status], headers={"Location": location}
        )
    status = 409 if outcome.status == "conflict" else 410
    code = "conflict" if status == 409 else "gone"
    errors = [
        {
            "field": f"properties.{f}" if f not in ("lon", "lat") else "geometry",
            "code": "differs",
            "message": Message("{name} differs from the stored observation", name=f),
        }
        for f in outcome.differing
    ]
    extra = {
        "id": str(outcome.id),
        "revision": outcome.revision,
        "differing": list(outcome.differing),
    }
    raise ApiError(status, code, outcome.message or code, errors=errors, extra=extra)


@router.post("/batch", openapi_extra=_BATCH_DOC)
async def upload_batch(
    request: Request, user: Uploader, store: StoreDep, settings: SettingsDep, crs: CrsParam = None
) -> Response:
    """Store many observations (a FeatureCollection): one result per record, valid ones kept."""
    body = await read_body(request)
    target_crs = _crs(crs)
    parsed = parse_batch_json(body, crs=target_crs, observer=user.name, settings=settings)
    if parsed is None:  # something is wrong somewhere: judge each feature on its own
        envelope = _envelope(parse_json(body))
        if len(envelope.features) > settings.max_batch_size:
            raise ApiError(
                413,
                "batch_too_large",
                Message(
                    "{n} features in one batch; the limit is {limit}",
                    n=len(envelope.features),
                    limit=settings.max_batch_size,
                ),
                field="features",
            )
        parsed = parse_features(
            envelope.features, crs=target_crs, observer=user.name, settings=settings
        )
    await _check_surveys(parsed, user, store, prefix="features")
    valid = [p for p in parsed if p.observation is not None]
    stored = await run_in_threadpool(
        store.add_observations, [p.observation for p in valid if p.observation], actor=user.name
    )
    receipt = _batch_receipt(parsed, dict(zip((p.index for p in valid), stored, strict=True)))
    if receipt["summary"]["created"] + receipt["summary"]["unchanged"] == len(parsed):
        # msgspec encodes a 1,000-result receipt several times faster than json.dumps.
        return Response(msgspec.json.encode(receipt), media_type="application/json")
    # Some records carry reasons: those are written in the request's language.
    lang = request_language(request)
    body = msgspec.json.encode(rendered(receipt, translator(lang)))
    return Response(body, media_type="application/json", headers=language_headers(lang))


def _envelope(body: Any) -> FeatureCollectionEnvelope:
    try:
        return FeatureCollectionEnvelope.model_validate(body)
    except ValidationError as exc:
        errors = pydantic_errors(list(exc.errors()))
        raise ApiError(
            422,
            "validation_error",
            Message(
                "the body must be a GeoJSON FeatureCollection: {reasons}",
                reasons=Joined([e["message"] for e in errors]),
            ),
            errors=errors,
        ) from exc


def _batch_receipt(parsed: list[Parsed], outcomes: dict[int, Outcome]) -> dict[str, Any]:
    results: list[dict[str, Any]] = []
    summary = {"created": 0, "unchanged": 0, "conflict": 0, "gone": 0, "invalid": 0}
    for p in parsed:
        outcome = outcomes.get(p.index)
        if outcome is not None and outcome.status == "created":  # the common case, kept lean
            # msgspec writes the UUID itself, faster than str() here.
            result = {"index": p.index, "id": outcome.id, "status": "created", "revision": 1}
        elif outcome is not None:
            result = outcome_json(outcome, p.index)
        else:
            result = {
                "index": p.index,
                "id": str(p.id) if p.id else None,
                "status": "invalid",
                "errors": p.errors,
            }
        summary[str(result["status"])] += 1
        results.append(result)
    return {"summary": summary, "results": results}


@router.get(
    "",
    response_class=JSONResponse,
    responses={200: {**_FEATURE_OUT[200], "description": "a GeoJSON FeatureCollection page"}},
)
def list_observations(request: Request, query: QueryDep, user: Reader, store: StoreDep) -> Response:
    """Observations as a GeoJSON FeatureCollection, paged with a `next` link."""
    if user.role == "observer":  # observers see their own records only
        query = replace(query, observer=user.name)
    page = store.query_features(query)
    links = [{"rel": "self", "href": str(request.url), "type": "application/geo+json"}]
    next_url = None
    if page.next_after:
        next_url = str(request.url.include_query_params(next=encode_cursor(page.next_after)))
        links.append({"rel": "next", "href": next_url, "type": "application/geo+json"})
    # The store hands over the features as JSON text already; only the envelope is encoded.
    rest = msgspec.json.encode({"numberReturned": page.returned, "next": next_url, "links": links})
    body = b'{"type":"FeatureCollection","features":' + page.features + b"," + rest[1:]
    return Response(body, media_type="application/geo+json")


@router.get("/{observation_id}", response_class=JSONResponse, responses=_FEATURE_OUT)
def get_observation(observation_id: UUID, user: Reader, store: StoreDep) -> JSONResponse:
    """One observation, retracted ones included (their status says so)."""
    obs = store.get_observation(observation_id)
    _check_read(user, obs)
    feature = observation_feature(obs)
    # A foreign member of the Feature: listings and stored Feature texts stay as they are.
    feature["photos"] = [photo_json(p) for p in store.list_photos(observation_id)]
    return JSONResponse(feature, media_type="application/geo+json")


def _check_read(user: AnyUser, obs: Observation) -> None:
    if not may_read(user, obs.observer):
        raise ApiError(403, "forbidden", Message("observers can read only their own observations"))


def _check_change(user: AnyUser, obs: Observation) -> None:
    if not may_change(user, obs.observer):
        raise ApiError(
            403,
            "forbidden",
            Message("only {owner} or an admin can change this observation", owner=obs.observer),
        )


@router.patch("/{observation_id}", openapi_extra=_PATCH_DOC, responses=_FEATURE_OUT)
async def edit_observation(
    observation_id: UUID, request: Request, user: Uploader, store: StoreDep, settings: SettingsDep
) -> JSONResponse:
    """Edit with the revision it was based on; a stale revision answers 409."""
    edit = parse_edit(await read_json(request))
    new_survey = edit.changes.get("survey_id")
    if new_survey:
        closed = await run_in_threadpool(survey_access.closed_surveys, store, user, [new_survey])
        if closed:
            field = "properties.survey_id"
            reason = Message("{field}: {reason}", field=field, reason=closed[new_survey])
            raise ApiError(422, "survey_not_open", reason, field=field)
    try:
        edited = await run_in_threadpool(
            edits.edit_observation,
            store,
            observation_id,
            edit,
            actor=user.name,
            rules=upload_rules(settings),
            check_allowed=partial(_check_change, user),
        )
    except Rejected as exc:
        errors = [p.as_dict() for p in exc.problems]
        raise ApiError(422, "validation_error", exc.message, errors=errors) from exc
    return JSONResponse(observation_feature(edited), media_type="application/geo+json")


def parse_edit(body: Any) -> edits.Edit:
    """The edit's revision and changed fields, each checked as an upload checks it."""
    patch = _validated(ObservationPatch, body)
    unknown = sorted(set(patch.properties) - set(EDITABLE_FIELDS))
    if unknown:
        raise ApiError(
            422,
            "not_editable",
            Message("properties {names} cannot be edited", names=", ".join(unknown)),
            field=f"properties.{unknown[0]}",
        )
    parsed = _validated(ObservationChangesIn, patch.properties, loc="properties")
    changes = record_changes(parsed, parsed.model_fields_set)
    if patch.geometry is not None:
        changes["lon"], changes["lat"] = patch.geometry.coordinates[:2]
    return edits.Edit(patch.revision, changes)


def _validated(model: type[M], body: Any, loc: str | None = None) -> M:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raw = [{**e, "loc": (loc, *e["loc"])} if loc else e for e in exc.errors()]
        errors = pydantic_errors(raw)
        raise ApiError(422, "validation_error", summary(errors), errors=errors) from exc


@router.delete("/{observation_id}", openapi_extra=_RETRACT_DOC, responses=_FEATURE_OUT)
async def retract_observation(
    observation_id: UUID, request: Request, user: Uploader, store: StoreDep
) -> JSONResponse:
    """Retract (tombstone): it stays in the history, and a later PUT of this id answers 410."""
    reason = None
    if (await request.body()).strip():
        reason = RetractIn.model_validate(await read_json(request)).reason
    current = await run_in_threadpool(store.get_observation, observation_id)
    _check_change(user, current)
    retracted = await run_in_threadpool(
        store.retract_observation, observation_id, actor=user.name, reason=reason
    )
    return JSONResponse(observation_feature(retracted), media_type="application/geo+json")


@router.get("/{observation_id}/history")
def observation_history(observation_id: UUID, user: Reader, store: StoreDep) -> dict[str, Any]:
    """Every create, edit, retraction and review of one observation, with before and after."""
    _check_read(user, store.get_observation(observation_id))
    return {
        "id": str(observation_id),
        "revisions": [
            {
                "revision": r.revision,
                "action": r.action,
                "actor": r.actor,
                "at": r.at.isoformat(),
                "reason": r.reason,
                "before": r.before,
                "after": r.after,
            }
            for r in store.history(observation_id)
        ],
    }
