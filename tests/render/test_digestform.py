"""Hashing the digest form resumed from marks gives exactly the whole-form hash."""

from __future__ import annotations

import hashlib
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from drago.render.config import digest_form_hash, quoted
from drago.render.digestform import (
    EditedBlocks,
    NodeHash,
    Pieces,
    Unchanged,
    block_ends,
    blocks_of,
    flat,
    hash_node,
)

#: An interface as the reference hash takes it: head, digests, tail.
Flat = tuple[bytes, tuple[bytes, ...], bytes]


def digest(n: int) -> bytes:
    return quoted(hashlib.sha256(str(n).encode()).hexdigest())


INTERFACE = st.tuples(
    st.sampled_from([b'{"head":1,"peers":[', b'{"head":2,"peers":[']),
    st.lists(st.integers(0, 30), max_size=12).map(lambda ns: tuple(digest(n) for n in ns)),
    st.sampled_from([b"]}", b'],"tail":1}']),
)
NODES = st.lists(INTERFACE, max_size=3).map(tuple)


def cut(node: tuple[Flat, ...], size: int) -> tuple[Pieces, ...]:
    """``node``'s interfaces with their digests in blocks of ``size``."""
    return tuple((head, blocks_of(digests, size), tail) for head, digests, tail in node)


@st.composite
def cut_anywhere(draw: st.DrawFn, node: tuple[Flat, ...]) -> tuple[Pieces, ...]:
    """``node``'s interfaces with their digests in blocks of any sizes."""
    pieces = []
    for head, digests, tail in node:
        bounds = sorted(set(draw(st.lists(st.integers(1, max(len(digests) - 1, 1)), max_size=4))))
        edges = [0, *(b for b in bounds if b < len(digests)), len(digests)]
        blocks = tuple(digests[a:b] for a, b in pairwise(edges) if b > a)
        pieces.append((head, blocks, tail))
    return tuple(pieces)


@settings(max_examples=300, deadline=None)
@given(st.lists(NODES, min_size=1, max_size=6), st.integers(1, 5))
def test_resumed_hashes_equal_whole_hashes(versions: list[tuple[Flat, ...]], chunk: int) -> None:
    previous: NodeHash | None = None
    for node in versions:
        pieces = cut(node, chunk)
        resumed = hash_node("n1", pieces, previous)
        assert resumed.digest == digest_form_hash("n1", node)
        assert resumed.digest == hash_node("n1", pieces).digest
        previous = resumed


@settings(max_examples=300, deadline=None)
@given(st.lists(NODES, min_size=1, max_size=6), st.data())
def test_blocks_cut_anywhere_hash_like_the_whole_form(
    versions: list[tuple[Flat, ...]], data: st.DataObject
) -> None:
    previous: NodeHash | None = None
    for node in versions:
        resumed = hash_node("n1", data.draw(cut_anywhere(node)), previous)
        assert resumed.digest == digest_form_hash("n1", node)
        previous = resumed


def test_a_change_near_the_end_resumes_from_a_late_mark() -> None:
    digests = tuple(digest(n) for n in range(1000))
    head, tail = b'{"peers":[', b"]}"
    first = hash_node("n1", ((head, blocks_of(digests), tail),))
    assert len(first.marks) == 8
    changed = (*digests[:990], digest(-1), *digests[991:])
    second = hash_node("n1", ((head, blocks_of(changed), tail),), first)
    assert second.digest == digest_form_hash("n1", ((head, changed, tail),))
    assert second.marks[:7] == first.marks[:7]  # the first 896 digests were not hashed again
    assert second.marks[7] is not first.marks[7]


@settings(max_examples=300, deadline=None)
@given(NODES.filter(bool), st.data(), st.integers(1, 4))
def test_resuming_after_small_edits(
    pieces: tuple[Flat, ...], data: st.DataObject, chunk: int
) -> None:
    current = hash_node("n1", cut(pieces, chunk))
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
        current = hash_node("n1", cut(pieces, chunk), current)
        assert current.digest == digest_form_hash("n1", pieces)


def first_difference(old: tuple[Flat, ...], new: tuple[Flat, ...]) -> Unchanged:
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
    old: tuple[Flat, ...], new: tuple[Flat, ...], chunk: int, data: st.DataObject
) -> None:
    """Whatever the blocks before and after (cut anywhere, independently)."""
    before = hash_node("n1", data.draw(cut_anywhere(old)) if chunk == 4 else cut(old, chunk))
    pieces = data.draw(cut_anywhere(new))
    most = first_difference(old, new)
    # A hint may understate what is unchanged: an earlier interface, or fewer digests.
    interface = data.draw(st.integers(0, most.interface))
    digests = most.digests if interface == most.interface else -1
    digests = data.draw(st.integers(-1, digests)) if digests >= 0 else -1
    hinted = hash_node("n1", pieces, before, hint=Unchanged(interface, digests))
    assert hinted.digest == digest_form_hash("n1", new)
    assert hinted == hash_node("n1", pieces, before)  # no hint: compared


