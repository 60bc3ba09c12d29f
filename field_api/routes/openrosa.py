"""OpenRosa for ODK Collect and KoboCollect: the form list, the form, and submissions.

Collect speaks OpenRosa 1.0: every answer carries `X-OpenRosa-Version: 1.0`, errors are an
OpenRosaResponse whose message the tablet shows the observer, and credentials are HTTP
Basic: the Herdwatch user name and that user's token as the password. The rules live in
data/openrosa.py (submissions) and data/xlsform.py (the form); this module parses the
request and shapes the answer.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import AsyncGenerator, Callable, Coroutine
from typing import Annotated, Any
from xml.etree.ElementTree import Element, SubElement, tostring

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from data import openrosa
from data.openrosa import PhotoSink, Received
from data.uploads import Rejected
from data.xlsform import XForm
from domain.errors import DomainError
from domain.i18n import DEFAULT_LANGUAGE, Message, PluralMessage, translator
from domain.i18n import text as in_language
from domain.records import User
from field_api.body import read_body
from field_api.deps import SettingsDep, StoreDep
from field_api.errors import ApiError, pydantic_errors, status_of, summary
from field_api.ingest import upload_rules
from field_api.language import language_headers, request_language
from field_api.openrosa_form import served_form

log = logging.getLogger(__name__)
VERSION = {"X-OpenRosa-Version": "1.0"}
XML = "text/xml; charset=utf-8"
RESPONSE_NS = "http://openrosa.org/http/response"
LIST_NS = "http://openrosa.org/xforms/xformsList"
MANIFEST_NS = "http://openrosa.org/xforms/xformsManifest"
CHALLENGE = {"WWW-Authenticate": 'Basic realm="Herdwatch", charset="UTF-8"'}
MAX_ATTACHMENTS = 50  # Collect sends the XML and at most a few photos per POST


class OpenRosaRoute(APIRoute):
    """Every answer of these routes, errors included, speaks OpenRosa (XML, version header)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                response = await handle(request)
            except Exception as exc:  # noqa: BLE001  every error becomes a message to show
                response = error_response(exc, request_language(request))
            response.headers.update(VERSION)
            return response

        return answer


router = APIRouter(prefix="/openrosa", tags=["openrosa"], route_class=OpenRosaRoute)


def openrosa_message(
    said: str | Message, *, nature: str = "", status: int = 201, lang: str = DEFAULT_LANGUAGE
) -> Response:
    """An OpenRosaResponse: Collect shows its message to the observer, in `lang`."""
    root = Element("OpenRosaResponse", {"xmlns": RESPONSE_NS, "items": "0"})
    message = SubElement(root, "message", {"nature": nature} if nature else {})
    message.text = in_language(said, translator(lang))
    headers = language_headers(lang)
    return Response(_xml(root), status_code=status, media_type=XML, headers=headers)


def error_response(exc: Exception, lang: str = DEFAULT_LANGUAGE) -> Response:
    """Why a request was refused, as the tablet shows it: every field at fault, first."""
    if isinstance(exc, Rejected):
        said = Message("Not stored: {reasons}", reasons=exc.message)
        return openrosa_message(said, nature="submit_error", status=422, lang=lang)
    if isinstance(exc, ApiError):
        response = openrosa_message(exc.message, nature="error", status=exc.status, lang=lang)
        response.headers.update(exc.headers or {})
        return response
    if isinstance(exc, DomainError):
        status = status_of(exc)
        return openrosa_message(exc.message, nature="submit_error", status=status, lang=lang)
    if isinstance(exc, RequestValidationError):
        said = summary(pydantic_errors(list(exc.errors())))
        return openrosa_message(said, nature="error", status=400, lang=lang)
    log.exception("OpenRosa request failed", exc_info=exc)
    failed = Message("the server failed; send the form again later")
    return openrosa_message(failed, nature="error", status=500, lang=lang)


def _xml(root: Element) -> bytes:
    return tostring(root, encoding="utf-8", xml_declaration=True)


# ---- who is asking --------------------------------------------------------------------


async def basic_user(request: Request, store: StoreDep) -> User:
    """The observer (or admin) named by HTTP Basic: user name, and a token as the password.

    Async on purpose, as field_api.deps.current_user: one indexed read, no thread hop.
    """
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        raise ApiError(
            401,
            "unauthorized",
            Message("sign in: user name, and your Herdwatch token as the password"),
            headers=CHALLENGE,
        )
    name, token = _credentials(encoded.strip())
    user = store.user_for_token(token) if token else None
    if user is None or user.name != name:
        raise ApiError(
            401,
            "unauthorized",
            Message(
                "the user name or token is wrong, or the token was revoked: ask your "
                "administrator for a token (herdwatch users token NAME)"
            ),
            headers=CHALLENGE,
        )
    if user.role not in ("observer", "admin"):
        raise ApiError(
            403,
            "forbidden",
            Message("the {role} role cannot send forms; it needs observer", role=user.role),
        )
    return user


