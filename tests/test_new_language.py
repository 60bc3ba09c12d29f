"""Issue 16's rule: adding a language is a new .po file and nothing else.

The catalogue is copied, a Sakha .po added beside Russian, and domain.i18n pointed at the
copy as the server would find it at start: the ODK form and the field app follow, unchanged.
"""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

from data.xlsform import FormSpec, builtin_xform, herd_sighting_workbook
from domain import i18n
from domain.records import POPULATIONS
from maps.style import POPULATION_LABELS
from tests.conftest import Clients

XF = "{http://www.w3.org/2002/xforms}"
SAKHA = [  # (context, English, Sakha): a couple of entries, the rest stays English
    (None, "Animals in the herd", "Үөргэ кыыл ахсаана"),
    ("field app signin.token", "Token", "Токен"),
    ("field app f.count", "Count", "Үөр ахсаана"),
]


@pytest.fixture
def with_sakha(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "locales"
    shutil.copytree(i18n.LOCALES_DIR, root)
    folder = root / "sah" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    catalog = Catalog(locale="sah", domain=i18n.DOMAIN)
    for context, msgid, msgstr in SAKHA:
        catalog.add(msgid, msgstr, context=context)
    with (folder / "herdwatch.po").open("wb") as fp:
        write_po(fp, catalog)
    monkeypatch.setattr(i18n, "LOCALES_DIR", root)
    monkeypatch.setattr(i18n, "LANGUAGES", i18n.discover_languages(root))
    return root


def _spec() -> FormSpec:
    return FormSpec(POPULATIONS, POPULATION_LABELS, 10.0)


def test_the_form_gets_a_column_for_the_new_language(with_sakha: Path) -> None:
    count = next(r for r in herd_sighting_workbook(_spec())["survey"] if r["name"] == "count")
    assert count["label::English (en)"] == "Animals in the herd"
    assert count["label::Russian (ru)"] == "Животных в стаде"
    assert count["label::Yakut (sah)"] == "Үөргэ кыыл ахсаана"
    # What the .po leaves untranslated shows in English, with Sakha's number format.
    assert count["constraint_message::Yakut (sah)"].startswith("From 0 to 1 000 000,")
    form = ET.fromstring(builtin_xform(_spec()).xml)
    languages = [t.get("lang") for t in form.iter(f"{XF}translation")]
    assert languages == ["English (en)", "Russian (ru)", "Yakut (sah)"]  # CLDR names Sakha so


def test_the_field_app_serves_and_offers_the_new_language(
    with_sakha: Path, sqlite_api: Clients
) -> None:
    english = sqlite_api.anonymous.get("/field/app/messages-en.json").json()
    sakha = sqlite_api.anonymous.get("/field/app/messages-sah.json").json()
    assert set(sakha) == set(english)
    assert sakha["signin.token"] == "Токен" and sakha["f.count"] == "Үөр ахсаана"
    assert sakha["signin.button"] == english["signin.button"]  # untranslated: English
    html = sqlite_api.anonymous.get("/field").text
    assert '<option value="sah">Саха тыла</option>' in html
    assert '"languages": ["en", "ru", "sah"]' in html
    shell = sqlite_api.anonymous.get("/field/sw.js").text
    assert "/field/app/messages-sah.json?v=" in shell
