"""Copies of example-repo with changes, and the problems the validator reports."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from drago.errors import ConfigError
from drago.model.directory import read_directory
from drago.model.state import SourceFile, State
from drago.model.validate import Validator

EXAMPLE = Path(__file__).resolve().parents[2] / "example-repo"


def example_files() -> list[SourceFile]:
    return read_directory(EXAMPLE)


def example_text(path: str) -> str:
    return (EXAMPLE / path).read_text()


def edit(path: str, old: str, new: str) -> dict[str, bytes | None]:
    """A change replacing ``old`` (which must occur) by ``new`` in an example file."""
    text = example_text(path)
    assert old in text, f"{old!r} not in {path}"
    return {path: text.replace(old, new, 1).encode()}


def problems(changes: Mapping[str, bytes | None]) -> list[str]:
    """Every problem (as ``path: key: message``) of example-repo with ``changes``."""
    try:
        Validator().validate_changes(example_files(), changes)
    except ConfigError as exc:
        return [str(p) for p in exc.problems]
    return []


def valid(changes: Mapping[str, bytes | None], validator: Validator | None = None) -> State:
    return (validator or Validator()).validate_changes(example_files(), changes)
