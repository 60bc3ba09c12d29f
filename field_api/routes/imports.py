"""POST /api/v1/imports: a survey file in, the per-row import report out.

Multipart form: `file` and the CLI's options as fields (`format`, `layer`, `crs`, `map` and
`set` repeated as FIELD=VALUE, `timezone`, `survey`, `dry_run`, `skip_invalid`). A dry run
is the default: a client must send dry_run=false to write. The file's size is limited by
HERDWATCH_MAX_IMPORT_BYTES (checked on its declared length, before it is read).
"""

from __future__ import annotations

import tempfile
from pathlib import Path, PurePath
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from data.imports import ImportOptions, ImportSummary, run_import
from data.imports.mapping import pairs
from data.imports.readers import FORMATS
from data.imports.report import RowResult
from domain.i18n import Message, rendered, translator
from field_api.deps import Researcher, SettingsDep, StoreDep
from field_api.errors import ApiError
from field_api.ingest import upload_rules
from field_api.language import language_headers, request_language
from field_api.query_check import DeclaredQueryOnly

PATH = "/api/v1/imports"
router = APIRouter(tags=["imports"], dependencies=[DeclaredQueryOnly])
_COPY_BLOCK = 1 << 20
Text = Annotated[str | None, Form(max_length=200)]


@router.post(PATH, responses={201: {"description": "imported"}, 422: {"description": "refused"}})
async def post_import(
    request: Request,
    user: Researcher,
    store: StoreDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="the survey file")],
    format: Text = None,
    layer: Text = None,
    crs: Text = None,
    map: Annotated[list[str], Form(description="FIELD=COLUMN, repeated")] = [],  # noqa: B006
    set: Annotated[list[str], Form(description="FIELD=VALUE, repeated")] = [],  # noqa: B006
    timezone: Text = None,
    survey: Text = None,
    dry_run: Annotated[bool, Form()] = True,
    skip_invalid: Annotated[bool, Form()] = False,
) -> JSONResponse:
    """Import a file (a dry run unless dry_run=false); answered with every row's outcome."""
    if format is not None and format not in FORMATS:
        raise ApiError(
            422,
            "invalid",
            Message(
                "format {format} is not one of {known}",
                format=repr(format),
                known=", ".join(FORMATS),
            ),
            field="format",
        )
    options = ImportOptions(
        format,
        layer,
        crs,
        pairs(map, "map"),
        pairs(set, "set"),
        timezone,
        survey,
        dry_run,
        skip_invalid,
    )
    name = _file_name(file)
    rows: list[RowResult] = []
    with tempfile.TemporaryDirectory(prefix="herdwatch-import-") as folder:
        path = Path(folder) / name
        await _save(file, path)
        summary = await run_in_threadpool(
            run_import,
            store,
            path,
            options,
            rules=upload_rules(settings),
            actor=user.name,
            source=name,
            on_row=rows.append,
        )
    return _answer(summary, rows, request_language(request))


def _file_name(file: UploadFile) -> str:
    """The upload's own name (its extension tells the format; it keys made-up ids)."""
    name = PurePath((file.filename or "").replace("\\", "/")).name
    if not name or name in (".", ".."):
        raise ApiError(422, "invalid", Message("the file part needs a filename"), field="file")
    return name


async def _save(file: UploadFile, path: Path) -> None:
    with path.open("wb") as out:
        while block := await file.read(_COPY_BLOCK):
            out.write(block)


def _answer(summary: ImportSummary, rows: list[RowResult], lang: str) -> JSONResponse:
    rows = sorted(rows, key=lambda r: r.row)  # emitted invalid first, stored after the commit
    body: dict[str, Any] = {**summary.as_dict(), "rows": [r.as_dict() for r in rows]}
    if summary.dry_run or summary.committed:
        # The rows' reasons are text for a person: written in the request's language.
        translated = rendered(body, translator(lang))
        status = 201 if summary.stored else 200
        return JSONResponse(translated, status_code=status, headers=language_headers(lang))
    errors = [
        {"field": f"rows[{r.row}].{f}", "code": "invalid", "message": reason}
        for r in rows
        if r.status == "invalid"
        for f, reason in zip(r.fields, r.reasons, strict=False)
    ]
    raise ApiError(422, "invalid_rows", summary.verdict(), errors=errors, extra={"report": body})
