"""Languages: negotiation, the locale's formats, discovery of a new language, the .po fallback."""

from __future__ import annotations

import os
import shutil
import threading
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import write_po
from jinja2 import DictLoader

from domain.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    LOCALES_DIR,
    Message,
    PluralMessage,
    discover_languages,
    i18n_environment,
    negotiate,
    render_in,
    rendered,
    translator,
)

NBSP = "\u00a0"  # the group separator CLDR gives Russian


@pytest.mark.parametrize(
    ("query", "cookie", "header", "chosen"),
    [
        ("ru", "en", "en", "ru"),  # ?lang= first
        (None, "ru", "en-US,en;q=0.9", "ru"),  # then the viewer's cookie
        (None, None, "ru-RU,ru;q=0.9,en;q=0.8", "ru"),  # then Accept-Language
        ("xx", None, "ru", "ru"),  # an unknown ?lang= falls through
        ("xx", "klingon", None, "en"),  # and an unknown cookie too
        (None, None, "de-DE,de;q=0.9,ru;q=0.7,en;q=0.5", "ru"),  # the first one we have
        (None, None, "en;q=0.4, ru;q=0.8", "ru"),  # by q-value, not by order
        (None, None, "ru;q=0, en", "en"),  # q=0 means "not this one"
        (None, None, "ru;q=abc, en;q=0.1", "en"),  # a malformed q is ignored
        (None, None, "fr, *;q=0.5", "en"),  # "*": anything, so the default
        (None, None, "", "en"),
        (None, None, None, "en"),
        ("RU", None, None, "ru"),  # tags are case-insensitive
    ],
)
def test_negotiation_order_and_q_values(query, cookie, header, chosen):
    assert negotiate(query, cookie, header) == chosen


def test_english_is_the_source_and_russian_is_discovered():
    assert DEFAULT_LANGUAGE == "en"
    assert LANGUAGES[0] == "en" and "ru" in LANGUAGES
    assert LANGUAGES == discover_languages(LOCALES_DIR)


def test_russian_numbers_dates_and_months():
    ru = translator("ru")
    assert ru.format_number(1234) == f"1{NBSP}234"
    assert ru.format_number(1234567) == f"1{NBSP}234{NBSP}567"
    assert ru.format_decimal(1234.5, 2) == f"1{NBSP}234,50"
    assert ru.format_decimal(7.25, 0) == "7"
    assert ru.format_percent(0.125) == f"12{NBSP}%"
    assert ru.format_date(date(2024, 3, 12)) == "12.03.2024"
    yakutsk = timezone(timedelta(hours=9))
    assert ru.format_datetime(datetime(2024, 3, 12, 7, 5, tzinfo=yakutsk)) == "12.03.2024 07:05"
    assert [ru.month_name(m) for m in (1, 3, 5, 12)] == ["январь", "март", "май", "декабрь"]
    assert ru.season_name("rut") == "гон" and ru.season_name("calving") == "отёл"
    assert ru.season_name("spring-migration") == "spring-migration"  # an administrator's own
    assert ru.population_name("lena-olenek") == "Лено-Оленёкская"
    assert ru.name == "русский"


def test_english_formats_are_what_a_researcher_expects():
    en = translator("en")
    assert en.format_number(1234) == "1,234"
    assert en.format_decimal(0.5, 2) == "0.50"
    assert en.format_percent(0.125, 1) == "12.5%"
    assert en.format_date(date(2024, 3, 12)) == "2024-03-12"  # ISO 8601, unambiguous
    assert en.format_datetime(datetime(2024, 3, 12, 7, 5, tzinfo=UTC)) == "2024-03-12 07:05"
    assert en.month_name(3) == "March"
    assert en.season_name("post-calving") == "post-calving"
    assert en.gettext("rut") == "rut"


def test_russian_plurals_take_three_forms(tmp_path: Path):
    folder = tmp_path / "ru" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    catalog = Catalog(locale="ru", domain="herdwatch")  # Babel writes ru's Plural-Forms
    catalog.add(("{n} herd", "{n} herds"), ("{n} стадо", "{n} стада", "{n} стад"))
    with (folder / "herdwatch.po").open("wb") as fp:
        write_po(fp, catalog)
    ru = translator("ru", tmp_path)
    forms = [ru.ngettext("{n} herd", "{n} herds", n).format(n=n) for n in (1, 3, 5, 11, 21, 22)]
    assert forms == ["1 стадо", "3 стада", "5 стад", "11 стад", "21 стадо", "22 стада"]
    assert translator("en").ngettext("{n} herd", "{n} herds", 1) == "{n} herd"


