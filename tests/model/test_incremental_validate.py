"""The shortcut of Validator.validate_changes for edits gives what validating the
whole tree gives: the same accepted state (and peer lists) or the same problems."""

from __future__ import annotations

import base64
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from drago.errors import ConfigError, Problem
from drago.model.directory import read_directory
from drago.model.load import git_blob_id
from drago.model.rules import Context
from drago.model.state import SourceFile, State
from drago.model.validate import Validator, apply_changes

SGP_KEY = "iCdOZMd07sv67WGF0jbHDwH5gRVX4rxFxef+WwenkjU="
FRA_KEY = "v/4GQk7c6xGmG93rIbzARy+d0lnpH8HktralhV/cc3I="
OTHER_KEY = "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="


@pytest.fixture
def validator() -> Validator:
    return Validator()


@pytest.fixture
def base(example_repo: Path, validator: Validator) -> list[SourceFile]:
    """The example repository as a store gives it (with blob ids), validated once."""
    files = [
        SourceFile(f.path, f.data, f.mode, git_blob_id(f.data))
        for f in read_directory(example_repo)
    ]
    validator.validate_files(files)
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


def no_full_check(validator: Validator, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object) -> list[Problem]:
        raise AssertionError("the whole tree was checked")

    monkeypatch.setattr(validator, "check_state", refuse)


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
    # fra-1 routes 10.100.0.0/16: the new endpoint would be routed into the tunnel
    "endpoint covered by a route": ("nodes/sgp-1.toml", '"sgp-1.example.net"', '"10.100.3.4"'),
    "ip endpoint": ("nodes/sgp-1.toml", '"sgp-1.example.net"', '"198.51.100.3"'),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_outcome_as_the_whole_tree(
    base: list[SourceFile], validator: Validator, case: str
) -> None:
    changes = edited(base, *CASES[case])
    quick = outcome(lambda: validator.validate_changes(base, changes))
    full = outcome(lambda: Validator().validate_files(apply_changes(base, changes)))
    assert quick == full
    refused = {"duplicate key", "address taken", "outside range", "bad toml", "unknown key"}
    if case in refused | {"endpoint covered by a route"}:
        assert isinstance(quick, list) and quick


