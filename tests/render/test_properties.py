"""Property tests: rendering is deterministic, hashes track content exactly,
and incremental rendering agrees with rendering from scratch."""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drago.model.state import State
from drago.render import Renderer, plan_configs, render_state
from tests.render.states import key_for, make_state

NODE_NAMES = [f"n{i}" for i in range(6)]
NETWORK_NAMES = ["a", "b"]
SELECTORS = st.sampled_from(["*", "role=x", "role=y", *NODE_NAMES])
ENDPOINTS = st.sampled_from([None, "h.example.net", "192.0.2.4", "2001:db8::4"])
KEEPALIVES = st.sampled_from([None, 0, 15, 25])
ROUTES = st.lists(st.sampled_from(["192.168.1.0/24", "172.16.0.0/12", "fd00:1::/64"]), max_size=2)

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def connections(draw: st.DrawFn) -> dict[str, Any]:
    ends = [draw(SELECTORS), draw(SELECTORS)]
    conn: dict[str, Any] = {"between": ends}
    keepalive = draw(KEEPALIVES)
    if keepalive is not None:
        conn["persistent_keepalive"] = keepalive
    if draw(st.booleans()):
        conn["allowed_ips"] = {draw(st.sampled_from(ends)): ["10.99.0.0/16"]}
    return conn


@st.composite
def network_files(draw: st.DrawFn, index: int) -> dict[str, Any]:
    data: dict[str, Any] = {
        "address_range": f"10.{index + 1}.0.0/16",
        "connections": draw(st.lists(connections(), max_size=3)),
    }
    keepalive = draw(KEEPALIVES)
    if keepalive is not None:
        data["persistent_keepalive"] = keepalive
    if draw(st.booleans()):
        data["mtu"] = 1420
        data["dns"] = ["10.0.0.53"]
    return data


@st.composite
def interfaces(draw: st.DrawFn, node: int, network: int) -> dict[str, Any]:
    spec: dict[str, Any] = {"address": f"10.{network + 1}.0.{node + 1}/16"}
    spec["routes"] = draw(ROUTES)
    keepalive = draw(KEEPALIVES)
    if keepalive is not None:
        spec["persistent_keepalive"] = keepalive
    for key, values in (
        ("listen_port", [51900 + node]),
        ("endpoint_port", [61000]),
        ("mtu", [1280]),
        ("dns", [[], ["10.0.0.1"]]),
        ("ifname", ["wg-x"]),
    ):
        if draw(st.booleans()):
            spec[key] = draw(st.sampled_from(values))
    return spec


@st.composite
def node_files(draw: st.DrawFn, index: int) -> dict[str, Any]:
    data: dict[str, Any] = {"labels": {"role": draw(st.sampled_from(["x", "y"]))}}
    endpoint = draw(ENDPOINTS)
    if endpoint is not None:
        data["endpoint"] = endpoint
    joined = draw(st.lists(st.sampled_from([0, 1]), unique=True, max_size=2))
    data["interfaces"] = {NETWORK_NAMES[n]: draw(interfaces(index, n)) for n in joined}
    return data


@st.composite
def states(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any], dict[str, dict[str, str]]]:
    networks = {name: draw(network_files(i)) for i, name in enumerate(NETWORK_NAMES)}
    count = draw(st.integers(min_value=0, max_value=len(NODE_NAMES)))
    nodes = {NODE_NAMES[i]: draw(node_files(i)) for i in range(count)}
    keys: dict[str, dict[str, str]] = {}
    for name, node in nodes.items():
        for network in node["interfaces"]:
            if draw(st.booleans()):
                keys.setdefault(name, {})[network] = key_for(f"{name}/{network}")
    return networks, nodes, keys


def build(parts: tuple[dict[str, Any], dict[str, Any], dict[str, dict[str, str]]]) -> State:
    return make_state(*parts)