def _credentials(encoded: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    name, _, token = decoded.partition(":")
    return name, token


Observer = Annotated[User, Depends(basic_user)]


def _form(settings: SettingsDep) -> XForm:
    return served_form(settings)


FormDep = Annotated[XForm, Depends(_form)]


# ---- the form ---------------------------------------------------------------------------


@router.get("/formList", response_class=Response)
def form_list(request: Request, user: Observer, form: FormDep) -> Response:
    """The xformsList document: the form with its md5 hash and where to download it."""
    root = Element("xforms", {"xmlns": LIST_NS})
    wanted = request.query_params.get("formID")
    if wanted in (None, form.form_id):
        item = SubElement(root, "xform")
        base = _base(request)
        for tag, text in (
            ("formID", form.form_id),
            ("name", form.title),
            ("version", form.version),
            ("hash", f"md5:{form.md5}"),
            ("downloadUrl", f"{base}/openrosa/forms/{form.form_id}"),
        ):
            SubElement(item, tag).text = text
        if form.media:
            SubElement(item, "manifestUrl").text = f"{base}/openrosa/forms/{form.form_id}/manifest"
    return Response(_xml(root), media_type=XML)


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _the_form(form: XForm, form_id: str) -> XForm:
    if form_id != form.form_id:
        raise ApiError(
            404,
            "not_found",
            Message(
                "no form {form} here; this server has {served}",
                form=repr(form_id),
                served=repr(form.form_id),
            ),
        )
    return form


@router.get("/forms/{form_id}", response_class=Response)
def form_download(form_id: str, user: Observer, form: FormDep) -> Response:
    """The XForm itself: the very bytes whose md5 formList gives."""
    return Response(_the_form(form, form_id).xml, media_type=XML)


@router.get("/forms/{form_id}/manifest", response_class=Response)
def form_manifest(request: Request, form_id: str, user: Observer, form: FormDep) -> Response:
    """The media files the form uses (an administrator's form may have some)."""
    root = Element("manifest", {"xmlns": MANIFEST_NS})
    base = f"{_base(request)}/openrosa/forms/{form_id}/media"
    for path in _the_form(form, form_id).media:
        entry = SubElement(root, "mediaFile")
        SubElement(entry, "filename").text = path.name
        SubElement(entry, "hash").text = f"md5:{_md5(path.read_bytes())}"
        SubElement(entry, "downloadUrl").text = f"{base}/{path.name}"
    return Response(_xml(root), media_type=XML)


@router.get("/forms/{form_id}/media/{name}", response_class=Response)
def form_media(form_id: str, name: str, user: Observer, form: FormDep) -> Response:
    """One media file of the form, by the name its manifest lists (nothing else is served)."""
    for path in _the_form(form, form_id).media:
        if path.name == name:
            return Response(path.read_bytes(), media_type="application/octet-stream")
    raise ApiError(
        404,
        "not_found",
        Message("the form has no media file {name}", name=repr(name)),
        field="name",
    )


def _md5(data: bytes) -> str:
    import hashlib

    return hashlib.md5(data, usedforsecurity=False).hexdigest()


# ---- submissions --------------------------------------------------------------------------


@router.head("/submission", status_code=204, response_class=Response)
def submission_head(user: Observer, settings: SettingsDep) -> Response:
    """Collect asks before it sends: how large one POST may be (it splits larger ones)."""
    return Response(status_code=204, headers=_accepts(settings.max_body_bytes))


def _accepts(limit: int) -> dict[str, str]:
    return {"X-OpenRosa-Accept-Content-Length": str(limit)}


@router.post("/submission", status_code=201, response_class=Response)
async def submission(
    request: Request, user: Observer, store: StoreDep, settings: SettingsDep, form: FormDep
) -> Response:
    """A form instance (xml_submission_file) and its photos: 201 once stored, every time."""
    xml, attachments = await _multipart(request)
    received = await run_in_threadpool(
        openrosa.receive_submission,
        store,
        xml,
        attachments,
        form=form,
        user=user,
        rules=upload_rules(settings),
        photos=photo_sink(request),
    )
    lang = request_language(request)
    response = openrosa_message(_thanks(received), nature="submit_success", lang=lang)
    response.headers.update(_accepts(settings.max_body_bytes))
    return response


def photo_sink(request: Request) -> PhotoSink:
    """The observations' photo store, under the limits of a photo upload."""
    settings = request.app.state.settings
    return openrosa.StorePhotos(request.app.state.store, max_bytes=settings.max_photo_bytes)


def _thanks(received: Received) -> Message:
    said = {
        "created": Message("Herd sighting received"),
        "edited": Message("Edit received (revision {revision})", revision=str(received.revision)),
        "unchanged": Message("Already received"),
    }[received.status]
    if received.photos:
        said = PluralMessage(
            "{said}, with {n} photo", "{said}, with {n} photos", n=len(received.photos), said=said
        )
    return Message("{said}. Thank you! ({id})", said=said, id=str(received.observation_id))


async def _multipart(request: Request) -> tuple[bytes, dict[str, bytes]]:
    """The XML and the attachments by file name, read within the body limit."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise ApiError(
            400,
            "not_multipart",
            Message("send multipart/form-data with xml_submission_file"),
            field="xml_submission_file",
        )
    body = await read_body(request)

    async def stream() -> AsyncGenerator[bytes, None]:
        yield body

    parser = MultiPartParser(
        request.headers, stream(), max_files=MAX_ATTACHMENTS, max_fields=MAX_ATTACHMENTS
    )
    try:
        parts = await parser.parse()
    except MultiPartException as exc:
        reason = Message("the multipart body: {reason}", reason=exc.message)
        raise ApiError(400, "bad_multipart", reason) from exc
    xml, files = b"", {}
    for key, value in parts.multi_items():
        if not isinstance(value, UploadFile):  # a plain field: the XML as text, or a flag
            xml = value.encode() if key == "xml_submission_file" else xml
            continue
        data = await value.read()
        if key == "xml_submission_file":
            xml = data
        elif value.filename:
            files[value.filename.rsplit("/", 1)[-1]] = data
    if not xml:
        raise ApiError(
            400,
            "missing_xml",
            Message("xml_submission_file: missing; send the form instance as it"),
            field="xml_submission_file",
        )
    return xml, files
