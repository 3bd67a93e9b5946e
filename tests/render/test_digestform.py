"""Hashing the digest form resumed from marks gives exactly the whole-form hash."""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from drago.render.config import digest_form_hash, quoted
from drago.render.digestform import NodeHash, Pieces, hash_node


def digest(n: int) -> bytes:
    return quoted(hashlib.sha256(str(n).encode()).hexdigest())


INTERFACE = st.tuples(
    st.sampled_from([b'{"head":1,"peers":[', b'{"head":2,"peers":[']),
    st.lists(st.integers(0, 30), max_size=12).map(lambda ns: tuple(digest(n) for n in ns)),
    st.sampled_from([b"]}", b'],"tail":1}']),
)
NODES = st.lists(INTERFACE, max_size=3).map(tuple)


@settings(max_examples=300, deadline=None)
@given(st.lists(NODES, min_size=1, max_size=6), st.integers(1, 5))
def test_resumed_hashes_equal_whole_hashes(versions: list[tuple[Pieces, ...]], chunk: int) -> None:
    previous: NodeHash | None = None
    for pieces in versions:
        resumed = hash_node("n1", pieces, previous, chunk=chunk)
        assert resumed.digest == digest_form_hash("n1", pieces)
        assert resumed.digest == hash_node("n1", pieces, chunk=chunk).digest
        previous = resumed


def test_a_change_near_the_end_resumes_from_a_late_mark() -> None:
    digests = tuple(digest(n) for n in range(1000))
    head, tail = b'{"peers":[', b"]}"
    first = hash_node("n1", ((head, digests, tail),))
    assert len(first.marks) == 8
    changed = (*digests[:990], digest(-1), *digests[991:])
    second = hash_node("n1", ((head, changed, tail),), first)
    assert second.digest == digest_form_hash("n1", ((head, changed, tail),))
    assert second.marks[:7] == first.marks[:7]  # the first 896 digests were not hashed again
    assert second.marks[7] is not first.marks[7]


@settings(max_examples=300, deadline=None)
@given(NODES.filter(bool), st.data(), st.integers(1, 4))
def test_resuming_after_small_edits(
    pieces: tuple[Pieces, ...], data: st.DataObject, chunk: int
) -> None:
    current = hash_node("n1", pieces, chunk=chunk)
    for _ in range(data.draw(st.integers(1, 6))):
        interfaces = list(pieces)
        index = data.draw(st.integers(0, len(interfaces) - 1))
        head, digests, tail = interfaces[index]
        entries = list(digests)
        kind = data.draw(st.sampled_from(["replace", "insert", "delete", "head", "tail"]))
        at = data.draw(st.integers(0, len(entries)))
        if kind == "replace" and at < len(entries):
            entries[at] = digest(data.draw(st.integers(100, 200)))
        elif kind == "insert":
            entries.insert(at, digest(data.draw(st.integers(100, 200))))
        elif kind == "delete" and at < len(entries):
            del entries[at]
        elif kind == "head":
            head = head + b" "
        elif kind == "tail":
            tail = b" " + tail
        interfaces[index] = (head, tuple(entries), tail)
        pieces = tuple(interfaces)
        current = hash_node("n1", pieces, current, chunk=chunk)
        assert current.digest == digest_form_hash("n1", pieces)
