"""docs/schema.md documents every key of every file."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from drago.model.schema import Connection, InterfaceSpec, KeyEntry, KeysFile, NetworkFile, NodeFile

SCHEMA_DOC = Path(__file__).resolve().parents[2] / "docs" / "schema.md"


@pytest.mark.parametrize(
    "model", [NetworkFile, Connection, NodeFile, InterfaceSpec, KeysFile, KeyEntry]
)
def test_every_key_is_documented(model: type[BaseModel]) -> None:
    text = SCHEMA_DOC.read_text()
    missing = [
        key for key in model.model_fields if f"| `{key}` |" not in text and f".{key}` |" not in text
    ]
    assert missing == []
