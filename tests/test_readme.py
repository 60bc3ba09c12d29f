"""The README's examples, run as written against a live server, so none can drift.

The blocks of the sections below run in one shell, in order (a token made in one is used in
the next), with two substitutions: the server's address for http://127.0.0.1:8000, and the
worktree's .venv for .venv/ (the shell runs in a temporary folder, where the example's
files land). Every other shell or Python block must be listed in NOT_RUN with the reason,
so a new example cannot slip in untested.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from fastapi import FastAPI

from data.sqlite import SQLiteStore
from field_api.app import create_app
from field_api.settings import Settings
from tests.live_server import live_server
from tests.reports.sample import sightings

ROOT = Path(__file__).resolve().parents[1]
RUN = ("Uploading from a tablet", "Population reports", "Limits, sessions and faults")
# First line of each block not run here → why.
NOT_RUN = {
    "make run      # venv, install": "the build itself: CI runs make install, test and lint",
    "createdb herdwatch && psql": "administers a PostgreSQL at db.example.org",
    "pg_dump --format=custom": "backs up a PostgreSQL at db.example.org",
    "createdb herdwatch_restored": "restores into a PostgreSQL at db.example.org",
    "herdwatch transfer --from sqlite": "needs the production PostgreSQL it names",
    "# What Collect does, with curl": (
        "Collect's own requests, replayed as written by tests/field_api/test_openrosa.py"
    ),
    'curl -X PUT -H "Authorization: Bearer $TOKEN" -H "Content-Type: image/jpeg"': (
        "a photo upload needing a JPEG and a stored sighting: tests/field_api/test_photos_api.py"
    ),
}
# Sections whose blocks another test runs as written.
RUN_ELSEWHERE = {"Importing survey files": "tests/test_cli_import.py (the README's imports)"}
_BLOCK = re.compile(r"^```(sh|python)\n(.*?)^```", re.DOTALL | re.MULTILINE)


def readme_blocks() -> list[tuple[str, str, str]]:
    """(section, language, text) of every sh and python block."""
    blocks, section = [], ""
    text = (ROOT / "README.md").read_text()
    for part in re.split(r"^(## .*)$", text, flags=re.MULTILINE):
        if part.startswith("## "):
            section = part[3:].strip()
            continue
        blocks += [(section, lang, body) for lang, body in _BLOCK.findall(part)]
    return blocks


def test_every_block_is_run_or_has_a_reason() -> None:
    for section, lang, body in readme_blocks():
        if (section in RUN and lang == "sh") or section in RUN_ELSEWHERE:
            continue
        first = body.strip().splitlines()[0]
        known = [key for key in NOT_RUN if first.startswith(key)]
        runs_elsewhere = (
            section == "Running in production" and lang in ("sh", "python") and ("sqlite3" in body)
        )
        assert known or runs_elsewhere, f"README block not run by any test: {first!r}"


def _app(db: Path) -> FastAPI:
    store = SQLiteStore(str(db))
    store.migrate()
    store.add_observations(sightings(), actor="olga")  # 2023 and 2024 herds for the report
    return create_app(Settings(database_url=f"sqlite:///{db}", _env_file=None), store)  # type: ignore[call-arg]


def test_the_readme_examples_run_against_a_live_server(tmp_path: Path) -> None:
    if shutil.which("curl") is None:
        pytest.fail("curl is needed to run the README's examples")
    db = tmp_path / "herdwatch.db"
    work = tmp_path / "work"
    work.mkdir()
    with live_server(_app(db)) as base:
        script = "\n".join(
            body for section, lang, body in readme_blocks() if section in RUN and lang == "sh"
        )
        script = script.replace("http://127.0.0.1:8000", base)
        script = script.replace(".venv/", f"{ROOT}/.venv/")
        env = {**os.environ, "HERDWATCH_DATABASE_URL": f"sqlite:///{db}"}
        done = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", script],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-3000:]
    assert '"status":"created"' in out.replace(" ", "")  # the tablet's PUT
    assert (work / "2024.pdf").read_bytes().startswith(b"%PDF")
    assert (work / "reports-out" / "year" / "2024" / ".complete").exists()
    assert "401" in out and "properties.observed_at" in out and "HTTP/1.1 200" in out


def test_the_sqlite_backup_examples_make_a_consistent_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the examples name herdwatch.db in the current folder
    store = SQLiteStore(str(tmp_path / "herdwatch.db"))
    store.migrate()
    store.add_observations(sightings(), actor="olga")
    for section, lang, body in readme_blocks():
        if section != "Running in production" or "sqlite3" not in body:
            continue
        if lang == "python":
            exec(compile(body, "README.md", "exec"), {})  # noqa: S102  # our own README
            copy = tmp_path / "herdwatch-backup.db"
        else:
            if shutil.which("sqlite3") is None:
                continue  # the README offers the Python way for exactly this case
            subprocess.run(["bash", "-e", "-c", body], cwd=tmp_path, check=True)
            copy = next(tmp_path.glob("herdwatch-20*.db"))
        restored = SQLiteStore(str(copy))
        assert restored._read_one("SELECT count(*) FROM observations")[0] == len(sightings())
        restored.close()
        copy.unlink()
    store.close()
