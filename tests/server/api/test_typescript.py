"""ui/src/api-types.ts is generated from the OpenAPI document and is current."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from drago.server.api.openapi import main, openapi_document
from drago.server.api.typescript import to_typescript, ts_type
from drago.server.app import app_routes

ROOT = Path(__file__).resolve().parents[3]


def _declared(source: str) -> set[str]:
    return set(re.findall(r"^export (?:interface|type) (\w+)", source, re.MULTILINE))


def test_ui_api_types_are_current() -> None:
    expected = to_typescript(openapi_document(app_routes()))
    current = (ROOT / "ui" / "src" / "api-types.ts").read_text(encoding="utf-8")
    assert current == expected, (
        "ui/src/api-types.ts is stale: run"
        " python -m drago.server.api.openapi --typescript > ui/src/api-types.ts"
    )


def test_the_ui_reads_api_shapes_only_from_the_generated_types() -> None:
    hand = _declared((ROOT / "ui" / "src" / "types.ts").read_text(encoding="utf-8"))
    generated = _declared(to_typescript(openapi_document(app_routes())))
    assert hand and "PlanOut" in generated
    assert hand & generated == set()


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "integer", "minimum": 1}, "number"),
        ({"anyOf": [{"type": "string"}, {"type": "null"}]}, "string | null"),
        ({"enum": ["ok", "degraded"]}, '"ok" | "degraded"'),
        ({"type": "array", "items": {"$ref": "#/components/schemas/PlanOut"}}, "PlanOut[]"),
        (
            {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
            "(string | number)[]",
        ),
        (
            {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2},
            "[string, string]",
        ),
        ({"type": "object", "additionalProperties": {"type": "integer"}}, "Record<string, number>"),
        (
            {"type": "object", "patternProperties": {"^[a-z]+$": {"$ref": "#/x/InterfaceSpec"}}},
            "Record<string, InterfaceSpec>",
        ),
        ({}, "unknown"),
    ],
)
def test_json_schema_to_typescript(schema: dict[str, Any], expected: str) -> None:
    assert ts_type(schema) == expected


def test_optional_and_nullable_properties() -> None:
    document = {
        "components": {
            "schemas": {
                "Thing": {
                    "type": "object",
                    "description": "A thing.",
                    "properties": {
                        "name": {"type": "string", "description": "its name"},
                        "size": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
                    },
                    "required": ["name"],
                }
            }
        }
    }
    assert to_typescript(document).endswith(
        "\n/** A thing. */\nexport interface Thing {\n  /** its name */\n  name: string;\n"
        "  size?: number | null;\n}\n"
    )


def test_command_line_prints_typescript(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--typescript"]) == 0
    assert "export interface PlanOut {" in capsys.readouterr().out
