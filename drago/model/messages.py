"""Turn pydantic's validation errors into human problems: a dotted key path
(``interfaces.backbone.address``, ``connections[1].between``) and a message in
TOML's words (string, integer, table, array), never pydantic's type names."""

from __future__ import annotations

import datetime
import json
import re
import types
import typing
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from drago.model.suggest import closest

_BARE_KEY = re.compile(r"\A[A-Za-z0-9_-]+\Z")
#: loc parts pydantic adds for unions and wrapped validators, not user keys.
_PYDANTIC_TAG = re.compile(r"\A[a-z][a-z-]*\[.*\]\Z")


def key_path(loc: Iterable[int | str]) -> str:
    """``("connections", 1, "between")`` -> ``connections[1].between``; keys that
    are not bare TOML keys are quoted (``allowed_ips."role=hub"``)."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        segment = part if _BARE_KEY.match(part) else json.dumps(part, ensure_ascii=False)
        out += f".{segment}" if out else segment
    return out


def toml_type(value: Any) -> str:
    """The TOML word for a parsed value's type."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return "a date/time"
    return "a value of another type"


def _show(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value if len(value) <= 60 else value[:57] + "...", ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return toml_type(value)


_EXPECTED = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "string_type": "a string",
    "float_type": "a number",
    "bool_type": "a boolean",
    "list_type": "an array",
    "tuple_type": "an array",
    "dict_type": "a table",
    "model_type": "a table",
    "model_attributes_type": "a table",
}


def _unwrap(tp: Any) -> Any:
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def annotation_at(model: type[BaseModel], loc: Sequence[int | str]) -> Any:
    """The type of the value at ``loc`` of ``model`` (None if unknown)."""
    tp: Any = model
    for part in loc:
        tp = _unwrap(tp)
        origin = typing.get_origin(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = tp.model_fields.get(str(part))
            if field is None:
                return None
            tp = field.annotation
        elif origin is dict:
            tp = typing.get_args(tp)[1]
        elif origin is list:
            tp = typing.get_args(tp)[0]
        elif origin is tuple and isinstance(part, int) and part < len(typing.get_args(tp)):
            tp = typing.get_args(tp)[part]
        else:
            return None
    return _unwrap(tp)


def known_keys(model: type[BaseModel], loc: Sequence[int | str]) -> list[str]:
    """The keys allowed in the table at ``loc`` of ``model`` (empty if unknown)."""
    tp = annotation_at(model, loc)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return list(tp.model_fields)
    return []


def _clean_loc(loc: Iterable[int | str]) -> tuple[int | str, ...]:
    return tuple(
        p for p in loc if isinstance(p, int) or (p != "[key]" and not _PYDANTIC_TAG.match(p))
    )


def _message(error: ErrorDetails, model: type[BaseModel], loc: tuple[int | str, ...]) -> str:
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    value = error.get("input")
    if kind == "missing":
        if loc and isinstance(loc[-1], int) and isinstance(value, list):
            tp = annotation_at(model, loc[:-1])
            expected = len(typing.get_args(tp)) if typing.get_origin(tp) is tuple else "more"
            return f"has {len(value)} items, expected {expected}"
        return "is required"
    if kind == "extra_forbidden":
        word = str(loc[-1]) if loc else ""
        match = closest(word, known_keys(model, loc[:-1]))
        return "unknown key" + (f" (did you mean `{match}`?)" if match else "")
    if kind in _EXPECTED:
        got, shown = toml_type(value), _show(value)
        return f"expected {_EXPECTED[kind]}, got {got}" + ("" if got == shown else f" ({shown})")
    if kind in {"value_error", "assertion_error"}:
        cause = ctx.get("error")
        return str(cause) if cause is not None else error["msg"]
    if kind in {"greater_than_equal", "greater_than", "less_than_equal", "less_than"}:
        bound = next(iter(ctx.values()), "?")
        words = {
            "greater_than_equal": "at least",
            "greater_than": "more than",
            "less_than_equal": "at most",
            "less_than": "less than",
        }[kind]
        return f"{_show(value)} is out of range (must be {words} {bound})"
    if kind == "string_too_long":
        return f"is longer than {ctx.get('max_length')} characters"
    if kind in {"too_long", "too_short"}:
        length = len(value) if isinstance(value, list | tuple) else "?"
        limit = ctx.get("max_length") if kind == "too_long" else ctx.get("min_length")
        return f"has {length} items, expected {limit}"
    return error["msg"]


def problems_from_validation(exc: ValidationError, model: type[BaseModel]) -> list[tuple[str, str]]:
    """(key path, message) for each error of ``exc`` raised by ``model``.

    A "required" key that an unknown key's hint already names is dropped, so a
    typo gives one problem, not two."""
    found: list[tuple[str, str]] = []
    hinted: set[str] = set()
    for error in exc.errors(include_url=False):
        loc = _clean_loc(error["loc"])
        message = _message(error, model, loc)
        if error["type"] == "extra_forbidden" and "did you mean" in message:
            hinted.add(key_path((*loc[:-1], message.split("`")[1])))
        if error["type"] == "missing" and message != "is required":
            loc = loc[:-1]
        item = (key_path(loc), message)
        if item not in found:
            found.append(item)
    return [(k, m) for k, m in found if not (m == "is required" and k in hinted)]
