"""Surveys: the effort units observations belong to (flights, routes, transects)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from field_api.deps import Reader, StoreDep, Uploader
from field_api.errors import ApiError
from field_api.schemas import SurveyIn, survey_json
from geo.effort import EffortError, survey_effort
from geo.transects import TransectError, project_stratum

router = APIRouter(prefix="/api/v1/surveys", tags=["surveys"])


@router.post("", status_code=201)
def create_survey(
    survey: SurveyIn, request: Request, user: Uploader, store: StoreDep
) -> JSONResponse:
    """Create a survey; effort (km of track or km² of area) is measured in EPSG:3576."""
    try:
        km, km2 = survey_effort(survey.geometry)
    except EffortError as exc:
        raise ApiError(422, "invalid_geometry", exc.message, field="geometry") from exc
    for i, stratum in enumerate(survey.strata):
        try:
            project_stratum(stratum.area, stratum.transects, stratum.strip_width_m)
        except TransectError as exc:
            field = f"strata[{i}].{exc.field}"
            raise ApiError(422, "invalid_stratum", f"{field}: {exc.message}", field=field) from exc
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
    """Surveys ordered by id, paged with a `next` link."""
    surveys = store.list_surveys(limit=limit, after=next)
    next_url = (
        str(request.url.include_query_params(next=surveys[-1].id))
        if len(surveys) == limit
        else None
    )
    return {"surveys": [survey_json(s) for s in surveys], "next": next_url}


@router.get("/{survey_id}")
def get_survey(survey_id: str, user: Reader, store: StoreDep) -> dict[str, Any]:
    """One survey."""
    return survey_json(store.get_survey(survey_id))
