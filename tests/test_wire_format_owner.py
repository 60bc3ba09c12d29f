"""The wire format has one owner: an optional observation field is named in few files."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("domain", "geo", "data", "maps", "reports", "field_api")


def files_naming(word: str) -> list[str]:
    pattern = re.compile(rf"\b{word}\b")
    return sorted(
        str(path.relative_to(ROOT))
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if pattern.search(path.read_text())
    )


def test_an_optional_field_is_named_in_at_most_four_production_files() -> None:
    # domain/wire.py (the field table), domain/records.py (the record), data/demo.py (made-up
    # values); the SQL migrations that add the columns are not Python.
    for word in ("accuracy_m", "behaviour"):
        named = files_naming(word)
        assert len(named) <= 4, f"{word} is named in {named}"
        assert "domain/wire.py" in named
