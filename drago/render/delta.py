"""Config deltas: what changed in one node's config between two hashes.

The server answers a long-poll with a :class:`ConfigDelta` instead of the whole
config when the agent negotiated deltas and the server still knows the config
the agent holds (``docs/architecture.md``, "Rendered node config"). The full
config stays the ground truth: the agent applies the delta to the config it
holds (:func:`apply_delta`) and keeps the result only when its hash (v2) is the
delta's ``hash``; anything else raises :class:`~drago.errors.DeltaMismatch` and
the agent fetches the whole config.

A delta is parsed as strictly as a full config (the same grammar-constrained
types), and applying one validates only what it carries: unchanged peers are
the base config's own, already validated objects with their digests, and the
hash is resumed from the base config's hash state before the first changed
digest, so applying and verifying a one-peer delta to a 1,000-peer config
costs a few tens of microseconds.

This module is imported by the agent: keep it free of server-side imports.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Any

from pydantic import field_validator, model_validator

from drago.errors import DeltaMismatch
from drago.render.config import (
    Cidr,
    Digest,
    Frozen,
    IfName,
    InterfaceConfig,
    IpAddress,
    Mtu,
    Name,
    NodeConfig,
    PeerConfig,
    PendingPeer,
    Port,
    PublicKey,
    Revision,
    by_name,
    canonical_json,
)
from drago.render.digestform import Block, EditedBlocks, Pieces, Unchanged, hash_node

#: The media type of a delta body.
MEDIA_TYPE = "application/vnd.drago.config-delta+json"
#: The instance-manipulation name a client sends in ``A-IM`` (RFC 3229).
DELTA_IM = "drago-delta"
#: Interface fields a delta sets by value (all but ``network`` and ``peers``).
FIELDS = ("ifname", "address", "listen_port", "mtu", "dns", "public_key", "pending_peers")
_NOT_NULL = frozenset({"ifname", "address", "listen_port", "dns", "pending_peers"})


class InterfaceFields(Frozen):
    """The ``set`` of an interface delta: the fields present are the new values
    (``mtu`` and ``public_key`` may be set to null); absent fields are unchanged."""

    ifname: IfName | None = None
    address: Cidr | None = None
    listen_port: Port | None = None
    mtu: Mtu | None = None
    dns: tuple[IpAddress, ...] | None = None
    public_key: PublicKey | None = None
    pending_peers: tuple[PendingPeer, ...] | None = None

    @field_validator("pending_peers")
    @classmethod
    def _pending_by_name(
        cls, value: tuple[PendingPeer, ...] | None
    ) -> tuple[PendingPeer, ...] | None:
        return None if value is None else by_name(value)

    @model_validator(mode="after")
    def _present_means_a_value(self) -> InterfaceFields:
        for name in sorted(self.model_fields_set & _NOT_NULL):
            if getattr(self, name) is None:
                raise ValueError(f"{name} may not be null")
        return self

    def values(self) -> dict[str, Any]:
        """The fields present, by name."""
        return {name: getattr(self, name) for name in FIELDS if name in self.model_fields_set}


def _unique(what: str, names: list[str]) -> None:
    if len(set(names)) != len(names):
        raise ValueError(f"{what} name the same entry twice")


class InterfaceDelta(Frozen):
    """What changed in one interface (or all of a new one)."""

    network: Name
    set: InterfaceFields = InterfaceFields()
    #: Peers added or changed, whole objects.
    peers: tuple[PeerConfig, ...] = ()
    #: Names of the peers removed.
    remove_peers: tuple[Name, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> InterfaceDelta:
        names = [p.name for p in self.peers]
        _unique("peers", names)
        _unique("remove_peers", list(self.remove_peers))
        if not frozenset(names).isdisjoint(self.remove_peers):
            raise ValueError("a peer is both set and removed")
        object.__setattr__(self, "peers", tuple(sorted(self.peers, key=lambda p: p.name)))
        object.__setattr__(self, "remove_peers", tuple(sorted(self.remove_peers)))
        return self

    def as_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"network": self.network}
        fields = self.set.model_dump(mode="json", include=self.set.model_fields_set)
        if fields:
            entry["set"] = fields
        if self.peers:
            entry["peers"] = [p.model_dump(mode="json") for p in self.peers]
        if self.remove_peers:
            entry["remove_peers"] = list(self.remove_peers)
        return entry


class ConfigDelta(Frozen):
    """The changes from the config with hash ``base`` to the one with ``hash``."""

    node: Name
    base: Digest
    hash: Digest
    revision: Revision | None = None
    #: One entry per new or changed interface, by network.
    interfaces: tuple[InterfaceDelta, ...] = ()
    #: Networks whose interface is removed.
    remove_interfaces: tuple[Name, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> ConfigDelta:
        networks = [i.network for i in self.interfaces]
        _unique("interfaces", networks)
        _unique("remove_interfaces", list(self.remove_interfaces))
        if not frozenset(networks).isdisjoint(self.remove_interfaces):
            raise ValueError("an interface is both changed and removed")
        ordered = tuple(sorted(self.interfaces, key=lambda i: i.network))
        object.__setattr__(self, "interfaces", ordered)
        object.__setattr__(self, "remove_interfaces", tuple(sorted(self.remove_interfaces)))
        return self

    def to_json(self) -> bytes:
        """The delta body: canonical JSON (sorted keys, compact), empty parts left out."""
        body: dict[str, Any] = {
            "node": self.node,
            "base": self.base,
            "hash": self.hash,
            "revision": self.revision,
            "interfaces": [i.as_json() for i in self.interfaces],
        }
        if self.remove_interfaces:
            body["remove_interfaces"] = list(self.remove_interfaces)
        return canonical_json(body)


def _changed_fields(old: InterfaceConfig | None, new: InterfaceConfig) -> InterfaceFields:
    values = {name: getattr(new, name) for name in FIELDS}
    if old is not None:
        values = {k: v for k, v in values.items() if getattr(old, k) != v}
    return InterfaceFields(**values)


def make_delta(base: NodeConfig, new: NodeConfig) -> ConfigDelta:
    """The delta that turns ``base`` into ``new`` (configs of the same node)."""
    if base.node != new.node:
        raise DeltaMismatch(f"configs of two nodes ({base.node!r}, {new.node!r}) have no delta")
    old_interfaces = {i.network: i for i in base.interfaces}
    entries: list[InterfaceDelta] = []
    for iface in new.interfaces:
        old = old_interfaces.get(iface.network)
        before = {p.name: p for p in old.peers} if old is not None else {}
        fields = _changed_fields(old, iface)
        peers = tuple(p for p in iface.peers if before.get(p.name) != p)
        names = {p.name for p in iface.peers}
        removed = tuple(name for name in before if name not in names)
        if old is None or fields.model_fields_set or peers or removed:
            entries.append(
                InterfaceDelta(network=iface.network, set=fields, peers=peers, remove_peers=removed)
            )
    networks = {i.network for i in new.interfaces}
    return ConfigDelta(
        node=new.node,
        base=base.hash,
        hash=new.hash,
        revision=new.revision,
        interfaces=tuple(entries),
        remove_interfaces=tuple(n for n in old_interfaces if n not in networks),
    )


def _name(peer: PeerConfig) -> str:
    return peer.name


def _apply_peers(
    network: str, peers: tuple[PeerConfig, ...], digests: tuple[Block, ...], change: InterfaceDelta
) -> tuple[tuple[PeerConfig, ...], tuple[Block, ...], int]:
    """``peers`` and the blocks of their quoted digests (parallel) with ``change``
    applied, and the index of the first entry that may differ (``len(peers)``
    when none does). Only the digest blocks that change are copied."""
    if not change.peers and not change.remove_peers:
        return peers, digests, len(peers)
    result = list(peers)
    quoted = EditedBlocks(digests)
    first = len(result)
    for name in change.remove_peers:
        at = bisect_left(result, name, key=_name)
        if at == len(result) or result[at].name != name:
            raise DeltaMismatch(f"{network}: the delta removes peer {name!r}, which is not there")
        del result[at]
        quoted.remove(at)
        first = min(first, at)
    for peer in change.peers:
        at = bisect_left(result, peer.name, key=_name)
        if at < len(result) and result[at].name == peer.name:
            result[at] = peer
            quoted.replace(at, peer.digest_json)
        else:
            result.insert(at, peer)
            quoted.insert(at, peer.digest_json)
        first = min(first, at)
    return tuple(result), quoted.done()[0], first


def _apply_interface(
    old: tuple[InterfaceConfig, Pieces] | None, change: InterfaceDelta
) -> tuple[InterfaceConfig, Pieces, int]:
    """The interface with ``change`` applied, its digest form, and how many of
    its peer digests are unchanged from the front (-1: its head changed)."""
    fields = change.set.values()
    if old is None:
        missing = [name for name in FIELDS if name not in fields]
        if missing:
            raise DeltaMismatch(
                f"{change.network}: a new interface lacks {', '.join(missing)} in the delta"
            )
        peers, blocks, _ = _apply_peers(change.network, (), (), change)
        iface = InterfaceConfig.model_construct(network=change.network, peers=peers, **fields)
        head, tail = iface.edges()
        return iface, (head, blocks, tail), -1
    was, (head, old_blocks, tail) = old
    peers, blocks, first = _apply_peers(was.network, was.peers, old_blocks, change)
    iface = was.model_copy(update={**fields, "peers": peers})
    if fields:  # the head or the tail may differ (peers are not in either)
        new_head, tail = iface.edges()
        if new_head != head:
            head, first = new_head, -1
    return iface, (head, blocks, tail), first


def apply_delta(base: NodeConfig, delta: ConfigDelta) -> NodeConfig:
    """``base`` with ``delta`` applied, verified against ``delta.hash``.

    Raises :class:`~drago.errors.DeltaMismatch` when the delta is for another
    node or base, removes what is not there, adds an incomplete interface, or
    when the result's hash (v2) is not ``delta.hash``; ``base`` is never changed.
    The hash is resumed from ``base``'s hash state before the first peer digest
    the delta may change: the cost follows the change and what comes after it
    in the digest form, not the number of peers.
    """
    if delta.node != base.node:
        raise DeltaMismatch(f"the delta is for node {delta.node!r}, not {base.node!r}")
    if delta.base != base.hash:
        raise DeltaMismatch(f"the delta applies to {delta.base}, the config held is {base.hash}")
    state = base.digest_state()
    interfaces = {
        i.network: (i, pieces) for i, pieces in zip(base.interfaces, state.pieces, strict=True)
    }
    for network in delta.remove_interfaces:
        if interfaces.pop(network, None) is None:
            raise DeltaMismatch(f"the delta removes interface {network!r}, which is not there")
    unchanged: dict[str, int] = {}  # changed network -> peer digests unchanged from the front
    for change in delta.interfaces:
        iface, pieces, first = _apply_interface(interfaces.get(change.network), change)
        interfaces[change.network] = (iface, pieces)
        unchanged[change.network] = first
    networks = sorted(interfaces)
    ordered = tuple(interfaces[n][0] for n in networks)
    new_pieces = tuple(interfaces[n][1] for n in networks)
    hint = Unchanged(len(networks), -1)  # unless an interface differs before the end
    for index, network in enumerate(networks):
        if index == len(base.interfaces) or base.interfaces[index].network != network:
            hint = Unchanged(index, -1)  # an interface added or removed here
            break
        if network in unchanged:
            hint = Unchanged(index, unchanged[network])
            break
    found = hash_node(base.node, new_pieces, state, hint=hint)
    if found.digest != delta.hash:
        raise DeltaMismatch(f"the config after the delta has hash {found.digest}, not {delta.hash}")
    config = base.model_copy(
        update={"interfaces": ordered, "hash": found.digest, "revision": delta.revision}
    )
    config._digest_state = found  # as validation sets it (nobody has seen the config yet)
    return config


__all__ = [
    "DELTA_IM",
    "FIELDS",
    "MEDIA_TYPE",
    "ConfigDelta",
    "DeltaMismatch",
    "InterfaceDelta",
    "InterfaceFields",
    "apply_delta",
    "make_delta",
]
