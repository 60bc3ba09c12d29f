"""`make install`'s catalogue compiler: every translated entry of each .po reaches its .mo."""

from __future__ import annotations

import gettext
import importlib.util
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
CATALOGUES = sorted((ROOT / "domain" / "locales").glob("*/LC_MESSAGES/herdwatch.po"))


def _compiler() -> object:
    spec = importlib.util.spec_from_file_location(
        "compile_messages", ROOT / "scripts/compile_messages.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: p.parts[-3])
def test_every_translation_reaches_the_mo(po: Path, tmp_path: Path) -> None:
    mo = tmp_path / "herdwatch.mo"
    translated = _compiler().compile_catalogue(po, mo)  # type: ignore[attr-defined]
    with po.open("rb") as source:
        entries = [m for m in read_po(source) if m.id and m.string and not m.fuzzy]
    assert translated >= len(entries) > 100
    with mo.open("rb") as file:
        compiled = gettext.GNUTranslations(file)
    for entry in entries:  # "95% intervals" too, which pybabel compile refused
        if isinstance(entry.id, str) and entry.context:
            assert compiled.pgettext(entry.context, entry.id) == entry.string
        elif isinstance(entry.id, str):
            assert compiled.gettext(entry.id) == entry.string
