"""Answer bodies: one per (node, base, hash, revision, encoding), bounded by bytes."""

from __future__ import annotations

import gc
import gzip
import json
import tracemalloc

import pytest

from drago.errors import NotFound
from drago.render import render_state
from drago.render.config import NodeConfig
from drago.render.delta import ConfigDelta, apply_delta
from drago.render.result import RenderResult
from drago.server.answers import (
    ENTRY_COST,
    GZIP_DELTA_ABOVE,
    Body,
    BodyCache,
    ConfigAnswers,
    Kind,
)
from drago.server.metrics import Metrics
from tests.render.states import key_for, make_state, mesh

NET = {"address_range": "10.0.0.0/16", "connections": [{"between": ["*", "*"]}]}


def built(metrics: Metrics, kind: str) -> float:
    return metrics.registry.get_sample_value("drago_config_bodies_built_total", {"kind": kind}) or 0


def body(size: int) -> Body:
    return Body("full", "h", None, b"x" * size)


def test_the_cache_is_bounded_by_bytes_least_recently_used_first_out() -> None:
    each = body(40).cost
    assert each == 40 + ENTRY_COST
    cache = BodyCache(max_bytes=2 * each + each // 2)
    cache.put(("a", None, "h", None, False), body(40))
    cache.put(("b", None, "h", None, False), body(40))
    assert cache.get(("a", None, "h", None, False)) is not None  # a is now the newest
    cache.put(("c", None, "h", None, False), body(40))
    assert cache.size == 2 * each and len(cache) == 2 and cache.evictions == 1
    assert cache.get(("b", None, "h", None, False)) is None
    cache.put(("d", None, "h", None, False), body(3 * each))  # larger than the cache: not kept
    assert cache.get(("d", None, "h", None, False)) is None
    assert cache.size == 2 * each
    assert (cache.hits, cache.misses) == (1, 2)


@pytest.mark.parametrize("kind", ["delta", "full"])
def test_what_the_cache_counts_covers_the_memory_its_bodies_take(kind: Kind) -> None:
    """Small bodies cost mostly their object, head and key: the bound counts them
    (traced allocations of 5,000 cached answers against the cache's size)."""
    cache = BodyCache(max_bytes=1 << 40)
    hashes = [(f"{i:064x}", f"{i + 1:064x}") for i in range(5000)]
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for number, (base, digest) in enumerate(hashes):
            was = base if kind == "delta" else None
            data = json.dumps({"n": number, "pad": "x" * 200}).encode()
            cache.put(
                (f"n{number % 1000:03d}", was, digest, "r" * 40, False),
                Body(kind, digest, was, data),
            )
        gc.collect()
        taken = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert taken <= cache.size <= 2 * taken


def test_one_body_per_hash_and_encoding() -> None:
    metrics = Metrics()
    answers = ConfigAnswers(metrics)
    result = render_state(mesh(30), "r1")
    first = answers.answer("n0", result, compress=True)
    for _ in range(50):
        assert answers.answer("n0", result, compress=True) is first
        assert answers.answer("n0", result).data == result.document("n0")
    assert first.encoding == "gzip"
    assert gzip.decompress(first.data) == result.document("n0")
    assert len(first.data) < len(result.document("n0")) // 2
    assert built(metrics, "full") == built(metrics, "full-gzip") == 1
    answered = metrics.registry.get_sample_value(
        "drago_config_answers_total", {"kind": "full", "encoding": "gzip"}
    )
    assert answered == 51
    with pytest.raises(NotFound):
        answers.answer("nope", result)


def test_a_delta_is_built_once_and_applies() -> None:
    metrics = Metrics()
    answers = ConfigAnswers(metrics)
    state = mesh(30)
    old = render_state(state, "r1")
    nodes = {n: node.model_dump(mode="json", exclude_none=True) for n, node in state.nodes.items()}
    keys = {n: {"mesh": key_for(n)} for n in nodes}
    keys["n5"]["mesh"] = key_for("n5 again")
    new = render_state(make_state({"mesh": NET}, nodes, keys), "r2")
    base = old.hashes["n0"]
    for _ in range(20):
        delta = answers.answer("n0", new, base=base, base_result=old, compress=True)
        assert delta.kind == "delta" and delta.base == base and delta.encoding is None
    assert len(delta.data) <= GZIP_DELTA_ABOVE
    assert built(metrics, "delta") == 1
    applied = apply_delta(old.config("n0"), ConfigDelta.model_validate_json(delta.data))
    assert applied == new.config("n0")
    unknown = answers.answer("n0", new, base="0" * 64, base_result=None)
    assert unknown.kind == "full"
    fallbacks = metrics.registry.get_sample_value(
        "drago_config_delta_fallbacks_total", {"reason": "unknown_base"}
    )
    assert fallbacks == 1


def test_a_delta_not_smaller_than_the_config_is_answered_full() -> None:
    metrics = Metrics()
    answers = ConfigAnswers(metrics)
    networks = {"a": NET, "b": {**NET, "address_range": "10.1.0.0/16"}}

    def rendered(network: str, revision: str) -> tuple[str, NodeConfig, RenderResult]:
        nodes = {
            f"n{i}": {"interfaces": {network: {"address": f"10.{ord(network) - 97}.0.{i + 1}/16"}}}
            for i in range(3)
        }
        keys = {n: {network: key_for(n + network)} for n in nodes}
        result = render_state(make_state(networks, nodes, keys), revision)
        return result.hashes["n0"], result["n0"], result

    base, _, old = rendered("a", "r1")
    _, config, new = rendered("b", "r2")
    for _ in range(3):
        answer = answers.answer("n0", new, base=base, base_result=old)
        assert answer.kind == "full"
        assert json.loads(answer.data)["hash"] == config.hash
    assert built(metrics, "delta") == 0 and built(metrics, "full") == 1


def test_a_body_carries_its_response_head() -> None:
    full = Body("full", "abc", None, b"{}", "gzip")
    assert full.status == 200
    assert dict(full.head) == {
        b"content-length": b"2",
        b"content-type": b"application/json",
        b"cache-control": b"no-cache",
        b"etag": b'"abc"',
        b"vary": b"A-IM, Accept-Encoding",
        b"content-encoding": b"gzip",
        b"x-content-type-options": b"nosniff",
    }
    delta = Body("delta", "new", "old", b"{...}")
    assert delta.status == 226
    head = dict(delta.head)
    assert head[b"im"] == b"drago-delta" and head[b"delta-base"] == b'"old"'
    assert head[b"content-type"] == b"application/vnd.drago.config-delta+json"
    assert head[b"content-length"] == b"5" and b"content-encoding" not in head
    assert len(delta.head) == len(head)  # each header once
