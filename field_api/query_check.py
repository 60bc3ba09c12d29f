"""Refuse a query string a route does not define, and a parameter given twice.

Seen: a misspelt filter (`?popualtion=taimyr`) was ignored and answered 200 with every
population, and a repeated one (`?population=lena-olenek&population=taimyr`) kept only the
last: the wrong data, with no sign of it. The API's routers add `declared_query_only` as a
dependency; the parameters a route takes are read off its own signature (and its
dependencies'), so a route never lists them twice.
"""

from __future__ import annotations

from types import UnionType
from typing import Any, Union, get_args, get_origin

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant

from domain.i18n import Message
from field_api.errors import ApiError

_SEQUENCES = (list, tuple, set, frozenset)
EVERYWHERE = frozenset({"lang"})  # any answer's language (field_api/language.py)
_KEPT = "_herdwatch_declared_query"  # on the route: read off its signature once


async def declared_query_only(request: Request) -> None:
    """400 `unknown_parameter` or `repeated_parameter`, naming the parameter.

    Async on purpose, as field_api/deps.py's user: a sync dependency costs every upload
    and listing a hop through the thread pool."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if not isinstance(dependant, Dependant) or not request.query_params:
        return
    declared = getattr(route, _KEPT, None)
    if declared is None:
        declared = _declared(dependant)
        setattr(route, _KEPT, declared)
    names, repeatable = declared
    given = request.query_params
    unknown = sorted(set(given) - names - EVERYWHERE)
    if unknown:
        raise ApiError(400, "unknown_parameter", _unknown(unknown[0], names), field=unknown[0])
    twice = sorted(n for n in set(given) if n not in repeatable and len(given.getlist(n)) > 1)
    if twice:
        raise ApiError(
            400,
            "repeated_parameter",
            Message(
                "parameter {name} is given more than once; give it once (population and "
                "method take several values, comma-separated)",
                name=repr(twice[0]),
            ),
            field=twice[0],
        )


DeclaredQueryOnly = Depends(declared_query_only)


def _unknown(name: str, names: frozenset[str]) -> Message:
    if not names:
        return Message("unknown parameter {name}; this resource takes none", name=repr(name))
    return Message(
        "unknown parameter {name}; this resource takes {known}",
        name=repr(name),
        known=", ".join(sorted(names)),
    )


def _declared(dependant: Dependant) -> tuple[frozenset[str], frozenset[str]]:
    """The query parameters a route and its dependencies take, and those taking a list."""
    names: set[str] = set()
    repeatable: set[str] = set()
    todo = [dependant]
    while todo:
        current = todo.pop()
        for param in current.query_params:
            names.add(param.alias)
            if _is_sequence(param.field_info.annotation):
                repeatable.add(param.alias)
        todo.extend(current.dependencies)
    return frozenset(names), frozenset(repeatable)


def _is_sequence(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin is Union or origin is UnionType:
        return any(_is_sequence(arg) for arg in get_args(annotation))
    return (origin or annotation) in _SEQUENCES
