"""`herdwatch import-field FILE`: load a Herdwatch Field export (records and photos).

For a tablet that never sees a network again: its "Export" button saves everything on it to
one JSON file, and this command stores it exactly as the app's own sync would, through
the same checks (field_api/ingest.py, data/edits.py, data/photos.py). Safe to run again:
records are keyed by their device-made UUIDs and photos by name and SHA-256, so a second
run reports everything unchanged.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
from collections import Counter
from pathlib import Path
from typing import Any
from uuid import UUID

from data import edits
from data.photos import check_name, make_photo
from data.store import ObservationStore
from data.uploads import Rejected
from domain.errors import Conflict, DomainError, InvalidInput
from domain.i18n import N_, Joined, Message
from field_api.cli.common import _, open_migrated_store, say
from field_api.settings import Settings

FORMAT, VERSION = "herdwatch-field", 1


def add_arguments(subparsers: Any) -> None:
    command = subparsers.add_parser(
        "import-field", help=_("store a Herdwatch Field export file (records and photos)")
    )
    command.add_argument("file", type=Path, help=_("the JSON file the app's Export button saved"))
    command.add_argument(
        "--observer", help=_("store the records as this user (default: the file's observer)")
    )


def import_field(args: argparse.Namespace, settings: Settings) -> int:
    """Store every record and photo of the file; prints a summary, exit 1 if any refused."""
    document = _read(args.file)
    store = open_migrated_store(settings, args)
    try:
        observer = _observer(store, args.observer or document.get("observer"))
        records = Counter[str]()
        photos = Counter[str]()
        for record in _list(document, "records"):
            records[_import_record(store, settings, record, observer)] += 1
        for photo in _list(document, "photos"):
            photos[_import_photo(store, photo, observer)] += 1
    finally:
        store.close()
    print(
        say(
            Message(
                "records: {records}; photos: {photos}",
                records=_summary(records),
                photos=_summary(photos),
            )
        )
    )
    return 1 if records["refused"] or photos["refused"] else 0


_KINDS = {
    "created": N_("{n} created"),
    "unchanged": N_("{n} unchanged"),
    "edited": N_("{n} edited"),
    "refused": N_("{n} refused"),
}


def _summary(counts: Counter[str]) -> Message:
    return Joined([Message(msgid, n=counts[kind]) for kind, msgid in _KINDS.items()], ", ")


def _read(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise InvalidInput(
            Message("{path}: cannot read a JSON export ({exc})", path=str(path), exc=str(exc)),
            field="file",
        ) from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise InvalidInput(
            Message("{path} is not a Herdwatch Field export", path=str(path)), field="file"
        )
    if document.get("version") != VERSION:
        raise InvalidInput(
            Message(
                "{path}: export version {value} is not 1",
                path=str(path),
                value=repr(document.get("version")),
            )
        )
    return document


def _list(document: dict[str, Any], key: str) -> list[dict[str, Any]]:
    items = document.get(key, [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise InvalidInput(
            Message("the export's {key} must be a list of objects", key=str(key)), field=key
        )
    return items


def _observer(store: ObservationStore, name: object) -> str:
    users = {u.name: u for u in store.list_users()}
    user = users.get(str(name))
    if user is None or user.role not in ("observer", "admin"):
        raise InvalidInput(
            Message("no observer {name} here: add the user, or pass --observer", name=repr(name)),
            field="observer",
        )
    return user.name


def _refused(what: Message, reason: str | Message) -> str:
    print(say(Message("refused {what}: {reason}", what=what, reason=reason)))
    return "refused"


def _import_record(
    store: ObservationStore, settings: Settings, record: dict[str, Any], observer: str
) -> str:
    """One record as its PUT would store it, then its pending edit as its PATCH would."""
    # Imported here, as in _apply_edit: the HTTP layer's parsers bring FastAPI (0.35 s),
    # which no other command needs at its start.
    from field_api.ingest import parse_features

    feature, crs = record.get("feature"), record.get("crs")
    [parsed] = parse_features([feature], crs=crs, observer=observer, settings=settings, prefix="")
    label = Message("record {id}", id=str(parsed.id))
    if parsed.observation is None:
        return _refused(label, Joined([e["message"] for e in parsed.errors]))
    [outcome] = store.add_observations([parsed.observation], actor=observer)
    if outcome.status not in ("created", "unchanged"):
        return _refused(label, outcome.message or outcome.status)
    if not record.get("edit"):
        return outcome.status
    return _apply_edit(store, settings, parsed.observation.id, record["edit"], observer, label)


def _apply_edit(
    store: ObservationStore,
    settings: Settings,
    observation_id: Any,
    pending: dict[str, Any],
    observer: str,
    label: Message,
) -> str:
    from field_api.errors import ApiError
    from field_api.ingest import upload_rules
    from field_api.routes.observations import parse_edit

    try:
        body = {"revision": pending.get("base") or 1, "properties": pending.get("properties", {})}
        if pending.get("geometry"):
            body["geometry"] = pending["geometry"]
        edit = parse_edit(body)
        current = store.get_observation(observation_id)
        if all(getattr(current, k) == v for k, v in edit.changes.items()):
            return "unchanged"  # applied by an earlier import or a sync
        edits.edit_observation(
            store,
            observation_id,
            edit,
            actor=observer,
            rules=upload_rules(settings),
            check_allowed=lambda obs: None,
        )
    except ApiError as exc:
        return _refused(label, exc.message)
    except Rejected as exc:
        return _refused(label, exc.message)
    except Conflict as exc:
        return _refused(label, exc.message)
    return "edited"


def _import_photo(store: ObservationStore, photo: dict[str, Any], observer: str) -> str:
    name = str(photo.get("name"))
    label = Message("photo {name}", name=repr(photo.get("name")))
    try:
        check_name(name)
        observation = store.get_observation(UUID(str(photo.get("observation_id"))))
        data = base64.b64decode(str(photo.get("data", "")), validate=True)
        return store.add_photo(make_photo(observation.id, name, data, observer))
    except binascii.Error as exc:
        return _refused(label, Message("its data is not base64 ({error})", error=str(exc)))
    except ValueError as exc:
        return _refused(label, Message("observation_id is not a UUID ({error})", error=str(exc)))
    except DomainError as exc:
        return _refused(label, exc.message)


COMMANDS = {"import-field": import_field}
