"""Names of networks and nodes: one grammar, and errors that say why."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drago.model.names import DEVICE_NAMES, NAME_PATTERN, file_path, is_name, name_problem
from tests.model.repo import example_text, problems

DEVICES = ["con", "prn", "aux", "nul", *(f"com{d}" for d in range(10)), "lpt1", "lpt9"]


@pytest.mark.parametrize("name", DEVICES)
def test_windows_device_names_are_refused_with_the_reason(name: str) -> None:
    problem = name_problem(name)
    assert problem is not None
    assert "Windows device name" in problem and f"{name}.toml" in problem
    with pytest.raises(ValueError, match="Windows"):
        file_path("nodes", name)


@pytest.mark.parametrize(("name", "end"), [("edge-", "end"), ("a--", "end"), ("-a", "start")])
def test_names_start_and_end_with_a_letter_or_digit(name: str, end: str) -> None:
    assert (
        name_problem(name) == f"{name!r} is not a valid name: it must {end} with a letter or digit"
    )


@pytest.mark.parametrize(
    "name", ["a", "0", "fra-1", "a--b", "console", "con-1", "com10", "lpt", "nul1", "x" * 63]
)
def test_valid_names(name: str) -> None:
    assert name_problem(name) is None
    assert file_path("networks", name) == f"networks/{name}.toml"


def test_too_long_and_other_characters() -> None:
    assert "longer than 63 characters" in (name_problem("x" * 64) or "")
    assert "starting and ending with a letter or digit" in (name_problem("a_b") or "")


@given(st.text(alphabet="abcilmnoprtuxz0123456789-", max_size=66))
def test_the_pattern_and_the_check_agree(value: str) -> None:
    """The pattern (OpenAPI, JSON Schema) and the check are the same grammar."""
    by_pattern = re.fullmatch(NAME_PATTERN, value) is not None
    assert by_pattern == is_name(value) == (name_problem(value) is None)
    assert by_pattern == (
        0 < len(value) <= 63 and value[0] != "-" and value[-1] != "-" and value not in DEVICE_NAMES
    )


@pytest.mark.parametrize("name", ["nul", "edge-"])
def test_repository_files_with_such_names_are_refused(name: str) -> None:
    found = problems({f"nodes/{name}.toml": example_text("nodes/muc-1.toml").encode()})
    assert found == [f"nodes/{name}.toml: invalid file name: {name_problem(name)}"]
