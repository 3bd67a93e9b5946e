"""RenderResult: document sizes, and delta bodies built from cached fragments that
are exactly ``make_delta``'s."""

from __future__ import annotations

import itertools
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from drago.render import Renderer, render_state
from drago.render.canonical import canonical_json, canonical_object
from drago.render.delta import FIELDS, ConfigDelta, apply_delta, make_delta
from drago.render.digestform import block_ends, blocks_of
from drago.render.fragments import (
    InterfacePart,
    SelfInfo,
    interface_edges,
    interface_fields,
)
from drago.render.result import RenderResult
from tests.render.states import key_for, make_state, mesh
from tests.render.test_properties import EDITS, FAST, Edit, apply, build, states


def check_deltas(base: RenderResult, new: RenderResult) -> None:
    for node in sorted(set(base) & set(new)):
        body = new.delta_document(node, base)
        assert body == make_delta(base[node], new[node]).to_json()
        assert apply_delta(base[node], ConfigDelta.model_validate_json(body)) == new[node]


@FAST
@given(states(), st.lists(st.lists(EDITS, min_size=1, max_size=2), min_size=1, max_size=4))
def test_delta_documents_of_an_incremental_renderer_equal_make_delta(
    parts: Any, steps: list[list[Edit]]
) -> None:
    renderer = Renderer()
    results = [renderer.render(build(parts), "r0")]
    for number, edits in enumerate(steps, start=1):
        for edit in edits:
            parts = apply(parts, edit)
        results.append(renderer.render(build(parts), f"r{number}"))
    for before, after in itertools.pairwise(results):  # what the renderer patched
        check_deltas(before, after)
    for result in results[1:]:
        check_deltas(results[0], result)
        check_deltas(result, results[0])


@FAST
@given(states(), states())
def test_delta_documents_between_unrelated_renders_equal_make_delta(left: Any, right: Any) -> None:
    check_deltas(render_state(build(left), "a"), render_state(build(right), "b"))


def test_delta_documents_in_a_mesh_after_patches() -> None:
    renderer = Renderer(threads=1)
    base = mesh(40, with_keys=False)
    nodes = {n: node.model_dump(mode="json", exclude_none=True) for n, node in base.nodes.items()}
    networks = {"mesh": base.networks["mesh"].model_dump(mode="json", exclude_none=True)}
    keys = {f"n{i}": {"mesh": key_for(f"n{i}")} for i in range(39)}
    first = renderer.render(make_state(networks, nodes, keys), "r1")
    keys["n39"] = {"mesh": key_for("n39")}  # a key registration: pending -> peer
    second = renderer.render(make_state(networks, nodes, keys), "r2")
    nodes["n3"]["endpoint"] = "192.0.2.3"
    third = renderer.render(make_state(networks, nodes, keys), "r3")
    for a, b in [(first, second), (second, third), (first, third), (third, first)]:
        check_deltas(a, b)
    assert len(third.delta_document("n0", second)) < 600


@FAST
@given(states())
def test_document_size_is_the_length_of_the_document(parts: Any) -> None:
    for revision in (None, "abc"):
        result = render_state(build(parts), revision)
        for node in result:
            assert result.document_size(node) == len(result.document(node))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@given(st.dictionaries(st.text(), JSON_VALUES, max_size=6))
def test_a_spliced_object_is_its_canonical_json(members: dict[str, Any]) -> None:
    spliced = canonical_object({k: canonical_json(v) for k, v in members.items()})
    assert spliced == canonical_json(members)


#: Text a JSON encoder must escape or keep as UTF-8, in every string the body splices.
HOSTILE = st.text(st.sampled_from(['"', "\\", "\n", "\x00", "é", "\u2028", "☃", "a", ",", ":"]))


@st.composite
def hostile_parts(draw: st.DrawFn, network: str) -> InterfacePart:
    own = SelfInfo(
        network=network,
        ifname=draw(HOSTILE),
        address=draw(HOSTILE),
        listen_port=draw(st.integers(1, 65535)),
        mtu=draw(st.none() | st.integers(576, 9000)),
        dns=tuple(draw(st.lists(HOSTILE, max_size=2))),
        public_key=draw(st.none() | HOSTILE),
    )
    pending = sorted(set(draw(st.lists(HOSTILE, max_size=3))))
    fields = interface_fields(own, pending)
    head, tail = interface_edges(network, fields)
    peers = tuple(canonical_json({"name": n}) for n in draw(st.lists(HOSTILE, max_size=2)))
    names = tuple(f"p{i}" for i in range(len(peers)))
    blocks = blocks_of(peers, draw(st.integers(1, 2)))
    return InterfacePart(network, head, names, blocks, block_ends(blocks), tail, 0, fields)


@FAST
@given(HOSTILE, HOSTILE, st.data())
def test_delta_bodies_splice_hostile_strings_like_a_json_encoder(
    node: str, network: str, data: st.DataObject
) -> None:
    old, new = data.draw(hostile_parts(network)), data.draw(hostile_parts(network))
    revision = data.draw(st.none() | HOSTILE)
    base = RenderResult("r1", {node: (old,)}, {node: "1" * 64}, {})
    result = RenderResult(revision, {node: (new,)}, {node: "2" * 64}, {})
    before, after = json.loads(old.head + old.tail), json.loads(new.head + new.tail)
    assert after["network"] == network and after["peers"] == []
    assert [canonical_json(after[name]) for name in FIELDS] == list(new.fields)
    changed = {k: v for k, v in after.items() if k != "peers" and before[k] != v}
    entry: dict[str, Any] = {"network": network, **({"set": changed} if changed else {})}
    kept = dict(zip(old.names, old.peers, strict=True))
    peers = [json.loads(f) for n, f in zip(new.names, new.peers, strict=True) if kept.get(n) != f]
    removed = [n for n in old.names if n not in new.names]
    if peers:
        entry["peers"] = peers
    if removed:
        entry["remove_peers"] = removed
    expected = {
        "node": node,
        "base": "1" * 64,
        "hash": "2" * 64,
        "revision": revision,
        "interfaces": [entry] if len(entry) > 1 else [],
    }
    assert result.delta_document(node, base) == canonical_json(expected)
    gone = RenderResult(revision, {node: ()}, {node: "2" * 64}, {}).delta_document(node, base)
    assert gone == canonical_json({**expected, "interfaces": [], "remove_interfaces": [network]})
