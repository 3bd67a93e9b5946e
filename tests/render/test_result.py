"""RenderResult: document sizes, and delta bodies built from cached fragments that
are exactly ``make_delta``'s."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from drago.render import Renderer, render_state
from drago.render.delta import ConfigDelta, apply_delta, make_delta
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
