"""Finding English left in a page meant to be in another language (tests only).

A page's visible text (what a reader sees, tooltips and labels included) is checked against
every msgid of the catalogue: no English fragment of one may stand in it. Another check
looks at the words themselves: a Russian page's Latin words must be proper names, units or
codes a reader expects in Latin letters.
"""

from __future__ import annotations

import html
import re
from functools import cache
from html.parser import HTMLParser

from babel.messages.pofile import read_po

from domain.i18n import LOCALES_DIR

# Written in Latin letters in any language: proper names, formats, units, standards.
LATIN_WORDS = frozenset(
    {
        "Herdwatch",
        "GeoJSON",
        "CSV",
        "JSON",
        "HTML",
        "OGC",
        "API",
        "OpenAPI",
        "EPSG",
        "UTC",
        "CRS84",
        "ODbL",
        "geoBoundaries",
        "Leaflet",
        "km",
        "mi",  # Leaflet's scale bar shows miles beside kilometres
        "ft",
        "English",  # the language switch names each language in itself
    }
)
# Msgids that are formats, not words (a help text's "minLon,minLat,maxLon,maxLat"): a page
# shows them as they are, as the Area field's placeholder does.
FORMATS = frozenset({"minLon,minLat,maxLon,maxLat"})
_PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}")
_CODE = re.compile(r"`[^`]*`")  # `every`, `2024-calving`: code in a description, not words
# Shown to a reader as they are, in any language: scripts, styles, code and JSON.
_HIDDEN = {"script", "style", "code", "pre"}
_SHOWN_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt", "label")


class VisibleText(HTMLParser):
    """A page's text as a reader meets it, with its tooltips and labels; `skip` names more
    elements whose content is data rather than words (an OGC table's cells, say)."""

    def __init__(self, page: str, skip: frozenset[str] = frozenset()) -> None:
        super().__init__(convert_charrefs=True)
        self.hidden = _HIDDEN | skip
        self.depth = 0
        self.parts: list[str] = []
        self.feed(page)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.hidden:
            self.depth += 1
        elif not self.depth:
            self.parts += [v for k, v in attrs if k in _SHOWN_ATTRIBUTES and v]

    def handle_endtag(self, tag: str) -> None:
        if tag in self.hidden and self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if not self.depth:
            self.parts.append(data)

    @property
    def text(self) -> str:
        return re.sub(r"\s+", " ", html.unescape(" ".join(self.parts))).strip()


@cache
def english_fragments(lang: str = "ru") -> tuple[str, ...]:
    """Every msgid of `lang`'s catalogue cut at its placeholders, the pieces that hold a
    word (two letters or more): none of them may appear in a page in `lang`."""
    with (LOCALES_DIR / lang / "LC_MESSAGES" / "herdwatch.po").open("rb") as fp:
        catalog = read_po(fp, locale=lang)
    found: set[str] = set()
    for message in catalog:
        if not message.id or message.context == "date pattern":  # CLDR patterns, not words
            continue
        ids = (message.id,) if isinstance(message.id, str) else message.id
        for msgid in ids:
            pieces = [p.strip(" .,:;()–-") for p in _PLACEHOLDER.split(_CODE.sub(" ", msgid))]
            # A whole message of two letters is a word ("To"); a piece of one must have three
            # (an "in" between two placeholders is too common a string to mean English).
            shortest = 2 if len(pieces) == 1 else 3
            for piece in pieces:
                if (
                    re.search(rf"[A-Za-z]{{{shortest}}}", piece)
                    and piece not in LATIN_WORDS | FORMATS
                ):
                    found.add(piece)
    return tuple(sorted(found))


def untranslated(text: str, lang: str = "ru") -> list[str]:
    """The catalogue's English fragments that stand in `text` as whole words (`code` aside)."""
    text = _CODE.sub(" ", text)
    return [
        piece
        for piece in english_fragments(lang)
        if re.search(rf"(?<![A-Za-z_]){re.escape(piece)}(?![A-Za-z_])", text)
    ]


def latin_words(text: str, allowed: frozenset[str] = frozenset()) -> list[str]:
    """Latin-letter words in `text` that are not names, units or codes (nor `allowed`)."""
    words = re.findall(r"[A-Za-z][A-Za-z0-9]*", text)
    return sorted({w for w in words if w not in LATIN_WORDS | allowed})
