"""The rendered configuration of one node: what the server sends each agent.

The JSON shape is a contract (``docs/architecture.md``, "Rendered node config").
The *canonical form* of a config is the object without ``hash`` and
``revision``, as JSON with sorted keys and no spaces, UTF-8. ``hash`` is the
*peer-digest hash* (v2, :func:`config_hash`): the SHA-256 hex digest of the
canonical form with every ``peers`` list replaced by the SHA-256 hex digests of
its peers' canonical JSON. It is a function of the full config that anyone can
recompute with a JSON encoder, and changing one peer re-hashes that peer and
~67 bytes per other peer instead of the whole document (deltas and the renderer
rely on that).

Every string field is constrained by the grammar of :mod:`drago.grammar` (checked
in pydantic-core), so a parsed config carries no value that could add a line to a
wg-quick file or a UAPI stream: the agent re-validates what it receives by parsing it.

This module is imported by the agent: keep it free of server-side imports.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Iterable, Mapping
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    field_validator,
    model_validator,
)

from drago import grammar
from drago.render.canonical import (
    canonical_json,
    canonical_object,
    peer_digest,
    quoted,
    sha256_hex,
)
from drago.render.digestform import NodeHash, Pieces, blocks_of, flat, hash_node


def _grammar(pattern: str) -> StringConstraints:
    return StringConstraints(strict=True, pattern=grammar.anchored(pattern))


def _nonzero_key(value: str) -> str:
    if value == grammar.ZERO_KEY:
        raise ValueError("the all-zero key is not a public key")
    return value


def _safe_text(value: str) -> str:
    return grammar.check_text(value)


Name = Annotated[str, _grammar(grammar.NAME)]
IfName = Annotated[str, _grammar(grammar.IFNAME)]
PublicKey = Annotated[str, _grammar(grammar.PUBLIC_KEY), AfterValidator(_nonzero_key)]
Endpoint = Annotated[str, _grammar(grammar.ENDPOINT)]
Cidr = Annotated[str, _grammar(grammar.CIDR)]
IpAddress = Annotated[str, _grammar(grammar.IP)]
ConfigHash = Annotated[str, _grammar(f"(?:{grammar.CONFIG_HASH})?")]
#: A config hash that must be present (a delta's base and result).
Digest = Annotated[str, _grammar(grammar.CONFIG_HASH)]
Port = Annotated[int, Field(ge=1, le=65535, strict=True)]
Mtu = Annotated[int, Field(ge=576, le=65535, strict=True)]
Keepalive = Annotated[int, Field(ge=1, le=65535, strict=True)]
Revision = Annotated[str, _grammar(grammar.REVISION)]
Text = Annotated[str, Field(strict=True), AfterValidator(_safe_text)]

#: Keys of the document that are not part of the canonical form.
ENVELOPE_KEYS = frozenset({"hash", "revision"})

PENDING_NO_KEY = "no public key registered"


def config_hash(document: Mapping[str, Any]) -> str:
    """The hash (v2) of a config given as JSON data (the canonical form or the full
    document: ``hash`` and ``revision`` are left out).

    The recipe, in any language: replace each interface's ``peers`` list by the
    list of SHA-256 hex digests of each peer's canonical JSON (same order), then
    take the SHA-256 hex digest of the canonical JSON of the whole object.
    """
    form = {k: v for k, v in document.items() if k not in ENVELOPE_KEYS}
    form["interfaces"] = [
        {**iface, "peers": [peer_digest(canonical_json(p)) for p in iface["peers"]]}
        if "peers" in iface
        else iface
        for iface in document.get("interfaces", [])
    ]
    return sha256_hex(canonical_json(form))


def legacy_hash(document: Mapping[str, Any]) -> str:
    """The hash servers before v2 sent: SHA-256 hex of the whole canonical form."""
    return sha256_hex(canonical_json({k: v for k, v in document.items() if k not in ENVELOPE_KEYS}))


def digest_form_hash(node: str, interfaces: Iterable[tuple[bytes, Iterable[bytes], bytes]]) -> str:
    """The v2 hash from pieces of the digest form: per interface (in network
    order) the canonical JSON before its peer digests (ending in ``"peers":[``),
    the quoted digests (:func:`quoted`) and the JSON after them (from ``]``).

    This is how the renderer and :func:`drago.render.delta.apply_delta` combine
    cached peer digests without encoding any peer again.
    """
    sink = hashlib.sha256(b'{"interfaces":[')
    for index, (head, digests, tail) in enumerate(interfaces):
        if index:
            sink.update(b",")
        sink.update(head)
        sink.update(b",".join(digests))
        sink.update(tail)
    sink.update(b'],"node":' + canonical_json(node) + b"}")
    return sink.hexdigest()


_PEERS_MARK = b'"peers":[]'


def split_at_peers(canonical_interface: bytes) -> tuple[bytes, bytes]:
    """An interface's canonical JSON, encoded with an empty ``peers`` list, cut
    into the part up to ``"peers":[`` and the part from ``]``."""
    head, mark, tail = canonical_interface.partition(_PEERS_MARK)
    if not mark:
        raise ValueError("a canonical interface has a peers list")
    return head + _PEERS_MARK[:-1], _PEERS_MARK[-1:] + tail


def envelope(canonical: bytes, digest: str, revision: str | None) -> bytes:
    """The full document (with ``hash`` and ``revision``) around a canonical form.

    Keys stay sorted: ``hash`` sorts before and ``revision`` after every key of
    the canonical form (``interfaces``, ``node``).
    """
    if not (canonical.startswith(b"{") and canonical.endswith(b"}")):
        raise ValueError("a canonical config is a JSON object")
    body = canonical[1:-1]
    rev = canonical_json(revision)
    sep = b"," if body else b""
    return b'{"hash":' + canonical_json(digest) + sep + body + b',"revision":' + rev + b"}"


#: An IPv4 CIDR as :mod:`ipaddress` reads it (no leading zeros in an octet);
#: the values of the octets and of the prefix are checked by the caller.
_OCTET = "(0|[1-9][0-9]{0,2})"
_IPV4_CIDR = re.compile(rf"{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}/([0-9]{{1,2}})")


def address_sort_key(cidr: str) -> tuple[int, bytes, int]:
    """Sort key for CIDR strings in address order (IPv4 before IPv6): the IP
    version, the network address (host bits cleared) and the prefix length."""
    found = _IPV4_CIDR.fullmatch(cidr)
    if found is not None:  # most allowed IPs: read without ipaddress's parser
        a, b, c, d, prefix = map(int, found.groups())
        if a <= 255 and b <= 255 and c <= 255 and d <= 255 and prefix <= 32:
            host = 32 - prefix
            network = (a << 24 | b << 16 | c << 8 | d) >> host << host
            return 4, network.to_bytes(4, "big"), prefix
    net = ipaddress.ip_network(cidr, strict=False)
    return net.version, net.network_address.packed, net.prefixlen


class Frozen(BaseModel):
    """The base of the config models: immutable, unknown keys refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class PeerConfig(Frozen):
    """One ``[Peer]`` of an interface; :attr:`digest` is computed once, when built."""

    name: Name
    public_key: PublicKey
    #: ``host:port`` (IPv6 hosts in brackets), or None when the peer has no endpoint.
    endpoint: Endpoint | None = None
    allowed_ips: tuple[Cidr, ...] = ()
    #: Seconds, or None for off.
    persistent_keepalive: Keepalive | None = None

    #: The canonical JSON and the quoted digest, set by model_post_init. One
    #: attribute and no default: pydantic spends ~2 µs per private attribute
    #: and default on every instance.
    _encoded: tuple[bytes, bytes] = PrivateAttr()

    @field_validator("allowed_ips")
    @classmethod
    def _address_order(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(value) < 2:  # most peers: nothing to sort, no address to parse
            return value
        return tuple(sorted(set(value), key=address_sort_key))

    def model_post_init(self, context: Any, /) -> None:
        canonical = canonical_json(self.model_dump(mode="json"))
        # Past pydantic's __setattr__: this runs once per peer of every parsed config.
        private: dict[str, tuple[bytes, bytes]] = self.__pydantic_private__  # type: ignore[assignment]
        private["_encoded"] = (canonical, quoted(peer_digest(canonical)))

    @property
    def canonical(self) -> bytes:
        """This peer's canonical JSON: what :attr:`digest` is computed over, and
        its entry in the config's canonical form."""
        private: dict[str, tuple[bytes, bytes]] = self.__pydantic_private__  # type: ignore[assignment]
        return private["_encoded"][0]

    @property
    def digest(self) -> str:
        """SHA-256 hex of this peer's canonical JSON (its entry in the digest form)."""
        return self.digest_json[1:-1].decode()

    @property
    def digest_json(self) -> bytes:
        """:attr:`digest` as JSON (quoted), ready to join into the digest form."""
        # Read past pydantic's attribute look-up: this runs once per peer per hash.
        private: dict[str, tuple[bytes, bytes]] = self.__pydantic_private__  # type: ignore[assignment]
        return private["_encoded"][1]


class PendingPeer(Frozen):
    """A peer the node should have but cannot configure yet."""

    name: Name
    reason: Text = PENDING_NO_KEY


def by_name(value: tuple[PendingPeer, ...]) -> tuple[PendingPeer, ...]:
    """Pending peers in name order (as a config holds them)."""
    return tuple(sorted(value, key=lambda p: p.name))


class InterfaceConfig(Frozen):
    """The node's interface in one network."""

    network: Name
    ifname: IfName
    address: Cidr
    listen_port: Port
    mtu: Mtu | None = None
    dns: tuple[IpAddress, ...] = ()
    #: This node's registered public key for the network, or None.
    public_key: PublicKey | None = None
    peers: tuple[PeerConfig, ...] = ()
    pending_peers: tuple[PendingPeer, ...] = ()

    @field_validator("peers")
    @classmethod
    def _peers_by_name(cls, value: tuple[PeerConfig, ...]) -> tuple[PeerConfig, ...]:
        return tuple(sorted(value, key=lambda p: p.name))

    @field_validator("pending_peers")
    @classmethod
    def _pending_by_name(cls, value: tuple[PendingPeer, ...]) -> tuple[PendingPeer, ...]:
        return by_name(value)

    def peer(self, name: str) -> PeerConfig | None:
        for peer in self.peers:
            if peer.name == name:
                return peer
        return None

    def edges(self) -> tuple[bytes, bytes]:
        """The canonical JSON of this interface before and after its peer list
        (from ``"peers":[`` and ``]``: the same in the digest form)."""
        fields = self.model_dump(mode="json", exclude={"peers"})
        fields["peers"] = []
        return split_at_peers(canonical_json(fields))

    def digest_pieces(self) -> Pieces:
        """This interface in the digest form, for :func:`digest_form_hash`."""
        head, tail = self.edges()
        return head, blocks_of([p.digest_json for p in self.peers]), tail


class NodeConfig(Frozen):
    """Everything one node needs, per network, with the content hash.

    ``hash`` is filled in from the content when empty and checked when given,
    so a parsed document is known to be intact. A given hash may also be the
    v1 hash (:func:`legacy_hash`, what servers before v2 send), so agents can be
    upgraded before their server; it is kept as given.
    """

    node: Name
    interfaces: tuple[InterfaceConfig, ...] = ()
    hash: ConfigHash = ""
    revision: Revision | None = None

    #: The digest form and resumable hash state of the content, set when the
    #: config is built (parsed, or by :func:`drago.render.delta.apply_delta`):
    #: applying a delta hashes again only from the first changed peer digest.
    #: It compares equal for equal content (:class:`NodeHash`).
    _digest_state: NodeHash | None = PrivateAttr(default=None)

    @field_validator("interfaces")
    @classmethod
    def _interfaces_by_network(
        cls, value: tuple[InterfaceConfig, ...]
    ) -> tuple[InterfaceConfig, ...]:
        return tuple(sorted(value, key=lambda i: i.network))

    @model_validator(mode="after")
    def _check_hash(self) -> NodeConfig:
        state = hash_node(self.node, tuple(i.digest_pieces() for i in self.interfaces))
        self._digest_state = state
        digest = state.digest
        if not self.hash:
            object.__setattr__(self, "hash", digest)
        elif self.hash != digest and self.hash != sha256_hex(self.canonical_bytes()):
            raise ValueError(f"hash {self.hash} does not match the content (v2 hash {digest})")
        return self

    def content_hash(self) -> str:
        """The v2 hash of the content, from the peers' digests (:func:`config_hash`),
        computed again from the whole digest form."""
        pieces = (i.digest_pieces() for i in self.interfaces)
        return digest_form_hash(self.node, ((h, flat(b), t) for h, b, t in pieces))

    def digest_state(self) -> NodeHash:
        """The digest form and hash state of the content, to resume from
        (:func:`drago.render.digestform.hash_node`); its ``pieces`` are the
        interfaces' :meth:`InterfaceConfig.digest_pieces`, in order."""
        # Read past pydantic's attribute look-up (a __getattr__ for private attributes).
        state: NodeHash | None = self.__pydantic_private__["_digest_state"]  # type: ignore[index]
        if state is None:  # built with model_construct by someone else: not kept
            state = hash_node(self.node, tuple(i.digest_pieces() for i in self.interfaces))
        return state

    def canonical_bytes(self) -> bytes:
        """Sorted-keys compact JSON of the config without ``hash`` and ``revision``
        (spliced from each peer's canonical JSON and each interface's edges, the
        pieces its digest form is made of)."""
        interfaces = [
            head + b",".join([p.canonical for p in iface.peers]) + tail
            for iface, (head, _, tail) in zip(
                self.interfaces, self.digest_state().pieces, strict=True
            )
        ]
        members = {
            "interfaces": b"[" + b",".join(interfaces) + b"]",
            "node": canonical_json(self.node),
        }
        return canonical_object(members)

    def to_json(self, revision: str | None = None) -> bytes:
        """The document served to agents, with ``hash`` and ``revision``."""
        rev = self.revision if revision is None else revision
        return envelope(self.canonical_bytes(), self.hash, rev)

    def interface(self, network: str) -> InterfaceConfig | None:
        for iface in self.interfaces:
            if iface.network == network:
                return iface
        return None

    @property
    def networks(self) -> list[str]:
        return [i.network for i in self.interfaces]


__all__ = [
    "PENDING_NO_KEY",
    "Frozen",
    "InterfaceConfig",
    "NodeConfig",
    "PeerConfig",
    "PendingPeer",
    "address_sort_key",
    "canonical_json",
    "config_hash",
    "digest_form_hash",
    "envelope",
    "legacy_hash",
    "peer_digest",
    "quoted",
    "sha256_hex",
    "split_at_peers",
]
