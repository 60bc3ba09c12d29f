"""`herdwatch map` writes the same map to one file that opens with no server."""

from __future__ import annotations

import re
from pathlib import Path

from data.sqlite import SQLiteStore
from field_api.cli import main
from tests.factories import make_batch


def test_map_command_writes_a_self_contained_file(tmp_path: Path, capsys):
    db = tmp_path / "herdwatch.db"
    store = SQLiteStore(str(db))
    store.migrate()
    store.add_observations(make_batch(30), actor="olga")
    store.close()
    out = tmp_path / "map.html"
    code = main(
        [
            "--database-url",
            f"sqlite:///{db}",
            "map",
            "--every",
            "year",
            "--out",
            str(out),
            "--population",
            "lena-olenek",
            "--view",
            "sightings",
        ]
    )
    assert code == 0
    html = out.read_text(encoding="utf-8")
    assert 'id="hw-map-data"' in html and "hw-period-slider" in html
    assert not re.findall(r"<(?:script|link)[^>]+(?:src|href)=", html)
    total = sum(o.count for o in make_batch(30))
    assert f'id="hw-total-animals">{total:,}<' in html
    assert "wrote" in capsys.readouterr().out


def test_map_command_rejects_a_bad_filter(tmp_path: Path, capsys):
    code = main(
        [
            "--database-url",
            f"sqlite:///{tmp_path / 'x.db'}",
            "map",
            "--out",
            str(tmp_path / "m.html"),
            "--population",
            "caribou",
        ]
    )
    assert code == 2 and "caribou" in capsys.readouterr().out
    assert not (tmp_path / "m.html").exists()


def test_map_command_rejects_a_bad_cell_size(tmp_path: Path, capsys):
    code = main(
        [
            "--database-url",
            f"sqlite:///{tmp_path / 'x.db'}",
            "map",
            "--out",
            str(tmp_path / "m.html"),
            "--cell-km",
            "-5",
        ]
    )
    assert code == 2 and "cell-km" in capsys.readouterr().out
