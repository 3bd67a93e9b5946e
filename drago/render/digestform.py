"""A node's hash (v2) from its digest form, resumed from where it last changed.

The digest form of a node (:func:`drago.render.config.digest_form_hash`) is
``{"interfaces":[`` + per interface ``head`` + the quoted peer digests joined by
commas + ``tail`` + ``],"node":...}``. SHA-256 reads it front to back, so when
a render changes the entry of one peer, everything before that entry hashes as
before. :func:`hash_node` keeps a copy of the hash state every
:data:`CHUNK` digests (a *mark*) and, given the previous :class:`NodeHash`,
resumes from the last mark before the first difference: on average half of a
large interface is not hashed again, and a change near its end costs next to
nothing. The result is the same digest as hashing the whole form.

A caller that knows where the first difference can be (the renderer and
:func:`drago.render.delta.apply_delta` know which entries they replaced) says so
with a :class:`Unchanged` hint, and no slices are compared; without a hint the
marks are checked against the previous pieces.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from drago.render.canonical import canonical_json

#: Digests between two marks.
CHUNK = 128
#: One interface of the digest form: head, quoted peer digests, tail.
Pieces = tuple[bytes, tuple[bytes, ...], bytes]

_PREFIX = b'{"interfaces":['


class Mark(NamedTuple):
    """The hash state after interface ``interface``'s first ``fed`` digests; the
    mark before it in the interface (or its start) was at ``since``. (A named
    tuple: a node's hash makes one per 128 digests, and it is built faster.)"""

    interface: int
    since: int
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
    """How many of ``old``'s marks still hold for ``pieces`` (a prefix of them)."""
    valid = 0
    same_before = 0  # interfaces known equal in both, from the first
    for mark in old.marks:
        index = mark.interface
        if index >= len(pieces):
            break
        while same_before < index:  # every interface before the mark's is unchanged
            if old.pieces[same_before] != pieces[same_before]:
                return valid
            same_before += 1
        old_head, old_digests, _ = old.pieces[index]
        head, digests, _ = pieces[index]
        if old_head != head:
            break
        if old_digests is not digests and (
            len(digests) < mark.fed
            or old_digests[mark.since : mark.fed] != digests[mark.since : mark.fed]
        ):
            break
        valid += 1
    return valid


def _hinted_resume_point(old: NodeHash, pieces: tuple[Pieces, ...], hint: Unchanged) -> int:
    """How many of ``old``'s marks hold for ``pieces``, given what ``hint`` promises."""
    valid = 0
    for mark in old.marks:
        if mark.interface >= len(pieces) or mark.interface > hint.interface:
            break
        if mark.interface == hint.interface and mark.fed > hint.digests:
            break
        valid += 1
    return valid


def hash_node(
    node: str,
    pieces: tuple[Pieces, ...],
    old: NodeHash | None = None,
    *,
    hint: Unchanged | None = None,
    chunk: int = CHUNK,
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
        start_interface, start_fed = last.interface, last.fed
    else:
        sink = hashlib.sha256(_PREFIX)
        start_interface, start_fed = 0, -1
    for index in range(start_interface, len(pieces)):
        head, digests, tail = pieces[index]
        fed = start_fed if index == start_interface else -1
        if fed < 0:  # the interface from its start
            sink.update(b"," + head if index else head)
            fed = 0
        count = len(digests)
        while fed < count:
            end = fed + chunk if fed + chunk < count else count
            if fed:
                sink.update(b",")
            sink.update(b",".join(digests[fed:end]))
            marks.append(Mark(index, fed, end, sink.copy()))
            fed = end
        sink.update(tail)
    sink.update(b'],"node":' + canonical_json(node) + b"}")
    return NodeHash(pieces, sink.hexdigest(), tuple(marks))


__all__ = ["CHUNK", "Mark", "NodeHash", "Pieces", "Unchanged", "hash_node"]
