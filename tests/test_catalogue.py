"""Every message the code and templates use is translated in every language's catalogue.

The messages are extracted as `make messages` extracts them: Babel's extractor, the mapping
in babel.cfg, the packages the Makefile names. Each language directory under
domain/locales is checked, so a new language's .po is held to the same rules at once.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from domain.i18n import LOCALES_DIR

ROOT = Path(__file__).resolve().parents[1]
_PERCENT = re.compile(r"%\((\w+)\)[sdifr]|%[sdifr]")

Key = tuple[str | None, str]  # (context, msgid)


class Used(NamedTuple):
    ids: tuple[str, ...]  # the msgid, and its plural when it has one
    where: str


def _packages() -> list[str]:
    """The MESSAGE_PACKAGES line of the Makefile: the directories `make messages` reads."""
    line = next(
        line
        for line in (ROOT / "Makefile").read_text().splitlines()
        if line.startswith("MESSAGE_PACKAGES :=")
    )
    return line.partition(":=")[2].split()


def extracted() -> dict[Key, Used]:
    """(context, msgid) → the msgid with its plural, and one place it is used."""
    with (ROOT / "babel.cfg").open() as fp:
        method_map, options_map = parse_mapping_cfg(fp, "babel.cfg")
    found: dict[Key, Used] = {}
    for package in _packages():
        for filename, lineno, message, _, context in extract_from_dir(
            str(ROOT / package), method_map, options_map, keywords=DEFAULT_KEYWORDS
        ):
            ids = (message,) if isinstance(message, str) else tuple(message)
            found.setdefault((context, ids[0]), Used(ids, f"{package}/{filename}:{lineno}"))
    return found


def catalogues() -> list[Path]:
    return sorted(LOCALES_DIR.glob("*/LC_MESSAGES/herdwatch.po"))


def _read(po: Path) -> Catalog:
    with po.open("rb") as fp:
        return read_po(fp, locale=po.parent.parent.name)


def placeholders(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """The {brace} fields and the %(python-format)s names of a message."""
    try:
        braces = frozenset(name for _, name, _, _ in string.Formatter().parse(text) if name)
    except ValueError:  # a lone brace: the message is not brace-formatted
        braces = frozenset()
    return braces, frozenset(_PERCENT.findall(text))


def _forms(entry: Message) -> Iterator[str]:
    yield from (entry.string,) if isinstance(entry.string, str) else entry.string


def problems(catalog: Catalog, messages: dict[Key, Used]) -> list[str]:
    found = []
    for (context, msgid), used in sorted(messages.items(), key=lambda kv: str(kv[0])):
        entry = catalog.get(msgid, context=context)
        if entry is None:
            found.append(f"missing: {msgid!r} ({used.where})")
            continue
        expected = placeholders(used.ids[-1])  # every plural form shows the count
        for form in _forms(entry):
            if not form:
                found.append(f"untranslated: {msgid!r} ({used.where})")
            elif entry.fuzzy:
                found.append(f"fuzzy: {msgid!r} ({used.where})")
            elif placeholders(form) != expected:
                found.append(f"placeholders differ: {msgid!r} → {form!r}")
    for entry in catalog:
        key = (entry.context, entry.id if isinstance(entry.id, str) else entry.id[0])
        if entry.id and key not in messages:
            found.append(f"no longer used (run `make messages`): {entry.id!r}")
    found += [f"obsolete: {msgid!r}" for msgid in catalog.obsolete]
    return found


def test_the_extraction_finds_the_code_and_the_templates():
    messages = extracted()
    assert (None, "rut") in messages  # a N_() marker in domain/i18n.py
    assert ("date pattern", "yyyy-MM-dd") in messages  # a pgettext with its context
    assert ("field app signin.token", "Token") in messages  # the field app's messages-en.json
    assert (None, "Animals in the herd") in messages  # the ODK form's labels
    assert catalogues(), "no language besides English"


@pytest.mark.parametrize("po", catalogues(), ids=lambda po: po.parent.parent.name)
def test_every_message_is_translated(po: Path):
    assert problems(_read(po), extracted()) == []


def test_the_check_catches_what_it_is_for():
    messages = {
        (None, "{n} herds seen"): Used(("{n} herds seen",), "x.py:1"),
        (None, "calving"): Used(("calving",), "x.py:2"),
        (None, "rut"): Used(("rut",), "x.py:3"),
        (None, "%(n)s cows"): Used(("%(n)s cows",), "x.py:4"),
    }
    catalog = Catalog(locale="ru")
    catalog.add("{n} herds seen", "{count} стад")  # a placeholder renamed
    catalog.add("calving", "")  # not translated
    catalog.add("rut", "гон", flags=["fuzzy"])
    catalog.add("%(n)s cows", "важенок: %(n)s")  # the same placeholder, moved: fine
    catalog.add("winter", "зима")  # in the catalogue, no longer in the code
    catalog.obsolete["summer"] = Message("summer", "лето")  # a #~ entry left behind
    assert problems(catalog, messages) == [
        "untranslated: 'calving' (x.py:2)",
        "fuzzy: 'rut' (x.py:3)",
        "placeholders differ: '{n} herds seen' → '{count} стад'",
        "no longer used (run `make messages`): 'winter'",
        "obsolete: 'summer'",
    ]
