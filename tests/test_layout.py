"""The formatter owns the layout: at most ten `# fmt: skip` in the production packages."""

from __future__ import annotations

from pathlib import Path

PACKAGES = ("domain", "geo", "data", "maps", "reports", "field_api")
ROOT = Path(__file__).resolve().parents[1]


def test_at_most_ten_fmt_skips_in_production_code() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{n}"
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if line.rstrip().endswith("# fmt: skip")
    ]
    assert len(found) <= 10, found


def test_no_router_or_command_hides_behind_a_missing_module() -> None:
    hidden = [
        str(path.relative_to(ROOT))
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "except ModuleNotFoundError" in path.read_text(encoding="utf-8")
    ]
    assert hidden == []
