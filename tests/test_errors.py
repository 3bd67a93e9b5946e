"""The one error hierarchy: a ConfigError's problem list is bounded."""

from __future__ import annotations

from drago.errors import MAX_PROBLEMS, ConfigError, Problem


def many(count: int) -> list[Problem]:
    return [Problem(f"nodes/n{i:05}.toml", "endpoint", "is not valid") for i in range(count)]


def test_a_long_problem_list_ends_with_how_many_more() -> None:
    error = ConfigError(many(MAX_PROBLEMS + 250))
    assert len(error.problems) == MAX_PROBLEMS + 1
    assert str(error.problems[0]) == "nodes/n00000.toml: endpoint: is not valid"
    assert str(error.problems[-1]) == "... and 250 more problems"
    assert len(error.details) == MAX_PROBLEMS + 1
    assert error.message.startswith(f"{MAX_PROBLEMS}+ problems:\n")


def test_a_cut_list_raised_again_keeps_its_count() -> None:
    again = ConfigError(ConfigError(many(MAX_PROBLEMS + 7)).problems)
    assert len(again.problems) == MAX_PROBLEMS + 1
    assert str(again.problems[-1]) == "... and 7 more problems"


def test_a_short_list_is_kept_whole() -> None:
    error = ConfigError(many(3))
    assert [str(p) for p in error.problems] == [str(p) for p in many(3)]
    assert error.message.startswith("3 problems:\n")
