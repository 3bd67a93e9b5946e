"""The API's spec models: the files' fields, derived from :mod:`drago.model.schema`.

Nothing here lists a field. :func:`spec_model` walks a file model's fields and
gives each its JSON type (addresses, ranges and routes are strings, a tuple is
a list of its length, a nested file model is its own spec model), keeping the
description and the constraints of the model's types in the JSON schema, so the
OpenAPI document describes every field as the files' models define it.

A spec only checks shapes (read strictly: no coercion). The values are checked
by the one validator after the change is applied to the files, so an API write
reports the same ``path: key: message`` problems as ``drago validate``. A
``None`` (or missing) field means "not in the file" (the default applies), so a
spec read with GET and sent back with PUT leaves the file as it was; answers
leave such fields out.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import types
from typing import TYPE_CHECKING, Annotated, Any, Union, get_args, get_origin

import annotated_types
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    create_model,
    model_serializer,
)
from pydantic.fields import FieldInfo

from drago.model.schema import Connection, NetworkFile, NodeFile

#: Types whose JSON form is a string (their text is checked by the validator).
_TEXT_TYPES = (
    ipaddress.IPv4Network,
    ipaddress.IPv6Network,
    ipaddress.IPv4Interface,
    ipaddress.IPv6Interface,
    ipaddress.IPv4Address,
    ipaddress.IPv6Address,
)
#: Constraints of the model's types, as JSON schema keywords.
_KEYWORDS: dict[type[Any], tuple[str, str]] = {
    annotated_types.Ge: ("ge", "minimum"),
    annotated_types.Le: ("le", "maximum"),
    annotated_types.Gt: ("gt", "exclusiveMinimum"),
    annotated_types.Lt: ("lt", "exclusiveMaximum"),
    annotated_types.MinLen: ("min_length", "minLength"),
    annotated_types.MaxLen: ("max_length", "maxLength"),
}


class Spec(BaseModel):
    """Fields of a file: ``None`` means absent, so answers leave them out."""

    model_config = ConfigDict(extra="forbid")

    @model_serializer(mode="wrap")
    def _without_none(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        return {key: value for key, value in data.items() if value is not None}


def _documentation(infos: list[Any]) -> dict[str, Any]:
    """The description and the JSON schema keywords of a type's metadata."""
    found: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    constraints = list(infos)
    for info in infos:
        if isinstance(info, FieldInfo):
            if info.description:
                found["description"] = info.description
            if isinstance(info.json_schema_extra, dict):
                extra.update(info.json_schema_extra)
            constraints += info.metadata
    for item in constraints:
        for kind, (attribute, keyword) in _KEYWORDS.items():
            if isinstance(item, kind):
                extra[keyword] = getattr(item, attribute)
    if extra:
        found["json_schema_extra"] = extra
    return found


def _documented(json_type: Any, infos: list[Any]) -> Any:
    found = _documentation(infos)
    return Annotated[json_type, Field(**found)] if found else json_type


def _json_type(annotation: Any) -> Any:
    """The JSON-side type of a model type (constraints as documentation only)."""
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is Annotated:
        return _documented(_json_type(args[0]), list(annotation.__metadata__))
    if origin in (Union, types.UnionType):
        kept = [arg for arg in args if arg is not type(None)]
        if all(arg in _TEXT_TYPES for arg in kept):
            return str
        if len(kept) == 1:
            return _json_type(kept[0])
        raise TypeError(f"no JSON type for {annotation!r}")
    if origin is tuple and len(set(args)) == 1 and args[0] is not Ellipsis:
        items = _json_type(args[0])
        size = len(args)
        return Annotated[list[items], Field(min_length=size, max_length=size)]  # type: ignore[valid-type]
    if origin is list or (origin is tuple and len(args) == 2 and args[1] is Ellipsis):
        return list[_json_type(args[0])]  # type: ignore[misc]
    if origin is dict:
        return dict[_json_type(args[0]), _json_type(args[1])]  # type: ignore[misc]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return spec_model(annotation)
    if annotation in _TEXT_TYPES:
        return str
    if annotation in (str, int, bool):
        return annotation
    raise TypeError(f"no JSON type for {annotation!r}")


@functools.cache
def spec_model(model: type[BaseModel]) -> type[Spec]:
    """The spec model of a file model: same fields, JSON types, ``None`` for absent.

    Named after the model (``NetworkFile`` -> ``NetworkSpec``, ``Connection`` ->
    ``ConnectionSpec``); required fields stay required. One spec per model (a
    nested model is the same class wherever it is used).
    """
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        json_type = _json_type(info.annotation)
        found = _documentation([info])
        if info.is_required():
            fields[name] = (json_type, Field(**found))
        else:
            fields[name] = (json_type | None, Field(None, **found))
    return create_model(
        re.sub(r"(File|Spec)?$", "Spec", model.__name__, count=1),
        __base__=Spec,
        __doc__=model.__doc__,
        __module__=__name__,
        **fields,
    )


if TYPE_CHECKING:
    # To the type checker, a spec is a spec: handlers never read its fields.
    NetworkSpec = Spec
    NodeSpec = Spec
    ConnectionSpec = Spec
else:
    NetworkSpec = spec_model(NetworkFile)
    NodeSpec = spec_model(NodeFile)
    ConnectionSpec = spec_model(Connection)


def spec_data(spec: BaseModel) -> dict[str, Any]:
    """A spec as the plain data of its file (unset and None fields left out)."""
    return spec.model_dump(mode="json", exclude_none=True)


__all__ = [
    "ConnectionSpec",
    "NetworkSpec",
    "NodeSpec",
    "Spec",
    "spec_data",
    "spec_model",
]
