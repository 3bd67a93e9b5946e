"""Hashing the digest form resumed from marks gives exactly the whole-form hash."""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from drago.render.config import digest_form_hash, quoted
from drago.render.digestform import NodeHash, Pieces, Unchanged, hash_node


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


def first_difference(old: tuple[Pieces, ...], new: tuple[Pieces, ...]) -> Unchanged:
    """The most a correct hint may promise about ``new`` after ``old``."""
    for index, (was, now) in enumerate(zip(old, new, strict=False)):
        if was == now:
            continue
        if was[0] != now[0]:
            return Unchanged(index, -1)
        same = 0
        while same < min(len(was[1]), len(now[1])) and was[1][same] == now[1][same]:
            same += 1
        return Unchanged(index, same)
    return Unchanged(min(len(old), len(new)), -1)


@settings(max_examples=300, deadline=None)
@given(NODES, NODES, st.integers(1, 4), st.data())
def test_a_true_hint_resumes_to_the_whole_hash(
    old: tuple[Pieces, ...], new: tuple[Pieces, ...], chunk: int, data: st.DataObject
) -> None:
    before = hash_node("n1", old, chunk=chunk)
    most = first_difference(old, new)
    # A hint may understate what is unchanged: an earlier interface, or fewer digests.
    interface = data.draw(st.integers(0, most.interface))
    digests = most.digests if interface == most.interface else -1
    digests = data.draw(st.integers(-1, digests)) if digests >= 0 else -1
    hinted = hash_node("n1", new, before, hint=Unchanged(interface, digests), chunk=chunk)
    assert hinted.digest == digest_form_hash("n1", new)
    assert hinted == hash_node("n1", new, before, chunk=chunk)  # no hint: compared


def test_a_hint_saves_the_comparison_and_resumes_from_its_mark() -> None:
    digests = tuple(digest(n) for n in range(1000))
    head, tail = b'{"peers":[', b"]}"
    first = hash_node("n1", ((head, digests, tail),))
    changed = (*digests[:990], digest(-1), *digests[991:])
    second = hash_node("n1", ((head, changed, tail),), first, hint=Unchanged(0, 990))
    assert second.digest == digest_form_hash("n1", ((head, changed, tail),))
    assert second.marks[:7] == first.marks[:7]
    # Understated (the head may have changed): nothing is reused, the hash is right.
    third = hash_node("n1", ((head, changed, tail),), first, hint=Unchanged(0, -1))
    assert third.digest == second.digest and third.marks[0] is not first.marks[0]


def test_node_hashes_are_equal_when_their_digests_are() -> None:
    digests = tuple(digest(n) for n in range(300))
    pieces = ((b'{"peers":[', digests, b"]}"),)
    whole = hash_node("n1", pieces)
    shorter = hash_node("n1", ((b'{"peers":[', digests[:299], b"]}"),))
    resumed = hash_node("n1", pieces, shorter)  # marks where the shorter form had them
    assert [m.fed for m in resumed.marks] != [m.fed for m in whole.marks]
    assert resumed == whole and resumed != shorter
