"""A node's hash (v2) from its digest form, resumed from where it last changed.

The digest form of a node (:func:`drago.render.config.digest_form_hash`) is
``{"interfaces":[`` + per interface ``head`` + the quoted peer digests joined by
commas + ``tail`` + ``],"node":...}``. An interface's digests come in *blocks*
(:func:`blocks_of`: about :data:`BLOCK` each), so that a render that changes
one peer copies one block, not the whole list; the form, and so the hash, is
the same however the digests are cut into blocks. SHA-256 reads it front to
back, so when a render changes the entry of one peer, everything before that
entry hashes as before. :func:`hash_node` keeps a copy of the hash state after
every block (a *mark*) and, given the previous :class:`NodeHash`, resumes from
the last mark before the first difference: on average half of a large
interface is not hashed again, and a change near its end costs next to
nothing. The result is the same digest as hashing the whole form.

A caller that knows where the first difference can be (the renderer and
:func:`drago.render.delta.apply_delta` know which entries they replaced) says so
with a :class:`Unchanged` hint, and no blocks are compared; without a hint the
blocks before each mark are compared with the previous pieces'.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import accumulate, chain
from typing import Any, NamedTuple

from drago.render.canonical import canonical_json

#: Entries per block where a list is cut anew (:func:`blocks_of`); a block
#: that grows past twice this (peers inserted) is split.
BLOCK = 128
#: Consecutive entries of a peer list (fragments or quoted digests), never empty.
Block = tuple[bytes, ...]
#: One interface of the digest form: head, quoted peer digests in blocks, tail.
Pieces = tuple[bytes, tuple[Block, ...], bytes]


def blocks_of(entries: Sequence[bytes], size: int = BLOCK) -> tuple[Block, ...]:
    """``entries`` cut into blocks of ``size`` (the last one shorter)."""
    return tuple(tuple(entries[i : i + size]) for i in range(0, len(entries), size))


def flat(blocks: tuple[Block, ...]) -> tuple[bytes, ...]:
    """The entries of ``blocks``, in order."""
    return tuple(chain.from_iterable(blocks))


def block_ends(blocks: Sequence[Block]) -> tuple[int, ...]:
    """Where each of ``blocks`` ends in the list they make up."""
    return tuple(accumulate(map(len, blocks)))


def locate(ends: Sequence[int], index: int) -> tuple[int, int]:
    """The block holding entry ``index`` of a list in blocks ending at ``ends``
    (:func:`block_ends`), and the entry's offset in it."""
    block = bisect_right(ends, index)
    return block, index - (ends[block - 1] if block else 0)


class EditedBlocks:
    """A list in blocks being edited by entry index: the tuple of blocks is
    copied, and a block only when one of its entries changes; a block that
    grows past twice ``size`` is split, one left empty is dropped. The blocks
    before the first edited entry keep their bounds (what resuming a hash
    from them needs)."""

    def __init__(self, blocks: tuple[Block, ...], size: int = BLOCK) -> None:
        self.blocks = [block for block in blocks if block]  # (none is empty: never kept)
        self.ends = list(block_ends(self.blocks))
        self._size = size

    def _locate(self, at: int) -> tuple[int, int]:
        """The block holding entry ``at`` and the offset there (for ``at`` at
        the end: past the last entry of the last block)."""
        ends = self.ends
        if at and at == ends[-1]:
            return len(ends) - 1, at - (ends[-2] if len(ends) > 1 else 0)
        return locate(ends, at)

    def replace(self, at: int, entry: bytes) -> bytes:
        """Entry ``at`` replaced by ``entry``; the entry it was."""
        block, offset = self._locate(at)
        entries = list(self.blocks[block])
        old, entries[offset] = entries[offset], entry
        self.blocks[block] = tuple(entries)
        return old

    def remove(self, at: int) -> bytes:
        """Entry ``at`` removed; the entry it was."""
        block, offset = self._locate(at)
        entries = list(self.blocks[block])
        old = entries.pop(offset)
        if entries:
            self.blocks[block] = tuple(entries)
        else:
            del self.blocks[block]
        self.ends = list(block_ends(self.blocks))
        return old

    def insert(self, at: int, entry: bytes) -> None:
        """``entry`` inserted as entry ``at`` (``at`` up to the length)."""
        if not self.blocks:
            self.blocks, self.ends = [(entry,)], [1]
            return
        block, offset = self._locate(at)
        entries = list(self.blocks[block])
        entries.insert(offset, entry)
        if len(entries) > 2 * self._size:
            half = len(entries) // 2
            self.blocks[block : block + 1] = [tuple(entries[:half]), tuple(entries[half:])]
        else:
            self.blocks[block] = tuple(entries)
        self.ends = list(block_ends(self.blocks))

    def done(self) -> tuple[tuple[Block, ...], tuple[int, ...]]:
        """The blocks and where each ends."""
        return tuple(self.blocks), tuple(self.ends)


_PREFIX = b'{"interfaces":['