def test_a_hint_saves_the_comparison_and_resumes_from_its_mark() -> None:
    digests = tuple(digest(n) for n in range(1000))
    head, tail = b'{"peers":[', b"]}"
    first = hash_node("n1", ((head, blocks_of(digests), tail),))
    changed = (*digests[:990], digest(-1), *digests[991:])
    pieces = ((head, blocks_of(changed), tail),)
    second = hash_node("n1", pieces, first, hint=Unchanged(0, 990))
    assert second.digest == digest_form_hash("n1", ((head, changed, tail),))
    assert second.marks[:7] == first.marks[:7]
    # Understated (the head may have changed): nothing is reused, the hash is right.
    third = hash_node("n1", pieces, first, hint=Unchanged(0, -1))
    assert third.digest == second.digest and third.marks[0] is not first.marks[0]


def test_node_hashes_are_equal_when_their_digests_are() -> None:
    digests = tuple(digest(n) for n in range(300))
    pieces = ((b'{"peers":[', blocks_of(digests), b"]}"),)
    whole = hash_node("n1", pieces)
    shorter = hash_node("n1", ((b'{"peers":[', blocks_of(digests[:299], 100), b"]}"),))
    other_cut = ((b'{"peers":[', blocks_of(digests, 100), b"]}"),)
    resumed = hash_node("n1", other_cut, shorter)  # two blocks of the shorter form reused
    assert resumed.marks[:2] == shorter.marks[:2]
    assert [m.fed for m in resumed.marks] != [m.fed for m in whole.marks]
    assert resumed == whole and resumed != shorter


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(0, 99), max_size=20),
    st.integers(1, 3),
    st.lists(st.tuples(st.sampled_from(["replace", "insert", "remove"]), st.integers(0, 30))),
)
def test_edited_blocks_edit_like_a_list_and_copy_only_what_changed(
    start: list[int], size: int, edits: list[tuple[str, int]]
) -> None:
    model = [digest(n) for n in start]
    blocks = blocks_of(model, size)
    edited = EditedBlocks(blocks, size)
    first = len(model)
    for number, (kind, where) in enumerate(edits):
        entry = digest(1000 + number)
        if kind == "insert":
            at = where % (len(model) + 1)
            model.insert(at, entry)
            edited.insert(at, entry)
        elif not model:
            continue
        elif kind == "replace":
            at = where % len(model)
            assert edited.replace(at, entry) == model[at]
            model[at] = entry
        else:
            at = where % len(model)
            assert edited.remove(at) == model.pop(at)
        first = min(first, at)
    now, ends = edited.done()
    assert flat(now) == tuple(model)
    assert ends == block_ends(now) and all(0 < len(b) <= 2 * size for b in now)
    # the blocks before the first edit are the very same objects (the block that
    # ends where it is may have grown: an entry appended at the end goes there)
    kept = [b for b, end in zip(blocks, block_ends(blocks), strict=True) if end < first]
    assert all(a is b for a, b in zip(kept, now, strict=False)) and len(now) >= len(kept)


@settings(max_examples=200, deadline=None)
@given(st.lists(NODES, min_size=2, max_size=7), st.data())
def test_marks_carried_over_many_resumes_stay_true(
    versions: list[tuple[Flat, ...]], data: st.DataObject
) -> None:
    """Each version resumed from the last one's hash (blocks cut anywhere, a true
    hint that may understate, or none): every digest is the whole form's, and
    every mark sits where the blocks before it hold the digests it fed."""
    current = hash_node("n1", data.draw(cut_anywhere(versions[0])))
    for old, new in pairwise(versions):
        pieces = data.draw(cut_anywhere(new))
        hint = None
        if data.draw(st.booleans()):
            most = first_difference(old, new)
            interface = data.draw(st.integers(0, most.interface))
            digests = most.digests if interface == most.interface else -1
            hint = Unchanged(interface, data.draw(st.integers(-1, digests)) if digests >= 0 else -1)
        current = hash_node("n1", pieces, current, hint=hint)
        assert current.digest == digest_form_hash("n1", new)
        for mark in current.marks:
            blocks = pieces[mark.interface][1]
            assert sum(map(len, blocks[: mark.blocks])) == mark.fed
