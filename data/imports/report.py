"""What an import did, row by row: created, unchanged, conflict, gone, invalid, skipped."""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from typing import IO, Any
from uuid import UUID

from domain.i18n import N_, Joined, Message, PluralMessage

STATUSES = ("created", "unchanged", "conflict", "gone", "invalid", "skipped")
# How many rows had each outcome, in words (the status itself stays a code in the report).
STATUS_COUNTS = {
    "created": N_("{n} created"),
    "unchanged": N_("{n} unchanged"),
    "conflict": N_("{n} conflict"),
    "gone": N_("{n} gone"),
    "invalid": N_("{n} invalid"),
    "skipped": N_("{n} skipped"),
}
REPORT_COLUMNS = ("row", "id", "status", "fields", "reason")


@dataclass(frozen=True, slots=True)
class RowResult:
    """One row's outcome; `row` counts data rows from 1 (a CSV's line number minus one)."""

    row: int
    status: str
    id: UUID | None = None
    fields: tuple[str, ...] = ()  # the fields at fault, or those a conflict differs in
    reasons: tuple[str | Message, ...] = ()  # rendered in the reader's language

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"row": self.row, "status": self.status}
        if self.id is not None:
            body["id"] = str(self.id)
        if self.fields:
            body["fields"] = list(self.fields)
        if self.reasons:
            body["reasons"] = list(self.reasons)
        return body

    def csv_row(self) -> list[object]:
        return [
            self.row,
            self.id or "",
            self.status,
            ";".join(self.fields),
            "; ".join(str(r) for r in self.reasons),
        ]


@dataclass
class ImportSummary:
    """Counts per status, and whether anything was stored."""

    source: str
    format: str
    preset: str | None
    sha256: str
    dry_run: bool
    counts: Counter[str] = field(default_factory=Counter)
    committed: bool = False

    @property
    def rows(self) -> int:
        return sum(self.counts.values())

    @property
    def stored(self) -> int:
        """Observations this import added to the store (0 for a dry run or a refusal)."""
        return self.counts["created"] if self.committed else 0

    def verdict(self) -> Message:
        """One line for a person: what happened, and what to do next."""
        counts = [Message(STATUS_COUNTS[s], n=self.counts[s]) for s in STATUSES if self.counts[s]]
        head = Message(
            "{rows} ({counts})",
            rows=_rows(self.rows),
            counts=Joined(counts, ", ") if counts else Message("none"),
        )
        note = self._conflict_note()
        if self.dry_run:
            return Message("dry run: {head}; nothing was written{note}", head=head, note=note)
        if self.committed:
            return PluralMessage(
                "imported: {head}; {n} observation stored{note}",
                "imported: {head}; {n} observations stored{note}",
                n=self.stored,
                head=head,
                note=note,
            )
        return PluralMessage(
            "NOT imported: {head}; nothing was stored because {n} row is invalid: fix it, "
            "or import with --skip-invalid to store the valid rows",
            "NOT imported: {head}; nothing was stored because {n} rows are invalid: fix them, "
            "or import with --skip-invalid to store the valid rows",
            n=self.counts["invalid"],
            head=head,
        )

    def _conflict_note(self) -> str | Message:
        """A conflicting row is not stored: say why it may happen and what to do."""
        n = self.counts["conflict"]
        if not n:
            return ""
        return PluralMessage(
            ". {n} row differs from the record already stored under its id and was not "
            "stored: a corrected row is changed by editing the stored record; a different "
            "file that has an earlier file's name needs a name of its own",
            ". {n} rows differ from the records already stored under their ids and were not "
            "stored: a corrected row is changed by editing the stored record; a different "
            "file that has an earlier file's name needs a name of its own",
            n=n,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "format": self.format,
            "preset": self.preset,
            "sha256": self.sha256,
            "dry_run": self.dry_run,
            "committed": self.committed,
            "rows": self.rows,
            "counts": {s: self.counts[s] for s in STATUSES},
            "stored": self.stored,
            "message": self.verdict(),
        }


def _rows(n: int) -> Message:
    return PluralMessage("{n} row", "{n} rows", n=n)


class CsvReport:
    """Writes row results to a CSV file as they come (bounded memory for any file size)."""

    def __init__(self, out: IO[str]) -> None:
        self._writer = csv.writer(out, lineterminator="\n")
        self._writer.writerow(REPORT_COLUMNS)

    def __call__(self, result: RowResult) -> None:
        self._writer.writerow(result.csv_row())
