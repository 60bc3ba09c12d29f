"""`herdwatch transfer --from URL --to URL`: copy a whole store, then prove the copy.

Copies every survey, user and token hash, observation (with its upload hash and place in
the change feed) and revision, keeping ids, revisions, timestamps and flags. Safe to re-run:
what is already there is kept, and a record edited at the source since the last run is
brought over. Ends by comparing counts and a SHA-256 of every record on both sides.
"""

from __future__ import annotations

import argparse
import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

from tqdm import tqdm

from data.bulk import revision_hash, stored_observation_hash, survey_hash
from data.store import ObservationStore, open_store
from domain.i18n import Message
from domain.records import ObservationQuery
from field_api.cli.common import Command, _, grouped_for_reports, say
from field_api.settings import Settings

T = TypeVar("T")


def add_arguments(subparsers: Any) -> None:
    """Register `transfer` on the `herdwatch` parser."""
    parser = subparsers.add_parser(
        "transfer",
        help=_("copy every record, revision and survey from one store to another"),
        description=_(
            "Copies every survey, user and token hash, observation and revision, keeping ids, "
            "revisions, timestamps and flags. Safe to re-run: what is already there is kept, "
            "and a record edited at the source since the last run is brought over. Ends by "
            "comparing counts and a SHA-256 of every record on both sides."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--from",
        dest="source",
        required=True,
        metavar="URL",
        help=_("store to copy from: sqlite:///file.db or postgresql://…"),
    )
    parser.add_argument(
        "--to",
        dest="target",
        required=True,
        metavar="URL",
        help=_("store to copy into (migrated first)"),
    )
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--no-progress", action="store_true", help=_("no progress bars"))


@dataclass
class Check:
    """What one kind of record looked like on both sides after the copy."""

    kind: str
    source: int = 0
    target: int = 0
    differing: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.source == self.target and not self.differing


def transfer(
    source: ObservationStore,
    target: ObservationStore,
    *,
    batch_size: int = 5000,
    progress: bool = True,
) -> list[Check]:
    """Copy everything from `source` into `target`, then compare; returns one Check per kind."""
    target.migrate()
    total = source.count_observations(ObservationQuery(include_retracted=True))
    for surveys in source.iter_all_surveys(batch_size=batch_size):
        target.import_surveys(surveys)
    target.import_accounts(source.export_accounts())
    bar = tqdm(total=total, unit="obs", desc=_("observations"), disable=not progress)
    with bar:
        for items in source.export_observations(batch_size=batch_size):
            target.import_observations(items)
            bar.update(len(items))
    with tqdm(unit="rev", desc=_("revisions"), disable=not progress) as bar:
        for revisions in source.iter_all_revisions(batch_size=batch_size):
            target.import_revisions(revisions)
            bar.update(len(revisions))
    target.import_herd_decisions(source.list_herd_decisions())
    for photos in source.iter_all_photos():
        for photo in photos:
            target.add_photo(photo)  # same bytes already there: "unchanged"
    for instances in source.iter_all_instances(batch_size=batch_size):
        target.import_instances(instances)
    return verify(source, target, batch_size=batch_size, progress=progress)


def verify(
    source: ObservationStore,
    target: ObservationStore,
    *,
    batch_size: int = 5000,
    progress: bool = True,
) -> list[Check]:
    """Counts and a content hash of every record, compared side by side."""

    def observations(store: ObservationStore) -> Iterator[tuple[Any, str]]:
        for items in store.export_observations(batch_size=batch_size):
            yield from ((str(i.observation.id), stored_observation_hash(i)) for i in items)

    def revisions(store: ObservationStore) -> Iterator[tuple[Any, str]]:
        for batch in store.iter_all_revisions(batch_size=batch_size):
            yield from ((r.seq, revision_hash(r)) for r in batch)

    def surveys(store: ObservationStore) -> Iterator[tuple[Any, str]]:
        for batch in store.iter_all_surveys(batch_size=batch_size):
            yield from ((s.id, survey_hash(s)) for s in batch)

    def accounts(store: ObservationStore) -> Iterator[tuple[Any, str]]:
        exported = store.export_accounts()
        users = [(f"user {u.name}", _utc([u.role, u.active, u.created_at])) for u in exported.users]
        tokens = [
            (f"token {t.token_hash}", _utc([t.user_name, t.created_at, t.revoked_at]))
            for t in exported.tokens
        ]
        yield from sorted(users + tokens)

    def decisions(store: ObservationStore) -> Iterator[tuple[Any, str]]:
        for d in store.list_herd_decisions():
            yield (
                d.id,
                _utc([d.action, d.observation_ids, d.other_ids, d.actor, d.decided_at, d.note]),
            )

    kinds: list[tuple[str, Callable[[ObservationStore], Iterator[tuple[Any, str]]]]] = [
        ("observations", observations),
        ("revisions", revisions),
        ("surveys", surveys),
        ("users and tokens", accounts),
        ("herd decisions", decisions),
        ("photos", _photo_hashes),
        ("OpenRosa instances", partial(_instances, batch_size=batch_size)),
    ]
    checks = []
    for kind, keyed in kinds:
        pairs = tqdm(
            _merge(keyed(source), keyed(target)),
            unit="rec",
            desc=say(Message("verify {kind}", kind=str(kind))),
            disable=not progress,
        )
        checks.append(_compare(kind, pairs))
    return checks


def _photo_hashes(store: ObservationStore) -> Iterator[tuple[Any, str]]:
    """Each photo by (observation id, name) with the SHA-256 of the bytes it holds."""
    for batch in store.iter_all_photos():
        yield from (
            ((str(p.info.observation_id), p.info.name), hashlib.sha256(p.data).hexdigest())
            for p in batch
        )


def _instances(store: ObservationStore, *, batch_size: int) -> Iterator[tuple[Any, str]]:
    """Which observation and revision each received OpenRosa instance produced."""
    for batch in store.iter_all_instances(batch_size=batch_size):
        for i in batch:
            kept = [i.observation_id, i.revision, i.xml_sha256, i.observer, i.deprecated_id]
            yield str(i.instance_id), _utc([*kept, i.received_at])


def _merge(
    left: Iterator[tuple[Any, str]], right: Iterator[tuple[Any, str]]
) -> Iterator[tuple[Any, str | None, str | None]]:
    """Walk two key-ordered streams together: (key, left hash or None, right hash or None)."""
    a, b = next(left, None), next(right, None)
    while a is not None or b is not None:
        if b is None or (a is not None and a[0] < b[0]):
            assert a is not None
            yield a[0], a[1], None
            a = next(left, None)
        elif a is None or b[0] < a[0]:
            yield b[0], None, b[1]
            b = next(right, None)
        else:
            yield a[0], a[1], b[1]
            a, b = next(left, None), next(right, None)


def _utc(values: list[Any]) -> str:
    """A stable spelling of account fields (instants in UTC, whatever zone they came in)."""
    return repr([v.astimezone(UTC).isoformat() if isinstance(v, datetime) else v for v in values])


def _compare(kind: str, pairs: Iterable[tuple[Any, str | None, str | None]]) -> Check:
    check = Check(kind)
    for key, mine, theirs in pairs:
        check.source += mine is not None
        check.target += theirs is not None
        if mine != theirs:
            check.differing.append(key)
    return check


def _run(args: argparse.Namespace, settings: Settings) -> int:
    source, target = open_store(args.source), open_store(args.target)
    try:
        source.migrate()
        checks = transfer(source, target, batch_size=args.batch_size, progress=not args.no_progress)
        _say_checks(checks)
        # The copy's first report starts from its saved herds, as after an import; not
        # into a directory named in the settings for another store (the server's own).
        own = settings.herd_files == "auto" or args.target == settings.database_url
        verified = all(c.ok for c in checks)
        grouped = grouped_for_reports(target, settings) if verified and own else None
    finally:
        source.close()
        target.close()
    if grouped is not None:
        print(say(grouped))
    return 0 if verified else 1


def _say_checks(checks: list[Check]) -> None:
    for check in checks:
        state = _("identical") if check.ok else _("DIFFERENT")
        print(
            say(
                Message(
                    "{kind}: {source} at the source, {target} in the copy, {state}",
                    kind=str(check.kind),
                    source=check.source,
                    target=check.target,
                    state=str(state),
                )
            )
        )
        for key in check.differing[:10]:
            print(say(Message("  differs or missing: {key}", key=str(key))))
    verdict = (
        _("transfer verified: every record is the same on both sides")
        if all(c.ok for c in checks)
        else _("transfer NOT verified: the copy differs (records edited in the target are kept)")
    )
    print(verdict)


COMMANDS: dict[str, Command] = {"transfer": _run}
