"""Surveys: the effort units observations belong to (flights, routes, transects)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from data.survey_access import may_read
from domain.i18n import Message
from domain.records import Survey
from field_api.deps import Reader, Researcher, StoreDep
from field_api.errors import ApiError
from field_api.query_check import DeclaredQueryOnly
from field_api.schemas import SURVEY_ID_PATTERN, SurveyIn, survey_json
from geo.effort import EffortError, survey_effort
from geo.transects import TransectError, project_stratum

router = APIRouter(prefix="/api/v1/surveys", tags=["surveys"], dependencies=[DeclaredQueryOnly])
SurveyId = Annotated[str, Path(max_length=100, pattern=SURVEY_ID_PATTERN)]


@router.post("", status_code=201, responses={200: {"description": "identical re-send"}})
def create_survey(
    survey: SurveyIn, request: Request, user: Researcher, store: StoreDep
) -> JSONResponse:
    """Create a survey (researchers and admins); effort: its track's km on the ellipsoid,
    its area's km² (equal-area), or without either the km of its strata's transects."""
    # The strata first: the effort of a survey without a track measures their transects.
    for i, stratum in enumerate(survey.strata):
        try:
            area, lines = stratum.area.model_dump(), stratum.transects.model_dump()
            project_stratum(area, lines, stratum.strip_width_m)
        except TransectError as exc:
            field = f"strata[{i}].{exc.field}"
            reason = Message("{field}: {reason}", field=field, reason=exc.message)
            raise ApiError(422, "invalid_stratum", reason, field=field) from exc
    try:
        geometry = survey.geometry.model_dump() if survey.geometry else None
        km, km2 = survey_effort(geometry, [s.transects.model_dump() for s in survey.strata])
    except EffortError as exc:
        reason = Message("geometry: {reason}", reason=exc.message)
        raise ApiError(422, "invalid_geometry", reason, field="geometry") from exc
    outcome = store.add_survey(survey.to_record(user.name, km, km2))
    stored = store.get_survey(survey.id)
    status = 201 if outcome.status == "created" else 200
    location = str(request.url_for("get_survey", survey_id=survey.id))
    return JSONResponse(survey_json(stored), status_code=status, headers={"Location": location})


@router.get("")
def list_surveys(
    request: Request,
    user: Reader,
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    next: str | None = None,
) -> dict[str, Any]:
    """Surveys ordered by id, paged with a `next` link (an observer sees their team's)."""
    surveys, more = _readable_page(store, user, limit, next)
    next_url = str(request.url.include_query_params(next=surveys[-1].id)) if more else None
    return {"surveys": [survey_json(s) for s in surveys], "next": next_url}


def _readable_page(
    store: StoreDep, user: Reader, limit: int, after: str | None
) -> tuple[list[Survey], bool]:
    """Up to `limit` surveys the user may read after `after`, and whether more may follow."""
    page: list[Survey] = []
    while len(page) < limit:
        batch = store.list_surveys(limit=limit, after=after)
        page += [s for s in batch if may_read(user, s)][: limit - len(page)]
        if len(batch) < limit:
            return page, False
        after = batch[-1].id
    return page, True


@router.get("/{survey_id}")
def get_survey(survey_id: SurveyId, user: Reader, store: StoreDep) -> dict[str, Any]:
    """One survey (an observer reads only their team's: 404 for the others)."""
    survey = store.get_survey(survey_id)
    if not may_read(user, survey):  # as if absent: the id itself says nothing about it
        absent = Message("no survey with id {id}", id=repr(survey_id))
        raise ApiError(404, "not_found", absent, field="id")
    return survey_json(survey)