def test_a_message_keeps_its_msgid_and_renders_per_language():
    message = Message("{field}: must be at most {maximum}", field="properties.count", maximum=1000)
    assert str(message) == "properties.count: must be at most 1,000"  # English, for logs
    assert message.msgid == "{field}: must be at most {maximum}"
    assert message.params == {"field": "properties.count", "maximum": 1000}
    assert message.render(translator("en")) == "properties.count: must be at most 1,000"
    assert message == Message(
        "{field}: must be at most {maximum}", field="properties.count", maximum=1000
    )
    prefixed = message.with_params(field="features[3].properties.count")
    assert str(prefixed) == "features[3].properties.count: must be at most 1,000"
    assert message.params["field"] == "properties.count"  # the original is unchanged


def test_a_plural_message_follows_its_count():
    message = PluralMessage(
        "{field}: at most {n} character", "{field}: at most {n} characters", n=1, field="f"
    )
    assert str(message) == "f: at most 1 character"
    assert str(message.with_params(n=80)) == "f: at most 80 characters"
    nested = Message("{field}: {reason}", field="x", reason=Message("{n} animals", n=1200))
    assert nested.render(translator("ru")) == f"x: 1{NBSP}200 animals"  # untranslated msgid
    assert rendered({"errors": [{"message": nested}], "n": 3}, translator("en")) == {
        "errors": [{"message": "x: 1,200 animals"}],
        "n": 3,
    }


def _write_catalogue(root: Path, lang: str, messages: dict[str, str], *, mo: bool) -> Path:
    folder = root / lang / "LC_MESSAGES"
    folder.mkdir(parents=True)
    catalog = Catalog(locale=lang, domain="herdwatch")
    for msgid, msgstr in messages.items():
        catalog.add(msgid, msgstr)
    with (folder / "herdwatch.po").open("wb") as fp:
        write_po(fp, catalog)
    if mo:
        with (folder / "herdwatch.mo").open("wb") as fp:
            write_mo(fp, catalog)
    return folder


def test_a_new_language_is_one_po_file_and_no_code(tmp_path: Path):
    shutil.copytree(LOCALES_DIR, tmp_path / "locales")
    root = tmp_path / "locales"
    _write_catalogue(root, "sah", {"rut": "оттуу"}, mo=False)
    assert discover_languages(root) == ("en", "ru", "sah")
    assert negotiate(None, None, "sah, ru;q=0.8", discover_languages(root)) == "sah"
    sakha = translator("sah", root)
    assert sakha.season_name("rut") == "оттуу"
    assert sakha.lang == "sah" and sakha.locale.language == "sah"  # CLDR has Sakha's formats


def test_an_outdated_mo_is_bypassed_by_reading_the_po(tmp_path: Path):
    folder = _write_catalogue(tmp_path, "ru", {"rut": "гон (старый)"}, mo=True)
    assert translator("ru", tmp_path).gettext("rut") == "гон (старый)"
    translator.cache_clear()
    # A developer edits the .po after `make install`: the .mo is older, the .po wins.
    catalog = Catalog(locale="ru", domain="herdwatch")
    catalog.add("rut", "гон")
    with (folder / "herdwatch.po").open("wb") as fp:
        write_po(fp, catalog)
    stamp = (folder / "herdwatch.mo").stat().st_mtime
    os.utime(folder / "herdwatch.po", (stamp + 10, stamp + 10))
    assert translator("ru", tmp_path).gettext("rut") == "гон"
    (folder / "herdwatch.mo").unlink()  # and with no .mo at all
    translator.cache_clear()
    assert translator("ru", tmp_path).gettext("rut") == "гон"


def test_a_fuzzy_translation_is_not_shown(tmp_path: Path):
    folder = tmp_path / "ru" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    catalog = Catalog(locale="ru", domain="herdwatch")
    catalog.add("rut", "гон?", flags=["fuzzy"])
    with (folder / "herdwatch.po").open("wb") as fp:
        write_po(fp, catalog)
    assert translator("ru", tmp_path).gettext("rut") == "rut"


def test_an_unknown_language_is_refused():
    with pytest.raises(ValueError, match="no catalogue"):
        translator("xx")


PAGE = (
    "<p>{{ _('rut') }} · {% trans n=count %}{{ n }} herd{% pluralize %}{{ n }} herds"
    "{% endtrans %} · {{ format_number(total) }} · {{ format_date(day) }} · {{ note }}</p>"
)


def test_templates_render_in_the_language_of_each_render_concurrently():
    env = i18n_environment(loader=DictLoader({"page.html": PAGE}), autoescape=True)
    template = env.get_template("page.html")
    context = {"count": 3, "total": 12345, "day": date(2024, 3, 12), "note": "<b>"}
    results: dict[str, set[str]] = {"en": set(), "ru": set()}

    def render(lang: str) -> None:
        for _ in range(50):
            results[lang].add(render_in(template, translator(lang), **context))

    threads = [threading.Thread(target=render, args=(lang,)) for lang in ("en", "ru") * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results["en"] == {"<p>rut · 3 herds · 12,345 · 2024-03-12 · &lt;b&gt;</p>"}
    assert results["ru"] == {f"<p>гон · 3 herds · 12{NBSP}345 · 12.03.2024 · &lt;b&gt;</p>"}
