"""Languages: the message catalogues, one language's translator, and negotiation.

English is the source language: every msgid is the English text, so English needs no
catalogue. Each other language is a directory `domain/locales/<lang>/LC_MESSAGES/` holding
`herdwatch.po` (gettext domain `herdwatch`); the set of languages is read from those
directories, so adding one (Sakha, `sah`) is one new .po file and no code. `make install`
compiles each .po to a .mo beside it (`pybabel compile`); a .mo that is missing or older
than its .po (a developer editing the catalogue) is bypassed by reading the .po itself, so a
new translation never silently shows English.

Formats a researcher expects: numbers and decimals grouped by the locale ("1 234" in
Russian, with the no-break space CLDR gives; "1,234" in English); dates in English as ISO
8601 (2024-03-12: unambiguous between British and American readers, and what R and QGIS
print), in Russian as 12.03.2024. The date patterns are themselves catalogue entries
(context "date pattern"), so a new language chooses its own.

Babel is imported when a translator is first made, not by importing this module: the error
handlers import it in every worker, and a worker starts light (docs/design.md).
"""

from __future__ import annotations

import copy
import gettext as _gettext
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any, Protocol

DOMAIN = "herdwatch"
DEFAULT_LANGUAGE = "en"
COOKIE = "herdwatch_lang"  # set by the viewer's language switch
LOCALES_DIR = Path(__file__).resolve().parent / "locales"


def N_(message: str) -> str:  # noqa: N802 (the gettext convention the extractor looks for)
    """Mark a module-level string for extraction; it is translated where it is used."""
    return message


