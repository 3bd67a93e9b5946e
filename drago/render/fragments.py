"""Pieces of the canonical form, encoded once and joined many times.

A node's canonical form is ``{"interfaces":[I1,I2,...],"node":"x"}`` and each
interface is ``HEAD P1,P2,... TAIL`` where ``Pn`` is the canonical JSON of one
peer. Peers are the bulk of the bytes and are shared between nodes (in a full
mesh every node sees peer ``y`` the same way), so the renderer encodes each peer
entry once, with its digest, and builds a node's form by joining cached
fragments. Every piece is produced by
:func:`drago.render.config.canonical_json`, so the joined bytes are exactly the
canonical JSON of the whole config; the hash joins the peers' digests in the
same places (:func:`drago.render.config.digest_form_hash`).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain
from typing import Protocol

from drago.model.names import default_ifname
from drago.model.state import State
from drago.model.topology import PeerLink
from drago.render.canonical import canonical_object
from drago.render.config import (
    PENDING_NO_KEY,
    canonical_json,
    peer_digest,
    quoted,
    split_at_peers,
)
from drago.render.delta import FIELDS
from drago.render.digestform import Block, flat, locate

_INTERFACES_MARK = b'"interfaces":[]'


class _Hasher(Protocol):
    def update(self, data: bytes, /) -> None: ...


@dataclass(frozen=True, slots=True)
class PeerInfo:
    """What a node's peers see of it in one network besides the link (allowed
    IPs and keepalive come from :mod:`drago.model.topology`)."""

    name: str
    public_key: str | None
    endpoint: str | None


@dataclass(frozen=True, slots=True)
class SelfInfo:
    """A node's own interface settings in one network (the interface head)."""

    network: str
    ifname: str
    address: str
    listen_port: int
    mtu: int | None
    dns: tuple[str, ...]
    public_key: str | None


def describe(state: State, node: str, network: str) -> tuple[PeerInfo, SelfInfo]:
    """The peer view and the own view of ``node``'s interface in ``network``."""
    net = state.networks[network]
    spec = state.nodes[node].interfaces[network]
    host = state.nodes[node].endpoint
    listen_port = spec.listen_port or net.listen_port
    endpoint = None
    if host is not None:
        port = spec.endpoint_port or listen_port
        shown = f"[{host}]" if ":" in host else host
        endpoint = f"{shown}:{port}"
    public_key = state.public_key(node, network)
    peer = PeerInfo(node, public_key, endpoint)
    own = SelfInfo(
        network=network,
        ifname=spec.ifname or default_ifname(network),
        address=str(spec.address),
        listen_port=listen_port,
        mtu=spec.mtu if spec.mtu is not None else net.mtu,
        dns=tuple(str(a) for a in (spec.dns if spec.dns is not None else net.dns)),
        public_key=public_key,
    )
    return peer, own


def peer_fragment(info: PeerInfo, link: PeerLink) -> tuple[bytes, bytes]:
    """The canonical JSON of the peer ``info`` over ``link``, and its quoted digest."""
    fragment = canonical_json(
        {
            "name": info.name,
            "public_key": info.public_key,
            "endpoint": info.endpoint,
            "allowed_ips": [str(net) for net in link.allowed_ips],
            "persistent_keepalive": link.persistent_keepalive,
        }
    )
    return fragment, quoted(peer_digest(fragment))