@pytest.mark.parametrize("case", ["endpoint", "description", "new key"])
def test_edits_that_keep_peering_check_only_the_edited_files(
    base: list[SourceFile], validator: Validator, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = Validator().validate_files(apply_changes(base, edited(base, *CASES[case])))
    no_full_check(validator, monkeypatch)
    state = validator.validate_changes(base, edited(base, *CASES[case]))
    assert state == expected


def test_chained_edits_stay_on_the_shortcut(
    base: list[SourceFile], validator: Validator, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_full_check(validator, monkeypatch)
    files = base
    for i in range(5):
        old = "sgp-1.example.net" if i == 0 else f"sgp-{i}.example.net"
        changes = edited(files, "nodes/sgp-1.toml", old, f"sgp-{i + 1}.example.net")
        state = validator.validate_changes(files, changes)
        files = apply_changes(files, changes)
    assert state.nodes["sgp-1"].endpoint == "sgp-5.example.net"


def test_a_key_swapped_back_and_forth_is_checked_against_the_latest_owners(
    base: list[SourceFile], validator: Validator
) -> None:
    moved = edited(base, "keys/sgp-1.toml", SGP_KEY, OTHER_KEY)
    validator.validate_changes(base, moved)
    after = apply_changes(base, moved)
    # fra-1 may now take sgp-1's old key, but not the one sgp-1 holds now
    validator.validate_changes(after, edited(after, "keys/fra-1.toml", FRA_KEY, SGP_KEY))
    with pytest.raises(ConfigError):
        validator.validate_changes(after, edited(after, "keys/fra-1.toml", FRA_KEY, OTHER_KEY))


def test_peer_lists_of_the_base_are_shared(base: list[SourceFile], validator: Validator) -> None:
    first = validator.validate_changes(base, {})
    rows = validator.peers(first, "backbone")
    changes = edited(base, "nodes/sgp-1.toml", "sgp-1.example.net", "sgp-2.example.net")
    state = validator.validate_changes(base, changes)
    assert validator.peers(state, "backbone") is rows


def test_a_dry_view_uses_the_shortcut_but_remembers_nothing(
    base: list[SourceFile], validator: Validator, monkeypatch: pytest.MonkeyPatch
) -> None:
    dry = validator.dry()
    no_full_check(dry, monkeypatch)
    changes = edited(base, *CASES["endpoint"])
    misses = validator.parse_cache.misses
    state = dry.validate_changes(base, changes)
    assert validator.parse_cache.misses == misses + 1
    after = apply_changes(base, changes)
    # The dry run's file set was not remembered: an edit on top of it is validated whole,
    again = edited(after, "nodes/sgp-1.toml", "sgp-2.example.net", "sgp-3.example.net")
    monkeypatch.undo()
    no_full_check(validator, monkeypatch)
    with pytest.raises(AssertionError, match="whole tree"):
        validator.validate_changes(after, again)
    monkeypatch.undo()
    # ... and its edited file was not kept: parsing it again is a miss.
    full = validator.validate_files(after)
    assert validator.parse_cache.misses == misses + 3
    assert full == state
    assert dry.peers(state, "backbone") == validator.peers(full, "backbone")


def test_files_without_blob_ids_are_validated_whole(
    example_repo: Path, validator: Validator, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = read_directory(example_repo)
    validator.validate_files(files)
    no_full_check(validator, monkeypatch)
    with pytest.raises(AssertionError, match="whole tree"):
        validator.validate_changes(files, edited(files, *CASES["endpoint"]))


def test_a_base_out_of_order_is_validated_whole(
    base: list[SourceFile], validator: Validator, monkeypatch: pytest.MonkeyPatch
) -> None:
    changes = edited(base, *CASES["endpoint"])
    expected = Validator().validate_files(apply_changes(base, changes))
    shuffled = list(reversed(base))
    calls: list[int] = []
    original = validator.check_state

    def counting(ctx: Context) -> list[Problem]:
        calls.append(1)
        return original(ctx)

    monkeypatch.setattr(validator, "check_state", counting)
    assert validator.validate_changes(shuffled, changes) == expected
    assert calls == [1]


# -- property: random repositories and random edits ----------------------------------

NODES = [f"n{i}" for i in range(5)]
KEYS = [base64.b64encode(bytes([i + 1]) * 32).decode() for i in range(len(NODES))]
SELECTORS = ["*", "*", "*", "*", "role=a", "role=b", "n0"]
PREFIX = {"n": "10.0", "m": "10.1"}


@st.composite
def node_text(draw: st.DrawFn, index: int) -> str:
    """Node ``index``: its own address and route, so most repositories are valid."""
    lines = [f'description = "{draw(st.sampled_from(["x", "y"]))}"']
    if draw(st.booleans()):
        lines.append(f'endpoint = "{draw(st.sampled_from(["a.example", "b.example"]))}"')
    lines.append(f'labels = {{ role = "{draw(st.sampled_from(["a", "b"]))}" }}')
    for network in ["n", "m"] if draw(st.booleans()) else ["n"]:
        lines.append(f"[interfaces.{network}]")
        lines.append(f'address = "{PREFIX[network]}.0.{index + 1}/16"')
        if draw(st.booleans()):
            lines.append(f'routes = ["192.168.{index}.0/24"]')
        if draw(st.booleans()):
            lines.append(f"persistent_keepalive = {draw(st.sampled_from([0, 25]))}")
    return "\n".join(lines) + "\n"


def keys_text(index: int, networks: list[str]) -> str:
    return "".join(
        f'[interfaces.{network}]\npublic_key = "{KEYS[index]}"\n' for network in networks
    )


@st.composite
def network_text(draw: st.DrawFn, network: str) -> str:
    port = 51820 + sorted(PREFIX).index(network)
    lines = [f'address_range = "{PREFIX[network]}.0.0/16"\nlisten_port = {port}']
    for _ in range(draw(st.integers(0, 2))):
        ends = draw(st.lists(st.sampled_from(SELECTORS), min_size=2, max_size=2))
        lines.append(f'[[connections]]\nbetween = ["{ends[0]}", "{ends[1]}"]')
        if draw(st.integers(0, 7)) == 0:
            lines.append(f'allowed_ips = {{ "{ends[1]}" = ["172.16.0.0/24"] }}')
    return "\n".join(lines) + "\n"


def networks_of(node: str) -> list[str]:
    return [n for n in sorted(PREFIX) if f"[interfaces.{n}]" in node]


@st.composite
def repository(draw: st.DrawFn) -> list[SourceFile]:
    files: dict[str, bytes | None] = {
        f"networks/{network}.toml": draw(network_text(network)).encode() for network in PREFIX
    }
    for index in sorted(draw(st.sets(st.integers(0, len(NODES) - 1), min_size=2))):
        node = draw(node_text(index))
        files[f"nodes/{NODES[index]}.toml"] = node.encode()
        if draw(st.integers(0, 3)) > 0:
            files[f"keys/{NODES[index]}.toml"] = keys_text(index, networks_of(node)).encode()
    return apply_changes([], files)


TWEAKS = [
    ('"x"', '"y"'),
    ("a.example", "b.example"),
    ('role = "a"', 'role = "b"'),
    (".0.1/16", ".0.2/16"),
    ("= 25", "= 0"),
    ("192.168.1.", "192.168.2."),
    ("[interfaces.n]\npublic", "[interfaces.gone]\npublic"),
    *((KEYS[i], KEYS[i + 1]) for i in range(len(KEYS) - 1)),
]


@st.composite
def edit_of(draw: st.DrawFn, files: list[SourceFile]) -> dict[str, bytes | None]:
    """Mostly small edits of existing files (what the shortcut takes); also new
    files, deletions, network edits and broken files (what it must refuse)."""
    changes: dict[str, bytes | None] = {}
    for _ in range(draw(st.integers(1, 2))):
        kind = draw(st.sampled_from(["tweak"] * 5 + ["rewrite", "add", "delete", "bad"]))
        source = draw(st.sampled_from(files))
        index = draw(st.integers(0, len(NODES) - 1))
        if kind == "tweak":  # one value replaced by another
            old, new = draw(st.sampled_from(TWEAKS))
            changes[source.path] = source.data.replace(old.encode(), new.encode())
        elif kind == "rewrite" and source.path.startswith("networks/"):
            changes[source.path] = draw(network_text(source.path[9:-5])).encode()
        elif kind in {"rewrite", "add"}:
            changes[f"nodes/{NODES[index]}.toml"] = draw(node_text(index)).encode()
        elif kind == "delete":
            changes[source.path] = None
        else:
            changes[source.path] = b"description = [\n"
    return changes


def full_outcome(files: list[SourceFile]) -> State | list[Problem]:
    return outcome(lambda: Validator().validate_files(files))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_incremental_validation_equals_full_validation(data: st.DataObject) -> None:
    """Whatever the repository and the chain of edits: the validator's answer (through
    the shortcut whenever it applies) is the whole tree's, both the accepted state
    and the problems, and the peer lists it hands out are the whole tree's."""
    validator = Validator()
    taken: list[bool] = []
    edit = validator.validate_edit

    def spy(*args: Any) -> State | None:
        state = edit(*args)
        taken.append(state is not None)
        return state

    setattr(validator, "validate_edit", spy)  # noqa: B010 (a method, for the test only)
    files = data.draw(repository())
    outcome(partial(validator.validate_files, files))
    for _ in range(data.draw(st.integers(1, 4))):
        changes = data.draw(edit_of(files))
        after = apply_changes(files, changes)
        quick = outcome(partial(validator.validate_changes, files, changes))
        event("shortcut" if taken[-1] else "whole tree")
        full = full_outcome(after)
        assert quick == full
        if isinstance(quick, State):
            assert isinstance(full, State)
            reference = Validator()
            for network in quick.networks:
                assert validator.peers(quick, network) == reference.peers(full, network)
            files = after
