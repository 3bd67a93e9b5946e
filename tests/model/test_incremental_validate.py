"""The shortcut of validate_changes for edits gives what validating the whole tree gives."""

from __future__ import annotations

from pathlib import Path

import pytest

import drago.model.validate as validate_module
from drago.errors import ConfigError, Problem
from drago.model.directory import read_directory
from drago.model.load import git_blob_id
from drago.model.state import SourceFile, State
from drago.model.topology import peers_of
from drago.model.validate import apply_changes, validate_changes, validate_files

SGP_KEY = "iCdOZMd07sv67WGF0jbHDwH5gRVX4rxFxef+WwenkjU="
FRA_KEY = "v/4GQk7c6xGmG93rIbzARy+d0lnpH8HktralhV/cc3I="
OTHER_KEY = "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="


@pytest.fixture
def base(example_repo: Path) -> list[SourceFile]:
    """The example repository as a store gives it (with blob ids), validated once."""
    files = [
        SourceFile(f.path, f.data, f.mode, git_blob_id(f.data))
        for f in read_directory(example_repo)
    ]
    validate_files(files)
    return files


def edited(files: list[SourceFile], path: str, old: str, new: str) -> dict[str, bytes | None]:
    data = next(f.data for f in files if f.path == path)
    assert old.encode() in data
    return {path: data.replace(old.encode(), new.encode())}


def outcome(call: object) -> State | list[Problem]:
    assert callable(call)
    try:
        result = call()
    except ConfigError as exc:
        return list(exc.problems)
    assert isinstance(result, State)
    return result


def no_full_check(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object) -> list[Problem]:
        raise AssertionError("the whole tree was checked")

    monkeypatch.setattr(validate_module, "check_state", refuse)


CASES = {
    "endpoint": ("nodes/sgp-1.toml", "sgp-1.example.net", "sgp-2.example.net"),
    "description": ("nodes/sgp-1.toml", "Singapore gateway", "Singapore"),
    "new key": ("keys/sgp-1.toml", SGP_KEY, OTHER_KEY),
    "duplicate key": ("keys/sgp-1.toml", SGP_KEY, FRA_KEY),
    "address": ("nodes/sgp-1.toml", "10.20.0.3/16", "10.20.0.9/16"),
    "address taken": ("nodes/sgp-1.toml", "10.20.0.3/16", "10.20.0.1/16"),
    "outside range": ("nodes/sgp-1.toml", "10.20.0.3/16", "10.99.0.3/16"),
    "label": ("nodes/sgp-1.toml", 'role = "core"', 'role = "edge"'),
    "key of a foreign network": ("keys/sgp-1.toml", "[interfaces.backbone]", "[interfaces.site]"),
    "bad toml": ("nodes/sgp-1.toml", "endpoint =", "endpoint"),
    "unknown key": ("nodes/sgp-1.toml", "endpoint =", "endpointt ="),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_outcome_as_the_whole_tree(base: list[SourceFile], case: str) -> None:
    changes = edited(base, *CASES[case])
    quick = outcome(lambda: validate_changes(base, changes))
    full = outcome(lambda: validate_files(apply_changes(base, changes)))
    assert quick == full
    if case in {"duplicate key", "address taken", "outside range", "bad toml", "unknown key"}:
        assert isinstance(quick, list) and quick


@pytest.mark.parametrize("case", ["endpoint", "description", "new key"])
def test_edits_that_keep_peering_check_only_the_edited_files(
    base: list[SourceFile], case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = validate_files(apply_changes(base, edited(base, *CASES[case])))
    no_full_check(monkeypatch)
    state = validate_changes(base, edited(base, *CASES[case]))
    assert state == expected


def test_chained_edits_stay_on_the_shortcut(
    base: list[SourceFile], monkeypatch: pytest.MonkeyPatch
) -> None:
    no_full_check(monkeypatch)
    files = base
    for i in range(5):
        old = "sgp-1.example.net" if i == 0 else f"sgp-{i}.example.net"
        changes = edited(files, "nodes/sgp-1.toml", old, f"sgp-{i + 1}.example.net")
        state = validate_changes(files, changes)
        files = apply_changes(files, changes)
    assert state.nodes["sgp-1"].endpoint == "sgp-5.example.net"


def test_a_key_swapped_back_and_forth_is_checked_against_the_latest_owners(
    base: list[SourceFile],
) -> None:
    moved = edited(base, "keys/sgp-1.toml", SGP_KEY, OTHER_KEY)
    validate_changes(base, moved)
    after = apply_changes(base, moved)
    # fra-1 may now take sgp-1's old key, but not the one sgp-1 holds now
    validate_changes(after, edited(after, "keys/fra-1.toml", FRA_KEY, SGP_KEY))
    with pytest.raises(ConfigError):
        validate_changes(after, edited(after, "keys/fra-1.toml", FRA_KEY, OTHER_KEY))


def test_peer_lists_of_the_base_are_shared(base: list[SourceFile]) -> None:
    first = validate_changes(base, {})
    rows = peers_of(first, "backbone")
    changes = edited(base, "nodes/sgp-1.toml", "sgp-1.example.net", "sgp-2.example.net")
    state = validate_changes(base, changes)
    assert peers_of(state, "backbone") is rows


def test_files_without_blob_ids_are_validated_whole(
    example_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = read_directory(example_repo)
    validate_files(files)
    no_full_check(monkeypatch)
    with pytest.raises(AssertionError, match="whole tree"):
        validate_changes(files, edited(files, *CASES["endpoint"]))


def test_a_base_out_of_order_is_validated_whole(
    base: list[SourceFile], monkeypatch: pytest.MonkeyPatch
) -> None:
    changes = edited(base, *CASES["endpoint"])
    expected = validate_files(apply_changes(base, changes))
    shuffled = list(reversed(base))
    calls: list[int] = []
    original = validate_module.check_state

    def counting(*args: object) -> list[Problem]:
        calls.append(1)
        return original(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(validate_module, "check_state", counting)
    assert validate_changes(shuffled, changes) == expected
    assert calls == [1]
