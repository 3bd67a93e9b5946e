"""The UI's API types (``ui/src/api-types.ts``), generated from the OpenAPI document.

Every schema of the document's components becomes a TypeScript type of the same
name: an object with properties an ``interface`` (a property not in
``required`` is optional, a nullable one ``| null``), anything else a ``type``.
Descriptions become doc comments. The output depends on the document alone, so
``tests/server/api/test_typescript.py`` compares the committed file with a fresh
generation and fails when they drift.

``python -m drago.server.api.openapi --typescript > ui/src/api-types.ts``
"""

from __future__ import annotations

import json
from typing import Any

from drago.server.api.markdown import bounds, description_of

HEADER = """\
// Shapes of the drago REST API (/api/v1), generated from its OpenAPI document by
// `python -m drago.server.api.openapi --typescript > ui/src/api-types.ts`;
// do not edit by hand (a test fails when this file is stale).
"""
PRIMITIVES = {"string": "string", "integer": "number", "number": "number", "boolean": "boolean"}


def _union(parts: list[str]) -> str:
    unique = list(dict.fromkeys(parts))
    return " | ".join(unique) if unique else "never"


def _element(schema: dict[str, Any]) -> str:
    """A type that can be followed by ``[]``."""
    text = ts_type(schema)
    return f"({text})" if " | " in text else text


def ts_type(schema: dict[str, Any]) -> str:
    """The TypeScript type of a JSON schema (references by their component name)."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    parts: list[dict[str, Any]] = schema.get("anyOf", schema.get("oneOf", []))
    if parts:
        return _union([ts_type(part) for part in parts])
    if "enum" in schema:
        return _union([json.dumps(value) for value in schema["enum"]])
    if "const" in schema:
        return json.dumps(schema["const"])
    kind = schema.get("type")
    if isinstance(kind, list):
        return _union([ts_type({**schema, "type": one}) for one in kind])
    if kind in PRIMITIVES:
        return PRIMITIVES[kind]
    if kind == "null":
        return "null"
    if kind == "array":
        return _array(schema)
    if kind == "object":
        return _object(schema, indent="")
    return "unknown"


def _array(schema: dict[str, Any]) -> str:
    if "prefixItems" in schema:
        return f"[{', '.join(ts_type(item) for item in schema['prefixItems'])}]"
    items = schema.get("items", {})
    size = schema.get("minItems")
    if size is not None and size == schema.get("maxItems") and size <= 4:
        return f"[{', '.join([ts_type(items)] * size)}]"
    return f"{_element(items)}[]"


def _object(schema: dict[str, Any], indent: str) -> str:
    properties: dict[str, Any] = schema.get("properties", {})
    if properties:
        return "{\n" + _members(schema, indent + "  ") + indent + "}"
    values = schema.get("additionalProperties")
    if isinstance(values, dict):
        return f"Record<string, {ts_type(values)}>"
    patterns: dict[str, Any] = schema.get("patternProperties", {})
    if patterns:
        return f"Record<string, {_union([ts_type(v) for v in patterns.values()])}>"
    return "Record<string, unknown>"


def _comment(text: str, indent: str) -> str:
    lines = text.replace("*/", "* /").strip().splitlines()
    if len(lines) == 1:
        return f"{indent}/** {lines[0]} */\n"
    body = "".join(f"{indent} * {line}".rstrip() + "\n" for line in lines)
    return f"{indent}/**\n{body}{indent} */\n"


def _property_doc(schema: dict[str, Any]) -> str:
    """A property's description with the constraints of its (non-null) type."""
    variants = [v for v in schema.get("anyOf", [schema]) if v.get("type") != "null"]
    shown = bounds(variants[0]) if len(variants) == 1 else ""
    text = description_of(schema)
    if shown:
        return f"{text} ({shown})" if text else shown
    return text


def _members(schema: dict[str, Any], indent: str) -> str:
    required = set(schema.get("required", []))
    out = ""
    for name, sub in schema.get("properties", {}).items():
        doc = _property_doc(sub)
        if doc:
            out += _comment(doc, indent)
        optional = "" if name in required else "?"
        out += f"{indent}{name}{optional}: {ts_type(sub)};\n"
    return out


def to_typescript(document: dict[str, Any]) -> str:
    """The TypeScript module declaring every component schema of ``document``."""
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    blocks: list[str] = []
    for name in sorted(schemas):
        schema = schemas[name]
        doc = _comment(schema["description"], "") if schema.get("description") else ""
        if schema.get("type") == "object" and schema.get("properties"):
            blocks.append(f"{doc}export interface {name} {{\n{_members(schema, '  ')}}}\n")
        else:
            blocks.append(f"{doc}export type {name} = {ts_type(schema)};\n")
    return HEADER + "".join(f"\n{block}" for block in blocks)
