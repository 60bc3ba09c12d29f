"""The `herdwatch` command line, run as an administrator would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from data.sqlite import SQLiteStore
from domain.records import ObservationQuery
from field_api.cli import main


def run(db: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = main(["--database-url", f"sqlite:///{db}", *args])
    return code, capsys.readouterr().out.strip().splitlines()


def test_users_add_prints_the_token_alone_on_the_last_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "h.db"
    run(db, "migrate", capsys=capsys)  # only migrate makes a new database
    code, lines = run(db, "users", "add", "olga", "--role", "observer", capsys=capsys)
    assert code == 0
    token = lines[-1]
    assert " " not in token and len(token) >= 40
    store = SQLiteStore(str(db))
    user = store.user_for_token(token)
    assert user is not None and (user.name, user.role) == ("olga", "observer")
    store.close()
    _, listing = run(db, "users", "list", capsys=capsys)
    assert listing == ["olga\tobserver\tactive"]
    assert run(db, "users", "revoke", "olga", capsys=capsys)[0] == 0
    _, listing = run(db, "users", "list", capsys=capsys)
    assert listing == ["olga\tobserver\trevoked"]
    store = SQLiteStore(str(db))
    assert store.user_for_token(token) is None
    store.close()


def test_duplicate_user_and_unknown_user_are_clear_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "h.db"
    run(db, "migrate", capsys=capsys)
    run(db, "users", "add", "olga", "--role", "admin", capsys=capsys)
    assert (
        main(["--database-url", f"sqlite:///{db}", "users", "add", "olga", "--role", "admin"]) == 1
    )
    assert "already exists" in capsys.readouterr().err
    assert main(["--database-url", f"sqlite:///{db}", "users", "revoke", "nobody"]) == 1
    assert "no user" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["users", "add", "x", "--role", "superuser"])


def test_migrate_then_demo_loads_synthetic_data_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "h.db"
    code, lines = run(db, "migrate", capsys=capsys)
    assert code == 0 and lines[0].startswith("applied: 0001_core")
    assert run(db, "migrate", capsys=capsys)[1] == ["schema is up to date"]
    code, lines = run(db, "demo", "--if-empty", "--per-survey", "5", capsys=capsys)
    assert code == 0 and "SYNTHETIC" in lines[0]
    assert any(line.strip().startswith("researcher token:") for line in lines)
    store = SQLiteStore(str(db))
    total = store.count_observations(ObservationQuery(include_retracted=True))
    populations = {c.population for c in store.herd_counts(ObservationQuery(), every="year")}
    sample = store.query_observations(ObservationQuery(limit=50)).items
    store.close()
    assert total > 500
    assert populations == {
        "lena-olenek",
        "yana-indigirka",
        "sundrun",
        "new-siberian-islands",
        "forest",
        "taimyr",
    }
    assert all("synthetic" in o.flags for o in sample)
    _, again = run(db, "demo", "--if-empty", capsys=capsys)
    assert "not loaded" in again[0]
    store = SQLiteStore(str(db))
    assert store.count_observations(ObservationQuery(include_retracted=True)) == total
    store.close()


def test_console_script_is_installed() -> None:
    herdwatch = Path(sys.executable).parent / "herdwatch"
    result = subprocess.run([str(herdwatch), "--help"], capture_output=True, text=True, check=True)
    for command in ("serve", "migrate", "users", "demo"):
        assert command in result.stdout


def test_a_database_url_it_cannot_open_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--database-url", str(tmp_path / "h.db"), "migrate"])  # sqlite:/// forgotten
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert err == [
        f"herdwatch: unsupported database URL '{tmp_path / 'h.db'}': "
        "use sqlite:///file.db or postgresql://…"
    ]
