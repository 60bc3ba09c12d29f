"""The command line on the first day: a mistyped path, an empty store, options anywhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from field_api.cli import main


@pytest.mark.parametrize(
    "argv",
    [
        ["users", "list"],
        ["users", "add", "bob", "--role", "observer"],
        ["map", "--out", "m.html"],
        ["report", "--due"],
        ["demo"],
    ],
)
def test_a_missing_sqlite_file_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    missing = tmp_path / "typo.db"
    assert main([*argv, "--database-url", f"sqlite:///{missing}"]) != 0
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and str(missing) in err and "herdwatch migrate" in err
    assert not missing.exists()  # nothing was created


def test_only_migrate_creates_it_and_every_command_works_on_an_empty_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    assert main(["migrate", "--database-url", url]) == 0  # the option after the command
    assert main(["--database-url", url, "users", "list"]) == 0  # and before it
    assert main(["users", "list", "--database-url", url]) == 0
    out = tmp_path / "reports"
    assert main(["report", "--due", "--out", str(out), "--database-url", url]) == 0
    assert "nothing written" in capsys.readouterr().out
    assert main(["map", "--out", str(tmp_path / "m.html"), "--database-url", url]) == 0


@pytest.mark.parametrize(
    "url", ["mysql://x/y", "postgresql://nobody@127.0.0.1:1/none", "sqlite://"]
)
def test_a_bad_database_url_is_one_line(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["users", "list", "--database-url", url]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("herdwatch: ") and "\n" not in err and "Traceback" not in err


def test_help_shows_the_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["report", "--help"])
    text = capsys.readouterr().out
    assert "(default: reports-out)" in text and "--database-url" in text
