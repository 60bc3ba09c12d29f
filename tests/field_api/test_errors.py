"""One table maps every domain error to its HTTP status; the CLI prints them as one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.errors import BadDatabaseUrl, Conflict, DomainError, InvalidInput, StoreBusy
from domain.periods import PeriodError
from field_api.cli import main
from field_api.errors import status_of
from maps.assets import AssetsMissing


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (InvalidInput("bad", field="bbox"), 422),
        (PeriodError("period", "not a year"), 422),  # a subclass takes its ancestor's status
        (Conflict("differs"), 409),
        (StoreBusy("locked"), 503),
        (AssetsMissing("not installed"), 503),
        (BadDatabaseUrl("no such store"), 500),  # a server fault, not the client's
        (DomainError("unlisted"), 500),
    ],
)
def test_status_comes_from_the_one_table(error: DomainError, status: int) -> None:
    assert status_of(error) == status


def test_period_error_names_its_field_and_code() -> None:
    error = PeriodError("every", "every must be month, season or year")
    assert (error.field, error.code, error.message) == (
        "every",
        "invalid_every",
        "every must be month, season or year",
    )


def test_cli_prints_a_domain_error_as_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--database-url", "mysql://nowhere/db", "users", "list"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("herdwatch: ") and err.count("\n") == 1 and "Traceback" not in err