class Mark(NamedTuple):
    """The hash state after interface ``interface``'s first ``blocks`` blocks,
    which hold its first ``fed`` digests. (A named tuple: a node's hash makes
    one per block, and it is built faster.)"""

    interface: int
    blocks: int
    fed: int
    state: Any  # hashlib's object: copied before every use, never updated


@dataclass(frozen=True, slots=True)
class NodeHash:
    """A node's hash and what resuming it needs.

    Two are equal when their digests are: the pieces and the marks are what
    resuming needs, and where the marks fall depends on the history of changes
    (a config keeps one, and equal configs must stay equal).
    """

    pieces: tuple[Pieces, ...] = field(compare=False)
    digest: str
    marks: tuple[Mark, ...] = field(compare=False)

    def __deepcopy__(self, memo: dict[int, Any]) -> NodeHash:
        return self  # immutable (the marks' states are copied before every use)


@dataclass(frozen=True, slots=True)
class Unchanged:
    """A caller's promise about new pieces compared with the previous ones:
    every interface before ``interface`` is the same, and so are the head and
    the first ``digests`` peer digests of ``interface`` (-1: not even its head).
    A hint may understate what is unchanged (resuming earlier costs only time),
    never overstate it."""

    interface: int
    digests: int


def _resume_point(old: NodeHash, pieces: tuple[Pieces, ...]) -> int:
    """How many of ``old``'s marks still hold for ``pieces`` (a prefix of them):
    a mark holds when every block before it is the same in both."""
    valid = 0
    same_before = 0  # interfaces known equal in both, from the first
    since = (-1, 0)  # the interface and block count of the last mark that held
    for mark in old.marks:
        index = mark.interface
        if index >= len(pieces):
            break
        while same_before < index:  # every interface before the mark's is unchanged
            if old.pieces[same_before] != pieces[same_before]:
                return valid
            same_before += 1
        old_head, old_blocks, _ = old.pieces[index]
        head, blocks, _ = pieces[index]
        if old_head != head:
            break
        first, upto = since[1] if since[0] == index else 0, mark.blocks
        if old_blocks is not blocks and (
            len(blocks) < upto or old_blocks[first:upto] != blocks[first:upto]
        ):
            break
        since = (index, mark.blocks)
        valid += 1
    return valid


def _hinted_resume_point(old: NodeHash, pieces: tuple[Pieces, ...], hint: Unchanged) -> int:
    """How many of ``old``'s marks hold for ``pieces``, given what ``hint``
    promises: a mark holds when the digests it covers are promised unchanged and
    the new blocks before it hold exactly that many (so the blocks after it are
    what follows)."""
    valid = 0
    counting, counted, total = -1, 0, 0  # interface, its blocks counted, their digests
    for mark in old.marks:
        index = mark.interface
        if index >= len(pieces) or index > hint.interface:
            break
        if index == hint.interface and mark.fed > hint.digests:
            break
        blocks = pieces[index][1]
        if mark.blocks > len(blocks):
            break
        if index != counting:
            counting, counted, total = index, 0, 0
        while counted < mark.blocks:
            total += len(blocks[counted])
            counted += 1
        if total != mark.fed:
            break
        valid += 1
    return valid


def hash_node(
    node: str,
    pieces: tuple[Pieces, ...],
    old: NodeHash | None = None,
    *,
    hint: Unchanged | None = None,
) -> NodeHash:
    """The hash of ``node``'s digest form, resumed from ``old`` where it still
    holds (where ``hint`` says it does, when given)."""
    if old is None:
        valid = 0
    elif hint is not None:
        valid = _hinted_resume_point(old, pieces, hint)
    else:
        valid = _resume_point(old, pieces)
    marks: list[Mark] = []
    if valid:
        assert old is not None
        marks = list(old.marks[:valid])
        last = marks[-1]
        sink = last.state.copy()
        start_interface, start_block, start_fed = last.interface, last.blocks, last.fed
    else:
        sink = hashlib.sha256(_PREFIX)
        start_interface, start_block, start_fed = 0, -1, 0
    for index in range(start_interface, len(pieces)):
        head, blocks, tail = pieces[index]
        if index == start_interface and start_block >= 0:
            block, fed = start_block, start_fed
        else:  # the interface from its start
            sink.update(b"," + head if index else head)
            block, fed = 0, 0
        while block < len(blocks):
            entries = blocks[block]
            block += 1
            if not entries:
                continue
            if fed:
                sink.update(b",")
            sink.update(b",".join(entries))
            fed += len(entries)
            marks.append(Mark(index, block, fed, sink.copy()))
        sink.update(tail)
    sink.update(b'],"node":' + canonical_json(node) + b"}")
    return NodeHash(pieces, sink.hexdigest(), tuple(marks))


__all__ = [
    "BLOCK",
    "Block",
    "EditedBlocks",
    "Mark",
    "NodeHash",
    "Pieces",
    "Unchanged",
    "block_ends",
    "blocks_of",
    "flat",
    "hash_node",
    "locate",
]