def recomputed_hash(document: bytes) -> str:
    data = json.loads(document)
    del data["hash"], data["revision"]
    for iface in data["interfaces"]:
        iface["peers"] = [
            hashlib.sha256(
                json.dumps(p, sort_keys=True, separators=(",", ":")).encode()
            ).hexdigest()
            for p in iface["peers"]
        ]
    return hashlib.sha256(
        json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


@FAST
@given(states())
def test_rendering_is_deterministic(parts: Any) -> None:
    one = render_state(build(parts), "r")
    two = render_state(build(copy.deepcopy(parts)), "r")
    three = render_state(make_state(*parts, blob_ids=False), "r")
    assert one.hashes == two.hashes == three.hashes
    for node in one:
        assert one.document(node) == two.document(node) == three.document(node)
        assert recomputed_hash(one.document(node)) == one.hashes[node]
        assert one[node].canonical_bytes() == one.canonical_bytes(node)


@FAST
@given(states(), states())
def test_hashes_are_equal_exactly_when_canonical_forms_are(left: Any, right: Any) -> None:
    a = render_state(build(left))
    b = render_state(build(right))
    forms = [(r.hashes[n], r.canonical_bytes(n)) for r in (a, b) for n in r]
    for hash_1, form_1 in forms:
        for hash_2, form_2 in forms:
            assert (hash_1 == hash_2) == (form_1 == form_2)


Edit = tuple[str, int, Any]
EDITS = st.one_of(
    st.tuples(st.just("endpoint"), st.integers(0, 5), ENDPOINTS),
    st.tuples(st.just("key"), st.integers(0, 5), st.sampled_from(NETWORK_NAMES)),
    st.tuples(st.just("routes"), st.integers(0, 5), ROUTES),
    st.tuples(st.just("label"), st.integers(0, 5), st.sampled_from(["x", "y"])),
    st.tuples(st.just("keepalive"), st.integers(0, 5), KEEPALIVES),
    st.tuples(st.just("join"), st.integers(0, 5), st.sampled_from(NETWORK_NAMES)),
)


def apply(parts: Any, edit: Edit) -> Any:
    networks, nodes, keys = copy.deepcopy(parts)
    kind, index, value = edit
    name = NODE_NAMES[index]
    if name not in nodes:
        return networks, nodes, keys
    node = nodes[name]
    if kind == "endpoint":
        node.pop("endpoint", None)
        if value is not None:
            node["endpoint"] = value
    elif kind == "key" and value in node["interfaces"]:
        per_node = keys.setdefault(name, {})
        if value in per_node:
            del per_node[value]
        else:
            per_node[value] = key_for(f"{name}/{value}/new")
    elif kind == "routes":
        for spec in node["interfaces"].values():
            spec["routes"] = value
    elif kind == "label":
        node["labels"]["role"] = value
    elif kind == "keepalive":
        for spec in node["interfaces"].values():
            spec.pop("persistent_keepalive", None)
            if value is not None:
                spec["persistent_keepalive"] = value
    elif kind == "join":  # the node leaves the network, or joins it (its networks change)
        if value in node["interfaces"]:
            del node["interfaces"][value]
            keys.get(name, {}).pop(value, None)
        else:
            network = NETWORK_NAMES.index(value)
            node["interfaces"][value] = {"address": f"10.{network + 1}.0.{index + 1}/16"}
    return networks, nodes, keys


@FAST
@given(states(), st.lists(st.lists(EDITS, min_size=1, max_size=2), min_size=1, max_size=5))
def test_incremental_rendering_equals_rendering_from_scratch(
    parts: Any, steps: list[list[Edit]]
) -> None:
    renderer = Renderer()
    previous = renderer.render(build(parts))
    for number, edits in enumerate(steps):
        for edit in edits:
            parts = apply(parts, edit)
        state = build(parts)
        result = renderer.render(state, f"r{number}")
        scratch = render_state(state, f"r{number}")
        assert result.hashes == scratch.hashes
        for node in scratch:
            assert result.document(node) == scratch.document(node)
        assert result.changed == {
            n for n, h in result.hashes.items() if previous.hashes.get(n) != h
        }
        previous = result


@FAST
@given(states(), states())
def test_plan_lists_exactly_the_nodes_whose_hash_differs(left: Any, right: Any) -> None:
    a = render_state(build(left))
    b = render_state(build(right))
    plan = plan_configs(a, b)
    assert plan_configs(a, a).is_empty
    differing = {n for n in set(a) | set(b) if a.hashes.get(n) != b.hashes.get(n)}
    assert {n.node for n in plan.nodes} == differing
    assert plan.unchanged == len((set(a) & set(b)) - differing)
    for node in plan.nodes:
        assert node.changes or node.status != "changed"
    json.dumps(plan.to_dict())
