"""The OpenAPI document describes every declared route; docs/api.md is current."""

from __future__ import annotations

from pathlib import Path

import pytest
from openapi_spec_validator import validate
from starlette.routing import Route

from drago.model.names import NAME_PATTERN
from drago.server.api.markdown import to_markdown
from drago.server.api.openapi import main, openapi_document, operations
from drago.server.app import app_routes
from tests.server.api.conftest import Api

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.anyio
async def test_served_document_describes_every_route(api: Api) -> None:
    answer = await api.get("/api/v1/openapi.json", as_=None)
    assert answer.status_code == 200
    doc = answer.json()
    assert doc["openapi"] == "3.1.0"
    declared = {(path, method.lower()) for path, method, _, _ in operations(app_routes())}
    described = {(path, method) for path, methods in doc["paths"].items() for method in methods}
    assert declared == described
    assert {r.path_format for r in app_routes() if isinstance(r, Route)} >= {
        p for p, _ in described
    }


def test_document_is_valid_openapi_3_1() -> None:
    validate(openapi_document(app_routes()))


def test_operations_carry_security_parameters_and_schemas() -> None:
    doc = openapi_document(app_routes())
    put_node = doc["paths"]["/api/v1/nodes/{node}"]["put"]
    assert put_node["security"] == [{"bearer": []}]
    assert put_node["parameters"][0] == {
        "name": "node",
        "in": "path",
        "required": True,
        "schema": {
            "type": "string",
            "pattern": f"^{NAME_PATTERN}$",
            "description": "node name",
        },
    }
    assert put_node["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/NodeWrite"
    }
    assert set(put_node["responses"]) >= {"200", "401", "403", "409", "422"}
    error = put_node["responses"]["422"]["content"]["application/json"]["schema"]
    assert error == {"$ref": "#/components/schemas/ErrorBody"}
    schemas = doc["components"]["schemas"]
    assert schemas["NodeSpec"]["properties"]["interfaces"]
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    health = doc["paths"]["/healthz"]["get"]
    assert health["security"] == []
    revisions = doc["paths"]["/api/v1/revisions"]["get"]
    assert {p["name"] for p in revisions["parameters"]} == {"path", "node", "limit", "before"}
    for ref in _refs(doc):
        assert ref.rsplit("/", 1)[-1] in schemas, ref


def _refs(value: object) -> list[str]:
    if isinstance(value, dict):
        found = [value["$ref"]] if "$ref" in value else []
        return found + [r for v in value.values() for r in _refs(v)]
    if isinstance(value, list):
        return [r for v in value for r in _refs(v)]
    return []


def test_docs_api_md_is_current() -> None:
    expected = to_markdown(openapi_document(app_routes()))
    current = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    assert current == expected, (
        "docs/api.md is stale: run python -m drago.server.api.openapi --markdown > docs/api.md"
    )


def test_command_line_prints_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--markdown"]) == 0
    assert capsys.readouterr().out.startswith("# drago REST API")
