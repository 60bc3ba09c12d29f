"""OpenRosa submissions (ODK Collect, KoboCollect) become observations, by the API's rules.

A submission is the form's XML with its attachments. Its questions map to observation
fields by name (data/xlsform.MAPPED_FIELDS), checked against the wire table's limits and
then by data/uploads.UploadRules, as an upload through the API is. The observation's id is
the UUID of meta/instanceID; each instance received is remembered (openrosa_instances)
with the revision it produced and a SHA-256 of its XML, so that:

- the same instance again (a re-send after a lost answer, or the next part of a submission
  Collect split over several POSTs) stores nothing new, only attachments not yet held;
- the same instanceID with other XML is a conflict;
- an instance whose meta/deprecatedID names a received one is an edit of that observation,
  based on the revision the deprecated instance produced (data/edits.py).

The XML is parsed with defusedxml: a submission with a DTD, entities or external references
is refused before anything expands.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol
from uuid import UUID
from xml.etree.ElementTree import Element, ParseError
from zoneinfo import ZoneInfo

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from data import edits, survey_access
from data.store import ObservationStore
from data.uploads import Problem, Rejected, UploadRules
from data.xlsform import XForm
from domain import wire
from domain.errors import Conflict, InvalidInput, NotFound
from domain.i18n import Message
from domain.openrosa import Instance, NotAllowed, SubmissionRefused
from domain.records import COMPOSITION_FIELDS, EDITABLE_FIELDS, Composition, Observation, User

# Yakutia's zones west to east (UTC+9, +10, +11): a form without a `timezone` question gets
# the first whose offset at that moment is the one the tablet wrote, so that periods are
# computed in the observer's local time; another offset keeps the wire format's default.
YAKUTIA_ZONES: tuple[str, ...] = ("Asia/Yakutsk", "Asia/Ust-Nera", "Asia/Srednekolymsk")
_WIRE = {f.name: f for f in wire.DEVICE_PROPERTIES}
_INTEGERS = {"count", *COMPOSITION_FIELDS}


@dataclass(frozen=True, slots=True)
class Submission:
    """A parsed form instance: its answers by question name (empty ones left out)."""

    form_id: str
    instance_id: UUID
    deprecated_id: UUID | None
    answers: Mapping[str, str]
    sha256: str


@dataclass(frozen=True, slots=True)
class Received:
    """What a POST achieved: the observation's revision and the photos it stored."""

    status: Literal["created", "edited", "unchanged"]
    observation_id: UUID
    revision: int
    photos: Mapping[str, str] = field(default_factory=dict)  # name → created | unchanged


class PhotoSink(Protocol):
    """Where attachments go: the observation photos' store.

    `prepare` checks a photo (type, size, a whole image) and raises InvalidInput when it is
    refused, before anything of the submission is written; `save` stores it, answering
    "created" or "unchanged" (the same bytes again), and raises Conflict for other bytes
    under a name already taken.
    """

    def prepare(self, observation_id: UUID, name: str, data: bytes, actor: str) -> Any: ...

    def save(self, prepared: Any) -> str: ...


class StorePhotos:
    """The observations' photo store (data/photos.py): the rules of PUT …/photos/{name}.

    A photo already stored under its name is compared by SHA-256 first: a re-sent one is
    not decoded again, and other bytes are refused before anything of the submission is
    written.
    """

    def __init__(self, store: ObservationStore, *, max_bytes: int) -> None:
        self.store, self.max_bytes = store, max_bytes

    def prepare(self, observation_id: UUID, name: str, data: bytes, actor: str) -> Any:
        from data import photos

        try:
            photos.check_name(name)
            photos.parse_range(None, len(data), self.max_bytes)  # empty or too large
            stored = self.store.get_photo(observation_id, name)
            if stored is None:
                return photos.make_photo(observation_id, name, data, actor)
        except InvalidInput as exc:  # name the photo: the observer sees which one
            reason = Message("photo {name}: {reason}", name=name, reason=exc.message)
            raise InvalidInput(reason, field=name) from exc
        if stored.sha256 != hashlib.sha256(data).hexdigest():
            raise Conflict(
                Message(
                    "photo {name} is stored with other bytes (sha256 {sha256}); "
                    "take the photo again to send it under another name",
                    name=repr(name),
                    sha256=stored.sha256,
                ),
                field=name,
            )
        return None  # the same photo again

    def save(self, prepared: Any) -> str:
        return "unchanged" if prepared is None else self.store.add_photo(prepared)


