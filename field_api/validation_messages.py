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


def _too_short(field: str, ctx: dict[str, Any]) -> Message:
    if ctx.get("min_length") == 1:
        return Message("{field}: must not be empty", field=field)
    return PluralMessage(
        "{field}: needs at least {n} character",
        "{field}: needs at least {n} characters",
        n=int(ctx.get("min_length", 0)),
        field=field,
    )


def _too_long(field: str, ctx: dict[str, Any]) -> Message:
    return PluralMessage(
        "{field}: must be at most {n} character long",
        "{field}: must be at most {n} characters long",
        n=int(ctx.get("max_length", 0)),
        field=field,
    )


def _list_too_short(field: str, ctx: dict[str, Any]) -> Message:
    return PluralMessage(
        "{field}: needs at least {n} item",
        "{field}: needs at least {n} items",
        n=int(ctx.get("min_length", 0)),
        field=field,
    )


def _list_too_long(field: str, ctx: dict[str, Any]) -> Message:
    return PluralMessage(
        "{field}: takes at most {n} item",
        "{field}: takes at most {n} items",
        n=int(ctx.get("max_length", 0)),
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


def _whole(field: str, ctx: dict[str, Any]) -> Message:
    return Message("{field}: must be a whole number", field=field)


def _number(field: str, ctx: dict[str, Any]) -> Message:
    return Message("{field}: must be a number", field=field)


def _boolean(field: str, ctx: dict[str, Any]) -> Message:
    return Message("{field}: must be true or false", field=field)


def _object(field: str, ctx: dict[str, Any]) -> Message:
    return Message("{field}: must be a JSON object", field=field)


def _list(field: str, ctx: dict[str, Any]) -> Message:
    return Message("{field}: must be a list", field=field)


def _uuid(field: str, ctx: dict[str, Any]) -> Message:
    return Message("{field}: must be a UUID", field=field)


def _time(field: str, ctx: dict[str, Any]) -> Message:
    return Message(
        "{field}: must be a date and time with its offset, e.g. 2024-03-12T09:30:00+09:00",
        field=field,
    )


TEMPLATES: dict[str, Template] = {
    "missing": lambda field, ctx: Message("{field}: is required", field=field),
    "extra_forbidden": lambda field, ctx: Message(
        "{field}: is not a field of this object (check the spelling)", field=field
    ),
    "int_type": _whole,
    "int_parsing": _whole,
    "int_from_float": _whole,
    "float_type": _number,
    "float_parsing": _number,
    "finite_number": lambda field, ctx: Message("{field}: must be a finite number", field=field),
    "bool_type": _boolean,
    "bool_parsing": _boolean,
    "string_type": lambda field, ctx: Message("{field}: must be text", field=field),
    "string_unicode": lambda field, ctx: Message(
        "{field}: is not valid Unicode text (a lone surrogate such as \\ud800)", field=field
    ),
    "dict_type": _object,
    "model_type": _object,
    "model_attributes_type": _object,
    "list_type": _list,
    "tuple_type": _list,
    "uuid_type": _uuid,
    "uuid_parsing": _uuid,
    "datetime_type": _time,
    "datetime_parsing": _time,
    "datetime_from_date_parsing": _time,
    "timezone_aware": lambda field, ctx: Message(
        "{field}: needs its UTC offset, e.g. +09:00", field=field
    ),
    "json_invalid": lambda field, ctx: Message("{field}: is not valid JSON", field=field),
    "union_tag_invalid": lambda field, ctx: Message(
        "{field}: has a type this field does not take", field=field
    ),
    "union_tag_not_found": lambda field, ctx: Message("{field}: needs its type", field=field),
    "greater_than_equal": lambda field, ctx: Message(
        "{field}: must be at least {limit}", field=field, limit=ctx.get("ge")
    ),
    "greater_than": lambda field, ctx: Message(
        "{field}: must be greater than {limit}", field=field, limit=ctx.get("gt")
    ),
    "less_than_equal": lambda field, ctx: Message(
        "{field}: must be at most {limit}", field=field, limit=ctx.get("le")
    ),
    "less_than": lambda field, ctx: Message(
        "{field}: must be less than {limit}", field=field, limit=ctx.get("lt")
    ),
    "string_too_long": _too_long,
    "string_too_short": _too_short,
    "too_long": _list_too_long,
    "too_short": _list_too_short,
    "string_pattern_mismatch": _pattern,
    "literal_error": _choice,
    "enum": _choice,
    "value_error": _value_error,
    "assertion_error": _value_error,
}


# The discriminator values of the survey geometry's tagged unions (field_api/schemas.py):
# pydantic puts them in an error's location ("geometry.LineString.coordinates").
_UNION_TAGS = frozenset({"Point", "LineString", "MultiLineString", "Polygon", "MultiPolygon"})


def field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    """("body", "properties", "count") → "properties.count"; list indexes in brackets."""
    parts: list[str] = []
    for item in loc:
        if item in ("body", "query", "path", "header", "cookie") and not parts:
            continue
        if item in _UNION_TAGS:  # the branch pydantic tried, not a field the client sent
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
