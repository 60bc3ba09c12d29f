"""A Babel extractor for the field app's catalogue (field_api/static/field/messages-en.json).

The JSON's values are the English msgids; each is extracted with its key as context
("field app signin.heading"), so two keys with the same English ("Sign in", a heading and a
button) may read differently in another language. babel.cfg registers it for `make
messages` and tests/test_catalogue.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any

CONTEXT = "field app {key}"

Extracted = tuple[int, str, tuple[str, str], list[str]]


def field_app_context(key: str) -> str:
    """The msgctxt of the field app's message `key`."""
    return CONTEXT.format(key=key)


def extract_json_values(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[Extracted]:
    """(line, "pgettext", (context, English), []) for each key of a flat JSON object."""
    text = fileobj.read().decode("utf-8")
    lines = text.splitlines()
    for key, english in json.loads(text).items():
        quoted = json.dumps(key, ensure_ascii=False) + ":"
        lineno = next((i for i, line in enumerate(lines, 1) if quoted in line), 1)
        yield lineno, "pgettext", (field_app_context(key), english), []