@dataclass(frozen=True, slots=True)
class InterfacePart:
    """One interface of a node's canonical form: ``head`` + the peer fragments
    joined by commas + ``tail`` (its digest form is ``head`` + the digests
    joined by commas + ``tail``, with the digests the renderer keeps for its
    current parts only: old render results do not need them).

    The fragments come in blocks (:data:`~drago.render.digestform.BLOCK` or
    so each, never empty): a render that changes one peer's entry copies its
    block and the short tuple of blocks, not a list of every peer, and the
    other blocks are shared with the part it was patched from. ``ends`` holds
    where each block ends (the index after its last entry). ``names`` are
    the keyed peers by name, parallel to the entries; ``size`` is the length
    of the canonical form; ``fields`` holds the canonical JSON of each of
    :data:`drago.render.delta.FIELDS` in that order (the values in ``head``
    and ``tail``, which a delta's ``set`` compares and copies). Render results
    share parts and compare them by identity. Tuples, not lists: the garbage
    collector stops tracking a tuple of strings, so the ~1M entries of a
    1,000-node mesh (times the kept revisions) cost a full collection nothing.
    """

    network: str
    head: bytes
    names: tuple[str, ...]
    blocks: tuple[Block, ...]
    ends: tuple[int, ...]
    tail: bytes
    size: int
    fields: tuple[bytes, ...]

    @staticmethod
    def measure(head: bytes, blocks: tuple[Block, ...], tail: bytes) -> int:
        """The ``size`` of a part (for a new one; a changed one adjusts its old size)."""
        entries = sum(map(len, blocks))
        fragments = sum(len(fragment) for block in blocks for fragment in block)
        return len(head) + fragments + max(entries - 1, 0) + len(tail)

    @property
    def peers(self) -> tuple[bytes, ...]:
        """The peer fragments, in name order (a copy: :attr:`blocks` is what is kept)."""
        return flat(self.blocks)

    def peer_at(self, index: int) -> bytes:
        """The fragment of the ``index``-th keyed peer."""
        block, offset = locate(self.ends, index)
        return self.blocks[block][offset]

    def feed(self, sink: _Hasher) -> None:
        sink.update(self.head)
        sink.update(b",".join(chain.from_iterable(self.blocks)))
        sink.update(self.tail)


def interface_fields(own: SelfInfo, pending: list[str]) -> tuple[bytes, ...]:
    """The canonical JSON of each of :data:`~drago.render.delta.FIELDS` of an
    interface (what its head and tail are spliced from)."""
    values = {
        "ifname": own.ifname,
        "address": own.address,
        "listen_port": own.listen_port,
        "mtu": own.mtu,
        "dns": list(own.dns),
        "public_key": own.public_key,
    }
    values_json = {name: canonical_json(value) for name, value in values.items()}
    values_json["pending_peers"] = pending_field(pending)
    return tuple(values_json[name] for name in FIELDS)


def pending_field(pending: list[str]) -> bytes:
    """The canonical JSON of an interface's ``pending_peers`` (names in order)."""
    return canonical_json([{"name": n, "reason": PENDING_NO_KEY} for n in pending])


#: Where ``pending_peers`` is in :data:`~drago.render.delta.FIELDS`.
PENDING_FIELD = FIELDS.index("pending_peers")


def interface_edges(network: str, fields: tuple[bytes, ...]) -> tuple[bytes, bytes]:
    """The head and tail around an interface's peer fragments, spliced from its
    network name and its fields (:func:`interface_fields`)."""
    members = dict(zip(FIELDS, fields, strict=True))
    members.update(network=canonical_json(network), peers=b"[]")
    return split_at_peers(canonical_object(members))


def node_edges(node: str) -> tuple[bytes, bytes]:
    """The prefix and suffix around a node's interface parts."""
    whole = canonical_json({"interfaces": [], "node": node})
    head, _, tail = whole.partition(_INTERFACES_MARK)
    return head + _INTERFACES_MARK[:-1], _INTERFACES_MARK[-1:] + tail


def feed_node(sink: _Hasher, node: str, parts: tuple[InterfacePart, ...]) -> None:
    """Write ``node``'s canonical form into ``sink`` piece by piece."""
    prefix, suffix = node_edges(node)
    sink.update(prefix)
    for index, part in enumerate(parts):
        if index:
            sink.update(b",")
        part.feed(sink)
    sink.update(suffix)


class _Collector:
    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def update(self, data: bytes, /) -> None:
        self.chunks.append(data)


def node_bytes(node: str, parts: tuple[InterfacePart, ...]) -> bytes:
    """``node``'s canonical form as one bytes object."""
    collector = _Collector()
    feed_node(collector, node, parts)
    return b"".join(collector.chunks)


__all__ = [
    "PENDING_FIELD",
    "InterfacePart",
    "PeerInfo",
    "SelfInfo",
    "describe",
    "feed_node",
    "interface_edges",
    "interface_fields",
    "node_bytes",
    "peer_fragment",
    "pending_field",
]