def discover_languages(root: Path = LOCALES_DIR) -> tuple[str, ...]:
    """The source language first, then every `<lang>/LC_MESSAGES/herdwatch.po` under root."""
    found = sorted(p.parent.parent.name for p in root.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    return (DEFAULT_LANGUAGE, *(lang for lang in found if lang != DEFAULT_LANGUAGE))


LANGUAGES: tuple[str, ...] = discover_languages()

# Season keys of domain/seasons.py (an administrator's own season keeps its key as its name).
SEASON_NAMES: Mapping[str, str] = {
    "calving": N_("calving"),
    "post-calving": N_("post-calving"),
    "rut": N_("rut"),
    "winter": N_("winter"),
}
# Population ids of domain/records.py (an added id is its own name); terms: docs/glossary.md.
POPULATION_NAMES: Mapping[str, str] = {
    "lena-olenek": N_("Lena-Olenek"),
    "yana-indigirka": N_("Yana-Indigirka"),
    "sundrun": N_("Sundrun"),
    "new-siberian-islands": N_("New Siberian Islands"),
    "forest": N_("Forest (taiga)"),
    "taimyr": N_("Taimyr"),
    "unknown": N_("Unknown population"),
}


class Translator:
    """One language's messages and formats. Made once per language (see `translator`)."""

    __slots__ = ("lang", "locale", "_messages")

    def __init__(self, lang: str, messages: _gettext.NullTranslations) -> None:
        from babel import Locale, UnknownLocaleError

        self.lang = lang
        self._messages = messages
        try:
            self.locale = Locale.parse(lang.replace("-", "_"))
        except (UnknownLocaleError, ValueError):  # a language CLDR lacks formats as English
            self.locale = Locale.parse(DEFAULT_LANGUAGE)

    def __repr__(self) -> str:
        return f"Translator({self.lang!r})"

    @property
    def name(self) -> str:
        """The language's own name ("русский", "English"), for a language switch."""
        return self.locale.get_display_name(self.locale) or self.lang

    def gettext(self, message: str) -> str:
        return self._messages.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._messages.ngettext(singular, plural, n)

    def pgettext(self, context: str, message: str) -> str:
        return self._messages.pgettext(context, message)

    def format_number(self, n: float) -> str:
        """An integer (or a float to at most three places), grouped: "1 234" in Russian."""
        from babel.numbers import format_decimal

        return format_decimal(n, locale=self.locale)

    def format_decimal(self, x: float, digits: int = 1) -> str:
        """Exactly `digits` places: format_decimal(0.5, 2) is "0,50" in Russian."""
        from babel.numbers import format_decimal

        pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
        return format_decimal(x, format=pattern, locale=self.locale)

    def format_percent(self, x: float, digits: int = 0) -> str:
        """A fraction as a percentage: 0.123 is "12 %" in Russian, "12%" in English."""
        from babel.numbers import parse_pattern

        pattern = parse_pattern(self.locale.percent_formats[None].pattern)
        pattern.frac_prec = (digits, digits)
        return pattern.apply(x, self.locale)

    def format_date(self, d: date) -> str:
        """2024-03-12 in English (ISO 8601), 12.03.2024 in Russian."""
        from babel.dates import format_date

        # TRANSLATORS: a CLDR date pattern (dd day, MM month, yyyy year), not words.
        return format_date(d, self.pgettext("date pattern", "yyyy-MM-dd"), locale=self.locale)

    def format_datetime(self, dt: datetime) -> str:
        """The date as format_date, then the time to the minute, in dt's own zone."""
        from babel.dates import format_datetime

        # TRANSLATORS: a CLDR date and time pattern (HH hours 0-23, mm minutes), not words.
        pattern = self.pgettext("date pattern", "yyyy-MM-dd HH:mm")
        return format_datetime(dt, pattern, tzinfo=dt.tzinfo, locale=self.locale)

    def month_name(self, month: int) -> str:
        """The stand-alone (nominative) name: 3 is "март" in Russian, "March" in English."""
        from babel.dates import get_month_names

        return str(get_month_names("wide", "stand-alone", self.locale)[month])

    def season_name(self, key: str) -> str:
        """A season key of domain/seasons.py ("rut") in this language ("гон")."""
        return self.gettext(SEASON_NAMES[key]) if key in SEASON_NAMES else key

    def population_name(self, population: str) -> str:
        """A population id ("lena-olenek") in this language ("Лено-Оленёкская")."""
        name = POPULATION_NAMES.get(population)
        return self.gettext(name) if name else population

    def format_value(self, value: object) -> str:
        """A message parameter as text: numbers by the locale, messages translated."""
        if isinstance(value, Message):
            return value.render(self)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return str(value)
        return self.format_number(value)


def _load(lang: str, root: Path) -> _gettext.NullTranslations:
    """The compiled .mo when it is current, else the .po read and compiled in memory."""
    folder = root / lang / "LC_MESSAGES"
    po, mo = folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"
    if mo.is_file() and mo.stat().st_mtime >= po.stat().st_mtime:
        with mo.open("rb") as fp:
            return _gettext.GNUTranslations(fp)
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as fp:
        catalog = read_po(fp, locale=lang, domain=DOMAIN)
    buffer = BytesIO()
    write_mo(buffer, catalog)  # fuzzy entries are left out, as pybabel compile leaves them
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


@lru_cache(maxsize=32)
def translator(lang: str = DEFAULT_LANGUAGE, root: Path = LOCALES_DIR) -> Translator:
    """The translator of `lang` (one of LANGUAGES, or of discover_languages(root))."""
    if lang == DEFAULT_LANGUAGE:
        return Translator(lang, _gettext.NullTranslations())
    if lang not in discover_languages(root):
        raise ValueError(f"no catalogue for the language {lang!r}")
    return Translator(lang, _load(lang, root))


def _known(value: str | None, languages: tuple[str, ...]) -> str | None:
    """A language tag ("ru", "ru-RU", "RU") as one of `languages`, or None."""
    if not value:
        return None
    tag = value.strip().lower().replace("_", "-")
    for candidate in (tag, tag.split("-")[0]):
        if candidate in languages:
            return candidate
    return None


# One language range of Accept-Language ("ru-RU;q=0.8", "*"); its q is checked apart.
_RANGE = re.compile(
    r"^\s*([A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8})*|\*)\s*(?:;\s*q\s*=\s*([^,;\s]*))?"
)


def accepted_languages(header: str | None) -> list[str]:
    """Accept-Language's ranges by descending q (ties in the header's order); q=0 dropped."""
    ranked: list[tuple[float, int, str]] = []
    for i, item in enumerate((header or "").split(",")[:32]):  # a header is not a workload
        match = _RANGE.match(item)
        if not match:
            continue
        try:
            q = float(match.group(2)) if match.group(2) else 1.0
        except ValueError:
            continue
        if 0 < q <= 1:
            ranked.append((-q, i, match.group(1)))
    return [tag for _, _, tag in sorted(ranked)]


def negotiate(
    query_lang: str | None,
    cookie_lang: str | None,
    accept_language: str | None,
    languages: tuple[str, ...] = LANGUAGES,
) -> str:
    """`?lang=`, then the cookie, then Accept-Language, else English; unknown values fall
    through to the next source."""
    for choice in (query_lang, cookie_lang, *accepted_languages(accept_language)):
        if choice == "*":
            return DEFAULT_LANGUAGE
        known = _known(choice, languages)
        if known:
            return known
    return DEFAULT_LANGUAGE


class Message:
    """A translatable message with its parameters: what a domain error carries.

    `Message("{field}: must be at most {maximum}", field="properties.count", maximum=1000)`
    keeps the English msgid and the values; `render(translator)` is the translation with
    the numbers in the locale's format, str() the English rendering (logs, exceptions).
    A number that is not a quantity (a year, an id, a status code) goes in as a str, so it
    is not grouped ("2024", not "2 024").
    """

    __slots__ = ("msgid", "params")
    msgid: str
    params: dict[str, object]

    def __init__(self, msgid: str, /, **params: object) -> None:
        self.msgid = msgid
        self.params = params

    def render(self, t: Translator) -> str:
        values = {k: t.format_value(v) for k, v in self.params.items()}
        return t.gettext(self.msgid).format(**values)

    def __str__(self) -> str:
        return self.render(translator(DEFAULT_LANGUAGE))

    def __repr__(self) -> str:
        return f"Message({self.msgid!r}, {self.params!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Message):
            return (self.msgid, self.params) == (other.msgid, other.params)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.msgid)

    def with_params(self, **params: object) -> Message:
        """The same message with some parameters replaced (a field path prefixed, say)."""
        clone = copy.copy(self)
        clone.params = {**self.params, **params}
        return clone


