"""The API's spec models are derived from the files' models: same fields, JSON types,
the models' descriptions and constraints in the schema, shapes read strictly."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from drago.model.schema import Connection, InterfaceSpec, NetworkFile, NodeFile
from drago.server.api.specs import ConnectionSpec, NetworkSpec, NodeSpec, spec_data, spec_model

PAIRS = [(NetworkFile, NetworkSpec), (NodeFile, NodeSpec), (Connection, ConnectionSpec)]


@pytest.mark.parametrize(("model", "spec"), PAIRS)
def test_a_spec_has_its_files_fields(model: type[BaseModel], spec: type[BaseModel]) -> None:
    assert list(spec.model_fields) == list(model.model_fields)
    required = {name for name, info in model.model_fields.items() if info.is_required()}
    assert {name for name, info in spec.model_fields.items() if info.is_required()} == required


def _property(spec: type[BaseModel], name: str) -> dict[str, Any]:
    schema: dict[str, Any] = spec.model_json_schema()["properties"][name]
    return schema


def test_constraints_and_descriptions_come_from_the_model() -> None:
    interface = spec_model(InterfaceSpec)
    port = _property(interface, "listen_port")["anyOf"][0]
    assert (port["type"], port["minimum"], port["maximum"]) == ("integer", 1, 65535)
    mtu = _property(interface, "mtu")["anyOf"][0]
    assert (mtu["minimum"], mtu["maximum"]) == (576, 65535)
    assert _property(interface, "ifname")["pattern"].startswith("^[A-Za-z0-9_]")
    routes = _property(interface, "routes")
    assert routes["anyOf"][0]["items"] == {
        "type": "string",
        "description": "CIDR, like 10.20.0.0/16",
    }
    between = _property(ConnectionSpec, "between")
    assert (between["minItems"], between["maxItems"]) == (2, 2)
    assert _property(NetworkSpec, "address_range")["description"].startswith("CIDR")


def test_a_spec_checks_shapes_strictly_and_leaves_values_to_the_validator() -> None:
    with pytest.raises(ValidationError):
        NetworkSpec.model_validate(
            {"address_range": "10.0.0.0/8", "listen_port": "51820"}, strict=True
        )
    with pytest.raises(ValidationError):
        ConnectionSpec.model_validate({"between": ["a"]}, strict=True)
    with pytest.raises(ValidationError):
        NodeSpec.model_validate({"colour": "red"}, strict=True)
    # an out-of-range port is the validator's problem (path: key: message), not a shape error
    spec = NetworkSpec.model_validate(
        {"address_range": "10.0.0.0/33", "listen_port": 0}, strict=True
    )
    assert spec_data(spec) == {"address_range": "10.0.0.0/33", "listen_port": 0}


def test_a_spec_leaves_absent_fields_out() -> None:
    data = {"interfaces": {"backbone": {"address": "10.0.0.1/24", "routes": ["10.1.0.0/16"]}}}
    spec = NodeSpec.model_validate(data, strict=True)
    assert spec.model_dump(mode="json") == data
