"""Pydantic's validation errors in our own words, translatable: one template per error type.

Pydantic's `msg` is English only, so each error type we meet (missing, wrong type, too
long, out of range, pattern, choice, Unicode…) maps to a `Message` of ours with the
error's context (the limit, the choices). A type not listed keeps pydantic's English text
after a translated "invalid value". The `code` of each error stays pydantic's type.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.i18n import Message, PluralMessage
from domain.wire import TEXT_PATTERN

Template = Callable[[str, dict[str, Any]], Message]


def _fixed(msgid: str) -> Template:
    return lambda field, ctx: Message(msgid, field=field)


def _limit(msgid: str, key: str) -> Template:
    return lambda field, ctx: Message(msgid, field=field, limit=ctx.get(key))


def _length(singular: str, plural: str) -> Template:
    def make(field: str, ctx: dict[str, Any]) -> Message:
        n = ctx.get("max_length", ctx.get("min_length", 0))
        return PluralMessage(singular, plural, n=int(n), field=field)

    return make


def _too_short(field: str, ctx: dict[str, Any]) -> Message:
    if ctx.get("min_length") == 1:
        return Message("{field}: must not be empty", field=field)
    return PluralMessage(
        "{field}: needs at least {n} character",
        "{field}: needs at least {n} characters",
        n=int(ctx.get("min_length", 0)),
        field=field,
    )


def _list_too_short(field: str, ctx: dict[str, Any]) -> Message:
    return PluralMessage(
        "{field}: needs at least {n} item",
        "{field}: needs at least {n} items",
        n=int(ctx.get("min_length", 0)),
        field=field,
    )


def _pattern(field: str, ctx: dict[str, Any]) -> Message:
    if ctx.get("pattern") == TEXT_PATTERN:
        return Message(
            "{field}: contains a control character (such as NUL) that cannot be stored",
            field=field,
        )
    return Message("{field}: does not match the pattern {pattern}", field=field, **ctx)


def _choice(field: str, ctx: dict[str, Any]) -> Message:
    # pydantic writes "'a', 'b' or 'c'": the "or" is English, a list reads in any language.
    expected = str(ctx.get("expected", "")).replace(" or ", ", ")
    return Message("{field}: must be one of {expected}", field=field, expected=expected)


def _value_error(field: str, ctx: dict[str, Any]) -> Message:
    """A validator of ours raised ValueError: its Message when it carries one."""
    error = ctx.get("error")
    reason = error.args[0] if isinstance(error, ValueError) and error.args else error
    return Message("{field}: {reason}", field=field, reason=reason)


_TIME = "{field}: must be a date and time with its offset, e.g. 2024-03-12T09:30:00+09:00"
TEMPLATES: dict[str, Template] = {
    "missing": _fixed("{field}: is required"),
    "extra_forbidden": _fixed("{field}: is not a field of this object (check the spelling)"),
    "int_type": _fixed("{field}: must be a whole number"),
    "int_parsing": _fixed("{field}: must be a whole number"),
    "int_from_float": _fixed("{field}: must be a whole number"),
    "float_type": _fixed("{field}: must be a number"),
    "float_parsing": _fixed("{field}: must be a number"),
    "finite_number": _fixed("{field}: must be a finite number"),
    "bool_type": _fixed("{field}: must be true or false"),
    "bool_parsing": _fixed("{field}: must be true or false"),
    "string_type": _fixed("{field}: must be text"),
    "string_unicode": _fixed(
        "{field}: is not valid Unicode text (a lone surrogate such as \\ud800)"
    ),
    "dict_type": _fixed("{field}: must be a JSON object"),
    "model_type": _fixed("{field}: must be a JSON object"),
    "model_attributes_type": _fixed("{field}: must be a JSON object"),
    "list_type": _fixed("{field}: must be a list"),
    "tuple_type": _fixed("{field}: must be a list"),
    "uuid_type": _fixed("{field}: must be a UUID"),
    "uuid_parsing": _fixed("{field}: must be a UUID"),
    "datetime_type": _fixed(_TIME),
    "datetime_parsing": _fixed(_TIME),
    "datetime_from_date_parsing": _fixed(_TIME),
    "timezone_aware": _fixed("{field}: needs its UTC offset, e.g. +09:00"),
    "json_invalid": _fixed("{field}: is not valid JSON"),
    "union_tag_invalid": _fixed("{field}: has a type this field does not take"),
    "union_tag_not_found": _fixed("{field}: needs its type"),
    "greater_than_equal": _limit("{field}: must be at least {limit}", "ge"),
    "greater_than": _limit("{field}: must be greater than {limit}", "gt"),
    "less_than_equal": _limit("{field}: must be at most {limit}", "le"),
    "less_than": _limit("{field}: must be less than {limit}", "lt"),
    "string_too_long": _length(
        "{field}: must be at most {n} character long",
        "{field}: must be at most {n} characters long",
    ),
    "string_too_short": _too_short,
    "too_long": _length("{field}: takes at most {n} item", "{field}: takes at most {n} items"),
    "too_short": _list_too_short,
    "string_pattern_mismatch": _pattern,
    "literal_error": _choice,
    "enum": _choice,
    "value_error": _value_error,
    "assertion_error": _value_error,
}


def field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    """("body", "properties", "count") → "properties.count"; list indexes in brackets."""
    parts: list[str] = []
    for item in loc:
        if item in ("body", "query", "path", "header", "cookie") and not parts:
            continue
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "body"


def error_message(err: dict[str, Any]) -> Message:
    """One pydantic error as our Message, naming the field first."""
    field = field_path(err.get("loc", ()))
    template = TEMPLATES.get(str(err.get("type")))
    if template is not None:
        return template(field, dict(err.get("ctx") or {}))
    reason = str(err.get("msg", "invalid value"))
    return Message("{field}: invalid value ({reason})", field=field, reason=reason)


def pydantic_errors(errors: list[Any]) -> list[dict[str, Any]]:
    """Pydantic's error list as [{field, code, message}] a field worker can act on."""
    return [
        {
            "field": field_path(err.get("loc", ())),
            "code": err.get("type", "invalid"),
            "message": error_message(err),
        }
        for err in errors
    ]