def parse_submission(xml: bytes) -> Submission:
    """The answers of a form instance; SubmissionRefused says what is wrong with the XML."""
    try:
        root = fromstring(xml, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise SubmissionRefused(
            Message("xml_submission_file: DTDs, entities and external references are not accepted"),
            field="xml_submission_file",
        ) from exc
    except ParseError as exc:
        raise SubmissionRefused(
            Message("xml_submission_file: not well-formed XML ({error})", error=str(exc)),
            field="xml_submission_file",
        ) from exc
    answers: dict[str, str] = {}
    for name, text in _leaves(root):
        if text and name not in answers:  # the first answer of a question (repeats: one)
            answers[name] = text
    return Submission(
        form_id=root.get("id", ""),
        instance_id=_instance_uuid(answers.get("instanceID"), "meta/instanceID"),
        deprecated_id=(
            _instance_uuid(answers["deprecatedID"], "meta/deprecatedID")
            if "deprecatedID" in answers
            else None
        ),
        answers=answers,
        sha256=hashlib.sha256(xml).hexdigest(),
    )


def _leaves(element: Element) -> Iterator[tuple[str, str]]:
    """(local name, text) of every element without children, in document order."""
    for child in element.iter():
        if len(child) == 0 and child is not element:
            yield child.tag.rpartition("}")[2], (child.text or "").strip()


def _instance_uuid(value: str | None, name: str) -> UUID:
    if not value:
        raise SubmissionRefused(
            Message("{field}: missing; the form must set it (uuid:…)", field=name), field=name
        )
    try:
        return UUID(value.removeprefix("uuid:"))
    except ValueError as exc:
        reason = Message("{field}: {value} is not uuid:<UUID>", field=name, value=repr(value[:60]))
        raise SubmissionRefused(reason, field=name) from exc


# ---- answers → an observation -------------------------------------------------------------


def to_observation(
    sub: Submission, form: XForm, *, observation_id: UUID, observer: str, rules: UploadRules
) -> Observation:
    """The observation a submission describes; Rejected names every field at fault."""
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    for name, text in sub.answers.items():
        if name in form.fields and name in _CONVERT:
            try:
                values[name] = _CONVERT[name](text)
            except ValueError as exc:
                reason = Message("{value} {reason}", value=repr(text[:60]), reason=exc.args[0])
                problems.append(Problem.of(name, "invalid", reason))
    if "location" in values and values["location"][2] is not None:
        values.setdefault("accuracy_m", values["location"][2])
    problems += [p for name in values for p in _limit_problems(name, values[name])]
    problems += [
        Problem.of(name, "missing", Message("is required"))
        for name in ("observed_at", "location", "count")
        if name not in values and name not in {p.field for p in problems}
    ]
    if problems:
        raise Rejected(problems)
    obs = _observation(values, observation_id, observer)
    problems = [_named_for_form(p) for p in rules.problems(obs, obs.lon, obs.lat)]
    if problems:
        raise Rejected(problems)
    return obs


def _observation(values: dict[str, Any], observation_id: UUID, observer: str) -> Observation:
    lon, lat, _ = values.pop("location")
    classes = {n: values.pop(n) for n in COMPOSITION_FIELDS if n in values}
    if "timezone" not in values:
        values["timezone"] = zone_for(values["observed_at"])
    return Observation(
        id=observation_id,
        lon=lon,
        lat=lat,
        observer=observer,
        composition=Composition(**classes),
        **values,
    )


def geopoint(text: str) -> tuple[float, float, float | None]:
    """OpenRosa's "lat lon [alt [acc]]" as (lon, lat, accuracy): the reverse of GeoJSON.

    The altitude is dropped: an observation has no field for it (README, ODK section).
    """
    parts = text.split()
    if not 2 <= len(parts) <= 4:
        raise ValueError(Message('is not a geopoint "lat lon altitude accuracy"'))
    try:
        numbers = [float(p) for p in parts]
    except ValueError as exc:
        raise ValueError(Message('is not a geopoint "lat lon altitude accuracy"')) from exc
    if not all(math.isfinite(n) for n in numbers):
        raise ValueError(Message("has a coordinate that is not a finite number"))
    accuracy = numbers[3] if len(numbers) == 4 else None
    return numbers[1], numbers[0], accuracy


def zone_for(moment: datetime) -> str:
    """The zone the observer was in, from the offset the tablet wrote (see YAKUTIA_ZONES)."""
    offset = moment.utcoffset()
    for name in YAKUTIA_ZONES:
        if moment.astimezone(ZoneInfo(name)).utcoffset() == offset:
            return name
    return str(_WIRE["timezone"].default)


def _datetime(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(Message("is not a date and time (2024-06-01T10:00:00.000+09:00)")) from exc
    if moment.utcoffset() is None:
        raise ValueError(Message("has no UTC offset; the tablet must send one"))
    return moment


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError as exc:
        raise ValueError(Message("is not a whole number")) from exc


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise ValueError(Message("is not a number")) from exc
    if not math.isfinite(value):
        raise ValueError(Message("is not a finite number"))
    return value


def _converters() -> dict[str, Callable[[str], Any]]:
    """How each mapped question's text becomes the observation field's value."""
    by_kind: dict[str, Callable[[str], Any]] = {
        "datetime": _datetime,
        "int": _integer,
        "number": _number,
        "text": str,
        "choice": str,
    }
    convert = {f.name: by_kind[f.kind] for f in wire.DEVICE_PROPERTIES if f.kind in by_kind}
    return convert | dict.fromkeys(COMPOSITION_FIELDS, _integer) | {"location": geopoint}


_CONVERT = _converters()


def _limit_problems(name: str, value: Any) -> list[Problem]:
    """The wire table's limits of a field (the API's schemas are made from the same table)."""
    f = wire.COMPOSITION_CLASS if name in COMPOSITION_FIELDS else _WIRE.get(name)
    if f is None:
        return []
    found = []
    if f.ge is not None and value < f.ge:
        reason = Message("{value} is less than {limit}", value=value, limit=f.ge)
        found.append(Problem.of(name, "too_small", reason))
    if f.le is not None and value > f.le:
        reason = Message("{value} is more than {limit}", value=value, limit=f.le)
        found.append(Problem.of(name, "too_large", reason))
    if f.max_length is not None and len(value) > f.max_length:
        reason = Message(
            "{length} characters; at most {limit}", length=len(value), limit=f.max_length
        )
        found.append(Problem.of(name, "too_long", reason))
    if f.choices and value not in f.choices:
        reason = Message(
            "{value} is not one of {known}", value=repr(value), known=", ".join(f.choices)
        )
        found.append(Problem.of(name, "not_a_choice", reason))
    return found


def _named_for_form(problem: Problem) -> Problem:
    """An upload rule's problem named by the form's question instead of the Feature's path."""
    name = problem.field.removeprefix("properties.")
    if name.startswith("geometry"):
        name = "location"
    reason = problem.message.params["reason"]
    assert isinstance(reason, Message)  # every rule's problem is Problem.of(field, code, reason)
    if name == "composition":  # the form has no such question: the classes and the count
        name, reason = "count", Message("the classification {reason}", reason=reason)
    return Problem.of(name, problem.code, reason)


# ---- receiving ----------------------------------------------------------------------------


def receive_submission(
    store: ObservationStore,
    xml: bytes,
    attachments: Mapping[str, bytes],
    *,
    form: XForm,
    user: User,
    rules: UploadRules,
    photos: PhotoSink,
) -> Received:
    """Store a submission once, edits as edits, then the photos it names (module docstring)."""
    sub = parse_submission(xml)
    if sub.form_id != form.form_id:
        raise NotFound(
            Message(
                "form {form} is not on this server; get {served} from the form list",
                form=repr(sub.form_id),
                served=repr(form.form_id),
            ),
            field="xml_submission_file",
        )
    known = store.get_instance(sub.instance_id)
    if known is not None and known.xml_sha256 != sub.sha256:
        raise _other_content(sub.instance_id)
    if known is not None:
        if attachments and not (user.role == "admin" or known.observer == user.name):
            raise NotAllowed(
                Message(
                    "instance uuid:{id} was sent by {observer}: only they or an admin can add "
                    "its photos",
                    id=str(sub.instance_id),
                    observer=known.observer,
                ),
                field="xml_submission_file",
            )
        prepared = _prepare_photos(sub, form, attachments, known.observation_id, user, photos)
        result = Received("unchanged", known.observation_id, known.revision)
    else:
        result, prepared = _store_new(store, sub, attachments, form, user, rules, photos)
    saved = {name: photos.save(p) for name, p in prepared.items()}
    return Received(result.status, result.observation_id, result.revision, saved)


def _store_new(
    store: ObservationStore,
    sub: Submission,
    attachments: Mapping[str, bytes],
    form: XForm,
    user: User,
    rules: UploadRules,
    photos: PhotoSink,
) -> tuple[Received, dict[str, Any]]:
    """A first sight of this instance: a new observation, or an edit of the one it replaces."""
    base = _edit_base(store, sub) if sub.deprecated_id else None
    observation_id = base.observation_id if base else sub.instance_id
    obs = to_observation(sub, form, observation_id=observation_id, observer=user.name, rules=rules)
    if obs.survey_id:  # the same survey rule as the API's uploads (data/survey_access.py)
        closed = survey_access.closed_surveys(store, user, [obs.survey_id])
        if closed:
            raise Rejected([Problem.of("survey_id", "survey_closed", closed[obs.survey_id])])
    # Photos are checked before anything is written: a refused one refuses the submission.
    prepared = _prepare_photos(sub, form, attachments, observation_id, user, photos)
    if base is None:
        status: Literal["created", "edited"] = "created"
        revision = _create(store, obs, user)
    else:
        status, revision = "edited", _edit(store, obs, base, user, rules, fields_asked(form))
    kept = store.add_instance(
        Instance(
            sub.instance_id,
            observation_id,
            revision,
            sub.sha256,
            user.name,
            deprecated_id=sub.deprecated_id,
        )
    )
    if kept.xml_sha256 != sub.sha256:  # another XML under this instanceID won a race
        raise _other_content(sub.instance_id)
    return Received(status, observation_id, kept.revision), prepared


def _create(store: ObservationStore, obs: Observation, user: User) -> int:
    [outcome] = store.add_observations([obs], actor=user.name)
    if outcome.status in ("created", "unchanged"):  # unchanged: the instance row was lost
        return outcome.revision or 1
    if outcome.status == "gone":
        raise Conflict(
            Message("observation {id} was retracted", id=str(obs.id)), field="meta/instanceID"
        )
    raise Conflict(
        outcome.message or Message("observation {id} is stored with other content", id=str(obs.id)),
        field="meta/instanceID",
        differing=outcome.differing,
    )


@dataclass(frozen=True, slots=True)
class _Base:
    observation_id: UUID
    revision: int


def _edit_base(store: ObservationStore, sub: Submission) -> _Base | None:
    """The observation and revision an edit replaces; None if its original never arrived.

    An original with no instance row (a store copied by `herdwatch transfer` keeps none)
    is still found when it was a first version: its observation has the instance's UUID
    and the revision a creation makes, 1.
    """
    assert sub.deprecated_id is not None
    deprecated = store.get_instance(sub.deprecated_id)
    if deprecated is not None:
        return _Base(deprecated.observation_id, deprecated.revision)
    try:
        store.get_observation(sub.deprecated_id)
    except NotFound:
        return None  # the observer edited it before sending: this is its first arrival
    return _Base(sub.deprecated_id, 1)


def _edit(
    store: ObservationStore,
    obs: Observation,
    base: _Base,
    user: User,
    rules: UploadRules,
    asked: frozenset[str],
) -> int:
    """An edit of every editable field the form asks for, made against the base revision."""
    changes = {name: getattr(obs, name) for name in EDITABLE_FIELDS if name in asked}

    def check_allowed(current: Observation) -> None:
        if not (user.role == "admin" or current.observer == user.name):
            raise NotAllowed(
                Message(
                    "observation {id} is {observer}'s: only they or an admin can edit it",
                    id=str(current.id),
                    observer=current.observer,
                ),
                field="meta/deprecatedID",
            )

    try:
        edited = edits.edit_observation(
            store,
            base.observation_id,
            edits.Edit(base.revision, changes),
            actor=user.name,
            rules=rules,
            check_allowed=check_allowed,
        )
    except Conflict:
        # This edit may be in already (its answer lost before the instance was noted, or a
        # twin POST won the race): then the stored fields are its fields.
        current = store.get_observation(base.observation_id)
        if any(getattr(current, k) != v for k, v in changes.items()):
            raise
        return current.revision
    return edited.revision


def fields_asked(form: XForm) -> frozenset[str]:
    """The observation fields a form's answers set: an edit changes only these (a field
    the form does not ask for keeps the value it has, whoever set it)."""
    asked = {"observed_at", "timezone", "lon", "lat", "accuracy_m", "count"}
    asked |= {name for name in EDITABLE_FIELDS if name in form.fields}
    if any(name in form.fields for name in COMPOSITION_FIELDS):
        asked.add("composition")
    return frozenset(asked)


def _prepare_photos(
    sub: Submission,
    form: XForm,
    attachments: Mapping[str, bytes],
    observation_id: UUID,
    user: User,
    photos: PhotoSink,
) -> dict[str, Any]:
    """The attachments the instance's image questions name, checked (others are ignored).
    A name no photo may have refuses the submission (seen: `../../evil.jpg` answered 201,
    its part filed as `evil.jpg`, and the photo silently left out)."""
    from data.photos import check_name

    named = {sub.answers[q] for q in form.image_fields if q in sub.answers}
    for question in form.image_fields:
        if question in sub.answers:
            try:
                check_name(sub.answers[question])
            except InvalidInput as exc:
                raise InvalidInput(exc.message, field=question) from exc
    return {
        name: photos.prepare(observation_id, name, data, user.name)
        for name, data in attachments.items()
        if name in named
    }


def _other_content(instance_id: UUID) -> Conflict:
    return Conflict(
        Message(
            "instance uuid:{id} was received before with other content; an edit "
            "must carry a new instanceID and name this one in meta/deprecatedID",
            id=str(instance_id),
        ),
        field="meta/instanceID",
    )
