"""`herdwatch import-field`: a Field export stored once, a second run all unchanged."""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path

import pytest

from data.sqlite import SQLiteStore
from field_api.cli import main
from tests.factories import make_feature
from tests.photo_files import image_bytes


def _export(
    tmp_path: Path, records: list[dict[str, object]], photos: list[dict[str, object]]
) -> Path:
    path = tmp_path / "export.json"
    body = {"format": "herdwatch-field", "version": 1, "observer": "olga",
            "records": records, "photos": photos}  # fmt: skip
    path.write_text(json.dumps(body))
    return path


@pytest.fixture
def db(tmp_path: Path) -> str:
    store = SQLiteStore(str(tmp_path / "h.db"))
    store.migrate()
    store.add_user("olga", "observer")
    store.close()
    return f"sqlite:///{tmp_path / 'h.db'}"


def test_records_edits_and_photos_are_stored_once(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second, bad = make_feature(1), make_feature(2), make_feature(3, count=-5)
    photo = image_bytes("PNG", seed=4)
    records = [
        {"feature": first, "crs": None, "edit": None},
        {"feature": second, "crs": None, "edit": {"base": 1, "properties": {"notes": "fixed"}}},
        {"feature": bad, "crs": None, "edit": None},
    ]
    photos = [{"observation_id": first["id"], "name": "a.png", "media_type": "image/png",
               "data": base64.b64encode(photo).decode()}]  # fmt: skip
    path = _export(tmp_path, records, photos)
    assert main(["--database-url", db, "import-field", str(path)]) == 1  # one refused
    out = capsys.readouterr().out
    assert "records: 1 created, 0 unchanged, 1 edited, 1 refused" in out
    assert "photos: 1 created" in out and "count" in out
    assert main(["--database-url", db, "import-field", str(path)]) == 1
    assert (
        "records: 0 created, 2 unchanged, 0 edited, 1 refused; photos: 0 created, 1 unchanged"
        in (capsys.readouterr().out)
    )
    store = SQLiteStore(db.removeprefix("sqlite:///"))
    try:
        edited = store.get_observation(uuid.UUID(str(second["id"])))
        assert (edited.notes, edited.revision) == ("fixed", 2)
        assert store.photo_bytes(uuid.UUID(str(first["id"])), "a.png") == photo
    finally:
        store.close()


def test_a_file_that_is_no_export_or_an_unknown_observer_is_one_line(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junk = tmp_path / "junk.json"
    junk.write_text("[1, 2]")
    assert main(["--database-url", db, "import-field", str(junk)]) == 1
    assert "is not a Herdwatch Field export" in capsys.readouterr().err
    path = _export(tmp_path, [], [])
    assert main(["--database-url", db, "import-field", str(path), "--observer", "nobody"]) == 1
    assert "no observer 'nobody'" in capsys.readouterr().err
