"""Config deltas: base + delta == new with the hash verified, and every corrupted
delta refused (DeltaMismatch or a validation error), never a config."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from drago.errors import DeltaMismatch
from drago.render import render_state
from drago.render.config import NodeConfig
from drago.render.delta import ConfigDelta, apply_delta, make_delta
from tests.render.states import key_for, mesh
from tests.render.test_properties import FAST, build, states

CORPUS: list[dict[str, str]] = json.loads(
    (Path(__file__).parent / "hostile_corpus.json").read_text()
)


def config(**changes: Any) -> NodeConfig:
    """fra-1 with two interfaces; ``changes`` replace top-level keys of the JSON."""
    peers = [
        {
            "name": name,
            "public_key": key_for(name),
            "endpoint": f"{name}.example.net:51820",
            "allowed_ips": [f"10.20.0.{i + 2}/32"],
            "persistent_keepalive": 25,
        }
        for i, name in enumerate(["ams-1", "lon-1", "nyc-1"])
    ]
    document: dict[str, Any] = {
        "node": "fra-1",
        "interfaces": [
            {
                "network": "backbone",
                "ifname": "wg-backbone",
                "address": "10.20.0.1/16",
                "listen_port": 51820,
                "mtu": 1420,
                "dns": ["10.20.0.53"],
                "public_key": key_for("fra-1"),
                "peers": peers,
                "pending_peers": [{"name": "sgp-1", "reason": "no public key registered"}],
            },
            {
                "network": "site",
                "ifname": "wg-site",
                "address": "10.30.0.1/24",
                "listen_port": 51821,
                "peers": peers[:1],
            },
        ],
    }
    document.update(changes)
    return NodeConfig.model_validate(document)


def changed() -> NodeConfig:
    """:func:`config` with one peer changed, one added, one removed, an interface
    field changed, the site interface gone and a new one."""
    base = json.loads(config().to_json(None))
    backbone = base["interfaces"][0]
    backbone["peers"][0]["endpoint"] = "192.0.2.9:51820"
    del backbone["peers"][1]
    backbone["peers"].append({"name": "par-1", "public_key": key_for("par-1")})
    backbone["mtu"] = None
    office = {
        "network": "office",
        "ifname": "wg-office",
        "address": "10.40.0.1/24",
        "listen_port": 51822,
        "peers": [],
    }
    return NodeConfig.model_validate(
        {"node": "fra-1", "interfaces": [backbone, office], "revision": "r2"}
    )


def delta_json() -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(make_delta(config(), changed()).to_json())
    return parsed


def test_the_delta_names_exactly_what_changed() -> None:
    delta = delta_json()
    assert delta["base"] == config().hash and delta["hash"] == changed().hash
    assert delta["revision"] == "r2"
    assert delta["remove_interfaces"] == ["site"]
    backbone, office = delta["interfaces"]
    assert backbone["network"] == "backbone"
    assert backbone["set"] == {"mtu": None}
    assert [p["name"] for p in backbone["peers"]] == ["ams-1", "par-1"]
    assert backbone["remove_peers"] == ["lon-1"]
    assert office["network"] == "office"
    assert set(office["set"]) == {
        "ifname",
        "address",
        "listen_port",
        "mtu",
        "dns",
        "public_key",
        "pending_peers",
    }
    assert "peers" not in office and "remove_peers" not in office


def test_applying_gives_the_new_config_and_reuses_unchanged_peers() -> None:
    base = config()
    result = apply_delta(base, ConfigDelta.model_validate(delta_json()))
    assert result == changed()
    assert result.hash == changed().hash == result.content_hash()
    assert result.revision == "r2"
    assert result.to_json() == changed().to_json()
    nyc = result.interfaces[0].peers[1]
    assert nyc.name == "nyc-1" and nyc is base.interfaces[0].peers[2]


def test_an_empty_delta_keeps_the_config() -> None:
    base = config()
    delta = make_delta(base, base)
    assert delta.interfaces == () and delta.remove_interfaces == ()
    assert apply_delta(base, delta) == base


@FAST
@given(states(), states())
def test_base_plus_delta_is_new_for_random_config_pairs(left: Any, right: Any) -> None:
    a = render_state(build(left), "r1")
    b = render_state(build(right), "r2")
    for node in sorted(set(a) & set(b)):
        base, new = a[node], b[node]
        body = make_delta(base, new).to_json()
        delta = ConfigDelta.model_validate_json(body)
        assert delta.to_json() == body
        result = apply_delta(base, delta)
        assert result == new
        assert result.hash == new.hash == result.content_hash()
        assert result.to_json() == new.to_json()


@FAST
@given(states(), states())
def test_a_delta_never_applies_to_another_base(left: Any, right: Any) -> None:
    a = render_state(build(left), "r1")
    b = render_state(build(right), "r2")
    for node in sorted(set(a) & set(b)):
        if a[node].hash == b[node].hash:
            continue
        with pytest.raises(DeltaMismatch):
            apply_delta(b[node], make_delta(a[node], b[node]))


def corrupted(change: str) -> dict[str, Any]:
    delta = delta_json()
    backbone = delta["interfaces"][0]
    if change == "base":
        delta["base"] = changed().hash
    elif change == "hash":
        delta["hash"] = config().hash
    elif change == "node":
        delta["node"] = "nyc-1"
    elif change == "remove a missing peer":
        backbone["remove_peers"].append("zzz-1")
    elif change == "remove a missing interface":
        delta["remove_interfaces"].append("nowhere")
    elif change == "a new interface lacks a field":
        del delta["interfaces"][1]["set"]["dns"]
    elif change == "a peer changed on the way":
        backbone["peers"][0]["persistent_keepalive"] = 26
    elif change == "a field changed on the way":
        backbone["set"]["mtu"] = 1400
    elif change == "a removal left out":
        del backbone["remove_peers"]
    return delta


@pytest.mark.parametrize(
    "change",
    [
        "base",
        "hash",
        "node",
        "remove a missing peer",
        "remove a missing interface",
        "a new interface lacks a field",
        "a peer changed on the way",
        "a field changed on the way",
        "a removal left out",
    ],
)
def test_a_corrupted_delta_is_a_mismatch(change: str) -> None:
    with pytest.raises(DeltaMismatch):
        apply_delta(config(), ConfigDelta.model_validate(corrupted(change)))


@pytest.mark.parametrize(
    "change",
    [
        {"interfaces": [{"network": "backbone", "set": {"ifname": None}}]},
        {"interfaces": [{"network": "backbone", "set": {"listen_port": "51820"}}]},
        {"interfaces": [{"network": "backbone", "set": {"colour": "red"}}]},
        {"interfaces": [{"network": "backbone", "remove_peers": ["a", "a"]}]},
        {"interfaces": [{"network": "backbone"}, {"network": "backbone"}]},
        {"interfaces": [{"network": "site"}], "remove_interfaces": ["site"]},
        {"extra": 1},
        {"base": ""},
        {"hash": "ABC"},
    ],
)
def test_a_malformed_delta_is_refused_by_the_parser(change: dict[str, Any]) -> None:
    delta = {**delta_json(), **change}
    with pytest.raises(ValidationError):
        ConfigDelta.model_validate_json(json.dumps(delta))


def test_a_peer_both_set_and_removed_is_refused() -> None:
    delta = delta_json()
    delta["interfaces"][0]["remove_peers"].append("ams-1")
    with pytest.raises(ValidationError, match="both set and removed"):
        ConfigDelta.model_validate(delta)


#: Where each kind of hostile value could arrive in a delta.
SLOTS: dict[str, list[tuple[str | int, ...]]] = {
    "node endpoint": [("interfaces", 0, "peers", 0, "endpoint")],
    "interface address": [("interfaces", 1, "set", "address")],
    "address range": [("interfaces", 1, "set", "address")],
    "interface route": [("interfaces", 0, "peers", 0, "allowed_ips", 0)],
    "connection allowed ips": [("interfaces", 0, "peers", 0, "allowed_ips", 0)],
    "interface dns": [("interfaces", 1, "set", "dns", 0)],
    "network dns": [("interfaces", 1, "set", "dns", 0)],
    "public key": [
        ("interfaces", 0, "peers", 0, "public_key"),
        ("interfaces", 1, "set", "public_key"),
    ],
    "interface ifname": [("interfaces", 1, "set", "ifname")],
    "label value": [("interfaces", 0, "peers", 1, "name"), ("interfaces", 0, "network")],
    "connection end": [("interfaces", 0, "remove_peers", 0), ("remove_interfaces", 0)],
    "node description": [("interfaces", 1, "set", "pending_peers", 0, "reason")],
    "network description": [("revision",)],
    "connection description": [("node",)],
}


def with_value(document: dict[str, Any], slot: tuple[str | int, ...], value: str) -> None:
    place: Any = document
    for step in slot[:-1]:
        place = place[step]
    place[slot[-1]] = value


@pytest.mark.parametrize("case", CORPUS, ids=lambda c: f"{c['field']}:{c['value']!r}")
def test_a_hostile_value_in_a_delta_never_produces_a_config(case: dict[str, str]) -> None:
    for slot in SLOTS[case["field"]]:
        delta = delta_json()
        delta["interfaces"][1]["set"]["dns"] = ["10.40.0.53"]
        delta["interfaces"][1]["set"]["pending_peers"] = [{"name": "x-1"}]
        with_value(delta, slot, case["value"])
        with pytest.raises((ValidationError, DeltaMismatch)):
            apply_delta(config(), ConfigDelta.model_validate_json(json.dumps(delta)))


def test_a_one_peer_delta_in_a_large_mesh_is_small_and_applies() -> None:
    state = mesh(300)
    before = render_state(state, "r1")["n0"]
    after = json.loads(before.to_json("r2"))
    peer = after["interfaces"][0]["peers"][7]
    peer["endpoint"] = "192.0.2.77:51820"
    new = NodeConfig.model_validate({k: v for k, v in after.items() if k != "hash"})
    body = make_delta(before, new).to_json()
    assert len(body) < 1024 < len(new.to_json()) // 30
    result = apply_delta(before, ConfigDelta.model_validate_json(body))
    assert result == new
    same = sum(
        a is b for a, b in zip(result.interfaces[0].peers, before.interfaces[0].peers, strict=True)
    )
    assert same == len(before.interfaces[0].peers) - 1


def test_applying_leaves_the_base_alone() -> None:
    base = config()
    kept = copy.deepcopy(base.model_dump())
    apply_delta(base, ConfigDelta.model_validate(delta_json()))
    assert base.model_dump() == kept


def big_document(peers: int, interfaces: tuple[str, ...] = ("backbone", "site")) -> dict[str, Any]:
    """A config of fra-1 with ``peers`` peers per interface (more than a hash chunk)."""
    return {
        "node": "fra-1",
        "interfaces": [
            {
                "network": network,
                "ifname": f"wg-{network}",
                "address": f"10.{20 + n}.0.1/16",
                "listen_port": 51820 + n,
                "peers": [
                    {"name": f"p{i:04d}", "public_key": key_for(f"p{i}"), "allowed_ips": []}
                    for i in range(0, 2 * peers, 2)
                ],
            }
            for n, network in enumerate(interfaces)
        ],
    }


EDIT_KINDS = st.sampled_from(
    ["replace", "insert", "remove", "head", "tail", "add interface", "drop interface"]
)


def edited(document: dict[str, Any], kind: str, at: int, value: int) -> dict[str, Any]:
    """``document`` with one change of ``kind`` (``at`` picks the place)."""
    new = copy.deepcopy(document)
    if kind == "add interface":
        network = f"x{value}"
        if network not in [i["network"] for i in new["interfaces"]]:
            new["interfaces"].append(big_document(value % 3, (network,))["interfaces"][0])
        return new
    if not new["interfaces"]:
        return new
    iface = new["interfaces"][at % len(new["interfaces"])]
    if kind == "drop interface":
        new["interfaces"].remove(iface)
        return new
    peers = iface["peers"]
    if kind == "head":
        iface["listen_port"] = 1000 + value
    elif kind == "tail":
        iface["pending_peers"] = [{"name": f"q{value}", "reason": 'a "quoted" \\ reason é'}]
    elif kind == "insert":
        name = f"p{2 * (at % 400) + 1:04d}"  # odd names: between the existing ones
        if name not in [p["name"] for p in peers]:
            peers.append({"name": name, "public_key": key_for(name)})
    elif peers:
        peer = peers[at % len(peers)]
        if kind == "remove":
            peers.remove(peer)
        else:
            peer["persistent_keepalive"] = 1 + value
    return new


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(EDIT_KINDS, st.integers(0, 999), st.integers(0, 99)), max_size=6))
def test_chained_deltas_on_a_large_config_behave_like_parsed_configs(
    edits: list[tuple[str, int, int]],
) -> None:
    document = big_document(200)
    held = NodeConfig.model_validate(document)
    for revision, (kind, at, value) in enumerate(edits, start=1):
        document = edited(document, kind, at, value)
        new = NodeConfig.model_validate({**document, "revision": f"r{revision}"})
        before, state = held.to_json(), held.digest_state()
        result = apply_delta(held, ConfigDelta.model_validate_json(make_delta(held, new).to_json()))
        assert held.to_json() == before and held.digest_state() is state  # base untouched
        assert result == new and new == result
        assert result.model_dump() == new.model_dump()
        assert result.to_json() == new.to_json()
        assert result.hash == new.hash == result.content_hash() == result.digest_state().digest
        assert make_delta(result, new).interfaces == ()
        held = result  # the next delta applies to an applied config