class PluralMessage(Message):
    """A Message whose wording follows a count: `PluralMessage("at most {n} character",
    "at most {n} characters", n=80)`; Russian picks one of its three forms by n."""

    __slots__ = ("plural",)

    def __init__(self, singular: str, plural: str, /, *, n: int, **params: object) -> None:
        super().__init__(singular, n=n, **params)
        self.plural = plural

    def render(self, t: Translator) -> str:
        values = {k: t.format_value(v) for k, v in self.params.items()}
        n = self.params["n"]
        return t.ngettext(self.msgid, self.plural, n if isinstance(n, int) else 0).format(**values)


class Joined(Message):
    """Several messages shown as one ("a; b; c"), each rendered in the same language."""

    __slots__ = ("parts", "separator")

    def __init__(self, parts: Sequence[str | Message], separator: str = "; ") -> None:
        super().__init__("")
        self.parts, self.separator = tuple(parts), separator

    def render(self, t: Translator) -> str:
        return self.separator.join(text(part, t) for part in self.parts)

    def __repr__(self) -> str:
        return f"Joined({self.parts!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Joined):
            return (self.parts, self.separator) == (other.parts, other.separator)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.parts)


def text(message: str | Message, t: Translator) -> str:
    """A plain string as it is (already final), a Message rendered in t's language."""
    return message.render(t) if isinstance(message, Message) else message


def rendered(value: Any, t: Translator) -> Any:
    """`value` with every Message in it (in dicts, lists, tuples) rendered in t's language."""
    if isinstance(value, Message):
        return value.render(t)
    if isinstance(value, dict):
        return {k: rendered(v, t) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [rendered(v, t) for v in value]
    return value


def english(value: Any) -> Any:
    """`value` with every Message in it as its English text (logs, the default language)."""
    return rendered(value, translator(DEFAULT_LANGUAGE))


class _Template(Protocol):
    def render(self, *args: Any, **kwargs: Any) -> str: ...


def template_context(t: Translator) -> dict[str, Any]:
    """The names a template uses for one language, passed per render (never installed on
    the shared environment, so concurrent requests in two languages do not mix).

    Positional-only parameters, so a template variable may be called `n` or `message`."""
    from markupsafe import Markup

    def _newstyle(translated: str, autoescape: bool, variables: dict[str, Any]) -> str:
        # As jinja2.ext's newstyle gettext: the translation is trusted, values are escaped.
        rv = Markup(translated) if autoescape else translated
        return rv % variables if variables else rv

    from jinja2 import pass_context
    from jinja2.runtime import Context

    @pass_context
    def gettext(ctx: Context, message: str, /, **variables: Any) -> str:
        return _newstyle(t.gettext(message), ctx.eval_ctx.autoescape, variables)

    @pass_context
    def ngettext(ctx: Context, singular: str, plural: str, n: int, /, **variables: Any) -> str:
        variables.setdefault("num", n)
        return _newstyle(t.ngettext(singular, plural, n), ctx.eval_ctx.autoescape, variables)

    @pass_context
    def pgettext(ctx: Context, context: str, message: str, /, **variables: Any) -> str:
        return _newstyle(t.pgettext(context, message), ctx.eval_ctx.autoescape, variables)

    return {
        "gettext": gettext,
        "_": gettext,
        "ngettext": ngettext,
        "pgettext": pgettext,
        "lang": t.lang,
        "translator": t,
        "format_number": t.format_number,
        "format_decimal": t.format_decimal,
        "format_percent": t.format_percent,
        "format_date": t.format_date,
        "format_datetime": t.format_datetime,
        "month_name": t.month_name,
        "season_name": t.season_name,
        "population_name": t.population_name,
    }


def i18n_environment(**options: Any) -> Any:
    """A Jinja2 Environment with the i18n extension in newstyle (`{% trans %}` and
    `_("…%(n)s", n=…)` format and escape their values); render with `render_in`."""
    from jinja2 import Environment

    env = Environment(extensions=["jinja2.ext.i18n"], **options)
    env.newstyle_gettext = True  # type: ignore[attr-defined]
    return env


def render_in(template: _Template, t: Translator, /, **context: Any) -> str:
    """Render a template of an i18n environment in t's language."""
    return template.render(**template_context(t), **context)
