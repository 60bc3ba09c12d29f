"""The `herdwatch` command line, run as an administrator would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from data.sqlite import SQLiteStore
from domain.records import ObservationQuery
from domain.seasons import SeasonCalendar
from field_api.cli import main
from reports.herd_cache import HerdCache
from reports.herds import build_herds, load_inputs


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


def test_migrate_groups_the_herds_for_reports_where_none_are_saved(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """After an upgrade or a first load, `herdwatch migrate` (and `serve`, which runs the
    same step once) saves the grouping every worker's first report starts from; with a
    usable one saved it only checks it."""
    db, files = tmp_path / "h.db", tmp_path / "h.db.herds"
    run(db, "migrate", capsys=capsys)
    assert not files.exists()  # no sighting yet: nothing to group
    run(db, "demo", "--if-empty", "--per-survey", "5", capsys=capsys)
    code, lines = run(db, "migrate", capsys=capsys)
    assert code == 0 and lines[0] == "schema is up to date"
    assert lines[1] == f"grouping herds for reports (none saved in {files})…"
    assert lines[2].startswith("grouped ") and lines[2].endswith(f"(saved in {files})")
    saved = json.loads((files / "current.json").read_text())["token"]
    assert run(db, "migrate", capsys=capsys)[1] == ["schema is up to date"]
    assert json.loads((files / "current.json").read_text())["token"] == saved
    store = SQLiteStore(str(db))
    try:
        cache = HerdCache(keep=False, files=files)
        _, tables = cache.herds(store, SeasonCalendar())
        fresh = build_herds(load_inputs(store))
    finally:
        store.close()
    assert (cache.loaded, cache.builds) == (1, 0)
    assert tables.grouping.labels.tolist() == fresh.grouping.labels.tolist()
    # Other seasons make the saved grouping unusable: grouped again.
    monkeypatch.setenv("HERDWATCH_SEASONS", "calving=05-10,post-calving=06-20,rut=09-15")
    lines = run(db, "migrate", capsys=capsys)[1]
    assert len(lines) == 3 and lines[2].startswith("grouped ")
    assert json.loads((files / "current.json").read_text())["token"] != saved
    monkeypatch.setenv("HERDWATCH_SEASONS", "calving=05-01,rut=09-15")
    monkeypatch.setenv("HERDWATCH_HERD_FILES", "off")
    assert run(db, "migrate", capsys=capsys)[1] == ["schema is up to date"]


def test_ctrl_c_while_migrate_groups_the_herds_stops_it_with_130(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """As a command killed by SIGINT: `herdwatch migrate && herdwatch serve` stops there."""
    import field_api.cli.common

    db = tmp_path / "h.db"
    run(db, "migrate", capsys=capsys)
    run(db, "demo", "--if-empty", "--per-survey", "3", capsys=capsys)

    def interrupted(*args: object, **options: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(field_api.cli.common, "group_herds_for_reports", interrupted)
    assert main(["--database-url", f"sqlite:///{db}", "migrate"]) == 130
    assert "herds not grouped for reports: interrupted" in capsys.readouterr().err


def test_serve_saves_the_herds_before_its_workers_start(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a process of its own (capfd: its lines are the child's), before uvicorn starts."""
    import uvicorn

    db, files = tmp_path / "h.db", tmp_path / "h.db.herds"
    run(db, "migrate", capsys=capfd)
    run(db, "demo", "--if-empty", "--per-survey", "5", capsys=capfd)
    monkeypatch.setenv("HERDWATCH_DATABASE_URL", f"sqlite:///{db}")  # serve sets it: undone after
    seen: list[bool] = []
    monkeypatch.setattr(
        uvicorn, "run", lambda *a, **k: seen.append((files / "current.json").exists())
    )
    code, lines = run(db, "--lang", "ru", "serve", "--workers", "2", capsys=capfd)
    assert code == 0 and seen == [True]
    assert lines[-2] == f"группировка стад для отчётов (в {files} ничего не сохранено)…"
    assert lines[-1].startswith("стада для отчётов сгруппированы")
    assert lines[-1].endswith(f"(сохранено в {files})")
    # Saved: the next start only checks it.
    code, lines = run(db, "serve", capsys=capfd)
    assert code == 0 and seen == [True, True] and lines == []


def test_python_m_serve_groups_the_herds_once_then_serves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A real `serve` with no grouping saved: groups the herds once, in the process it
    spawns (which must not run the command again), then answers."""
    import socket
    import time
    import urllib.request

    db = tmp_path / "h.db"
    run(db, "migrate", capsys=capsys)
    run(db, "demo", "--if-empty", "--per-survey", "5", capsys=capsys)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "field_api.cli", "--database-url", f"sqlite:///{db}"]
    server = subprocess.Popen(
        [*command, "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline, answered = time.monotonic() + 60, False
        while time.monotonic() < deadline and server.poll() is None and not answered:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                    answered = True
            except OSError:
                time.sleep(0.3)
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert answered, output
    assert output.count("grouping herds for reports") == 1, output
    assert output.count("herds for reports in") == 1 and "usage:" not in output, output
    assert (tmp_path / "h.db.herds" / "current.json").exists()


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
