"""The incremental renderer: desired state -> one config and hash per node.

:class:`Renderer` keeps, per network, the resolved links, what every member
looks like as a peer, and every node's interface as cached canonical pieces
(:mod:`drago.render.fragments`). A new state is compared with the cache:

- a network whose topology changed (its file, its members, their labels,
  addresses, routes or keepalives) is resolved again and rebuilt;
- otherwise only the peers whose own view changed (endpoint, public key)
  are re-encoded, and each node that has them as peers gets a copy of its
  fragment list with those entries replaced;
- a node's hash is recomputed only when one of its interface parts changed,
  from the cached peer digests (the digest form: ~67 bytes per peer), never
  by encoding or hashing an unchanged peer again, and resumed from the hash
  state before the first changed digest (:mod:`drago.render.digestform`).

Results (:class:`RenderResult`) are immutable and materialise
:class:`~drago.render.config.NodeConfig` objects lazily.
"""

from __future__ import annotations

import os
from bisect import bisect_left
from collections.abc import Hashable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from drago.errors import ConfigError
from drago.model.state import State
from drago.model.validate import Validator
from drago.render.digestform import NodeHash, Pieces, hash_node
from drago.render.fragments import (
    InterfacePart,
    PeerInfo,
    SelfInfo,
    describe,
    interface_edges,
    peer_fragment,
)
from drago.render.links import NodeLinks, PeerLink, sorted_links, topology_key
from drago.render.result import PeerChanges, RenderResult

#: Above this share of changed peers a network is rebuilt instead of patched.
_PATCH_LIMIT = 0.25
#: Hash on several threads only when each gets at least this many nodes.
_NODES_PER_THREAD = 64
#: A node to hash: its name, digest form and its previous hash (to resume).
_Todo = tuple[str, tuple[Pieces, ...], NodeHash | None]


@dataclass
class _NodeView:
    """One node's interface in one network: its part, the peer names in it and
    the quoted digests of its peers (parallel to ``part.peers``)."""

    own: SelfInfo
    pending: list[str]
    keyed: tuple[str, ...]
    part: InterfacePart
    digests: tuple[bytes, ...]

    def pieces(self) -> Pieces:
        return self.part.head, self.digests, self.part.tail


@dataclass
class _NetworkCache:
    topology: Hashable = None
    links: dict[str, NodeLinks] = field(default_factory=dict)
    infos: dict[str, PeerInfo] = field(default_factory=dict)
    views: dict[str, _NodeView] = field(default_factory=dict)
    #: peer -> id of a link in ``links`` -> canonical fragment and quoted digest
    #: (the links are shared objects and stay alive as long as ``links`` does)
    fragments: dict[str, dict[int, tuple[bytes, bytes]]] = field(default_factory=dict)


class Renderer:
    """Renders states incrementally; one instance follows one line of history.

    ``render`` may be called with any state; the cache only makes it faster
    when consecutive states are similar. Results are kept per revision, so
    rendering a revision again is free. Not thread-safe: serialise calls.
    """

    def __init__(
        self,
        *,
        keep_revisions: int = 8,
        threads: int | None = None,
        validator: Validator | None = None,
    ) -> None:
        """``validator`` resolves peer lists (the one that validated the states
        shares what it already resolved; by default the renderer has its own)."""
        self._validator = validator if validator is not None else Validator()
        self._workers = threads if threads is not None else min(os.cpu_count() or 1, 4)
        self._networks: dict[str, _NetworkCache] = {}
        self._describe_cache: dict[tuple[str, str | None, str], tuple[PeerInfo, SelfInfo]] = {}
        self._describe_used: dict[tuple[str, str | None, str], tuple[PeerInfo, SelfInfo]] = {}
        self._hashes: dict[str, tuple[tuple[InterfacePart, ...], NodeHash]] = {}
        self._last: RenderResult | None = None
        #: The revision the caches hold (of the last render that was not cached).
        self._rendered: str | None = None
        self._by_revision: dict[str, RenderResult] = {}
        self._keep = keep_revisions

    def render(self, state: State, revision: str | None = None) -> RenderResult:
        """Every node's config for ``state``; ``changed`` is relative to the last call."""
        previous = self._last.hashes if self._last is not None else {}
        cached = self._by_revision.get(revision) if revision is not None else None
        if cached is not None:
            result = cached.with_previous(previous)
        else:
            try:
                result = self._render(state, revision, previous)
            except BaseException:
                self._forget()  # a half-updated cache must not serve the next call
                raise
            if revision is not None:
                self._by_revision[revision] = result
                while len(self._by_revision) > self._keep:
                    del self._by_revision[next(iter(self._by_revision))]
        self._last = result
        return result

    def _forget(self) -> None:
        self._rendered = None
        self._networks = {}
        self._hashes = {}
        self._describe_cache = {}

    def _render(
        self, state: State, revision: str | None, previous: Mapping[str, str]
    ) -> RenderResult:
        self._check_networks(state)
        self._describe_used = {}
        for network in list(self._networks):
            if network not in state.networks:
                del self._networks[network]
        patched: dict[str, frozenset[str]] = {}
        for network in sorted(state.networks):
            changed = self._render_network(state, network)
            if changed is not None:
                patched[network] = changed
        parts: dict[str, tuple[InterfacePart, ...]] = {}
        hashed: dict[str, NodeHash] = {}
        todo: list[_Todo] = []
        for node in sorted(state.nodes):
            networks = sorted(state.nodes[node].interfaces)
            views = [self._networks[n].views[node] for n in networks]
            node_parts = tuple(v.part for v in views)
            parts[node] = node_parts
            old = self._hashes.get(node)
            if old is not None and _same_parts(old[0], node_parts):
                hashed[node] = old[1]
            else:
                pieces = tuple(v.pieces() for v in views)
                todo.append((node, pieces, old[1] if old is not None else None))
        hashed.update(self._digests(todo))
        self._hashes = {node: (parts[node], hashed[node]) for node in parts}
        hashes = {node: found.digest for node, found in hashed.items()}
        self._describe_cache, self._describe_used = self._describe_used, {}
        since, self._rendered = self._rendered, revision
        changes = PeerChanges(since, patched) if since is not None else None
        return RenderResult(revision, parts, hashes, previous, changes=changes)

    def _digests(self, todo: list[_Todo]) -> dict[str, NodeHash]:
        """The hashes of the nodes in ``todo``, on several threads when many are due
        (hashlib releases the GIL while hashing large buffers)."""
        workers = min(self._workers, len(todo) // _NODES_PER_THREAD)
        if workers < 2:
            return _digest_all(todo)
        with ThreadPoolExecutor(workers, thread_name_prefix="drago-render") as pool:
            chunks = pool.map(_digest_all, [todo[i::workers] for i in range(workers)])
            return {node: digest for chunk in chunks for node, digest in chunk.items()}

    @staticmethod
    def _check_networks(state: State) -> None:
        for node, spec in state.nodes.items():
            for network in spec.interfaces:
                if network not in state.networks:
                    raise ConfigError.single(
                        f"nodes/{node}.toml",
                        f"interfaces.{network}",
                        f"there is no network {network!r} (no networks/{network}.toml)",
                    )

    def _describe(self, state: State, node: str, network: str) -> tuple[PeerInfo, SelfInfo]:
        blobs = state.blob_ids
        node_blob = blobs.get(f"nodes/{node}.toml")
        net_blob = blobs.get(f"networks/{network}.toml")
        if node_blob is None or net_blob is None:
            return describe(state, node, network)
        key = (node_blob + net_blob, blobs.get(f"keys/{node}.toml"), network)
        found = self._describe_cache.get(key) or self._describe_used.get(key)
        if found is None:
            found = describe(state, node, network)
        self._describe_used[key] = found
        return found

    def _render_network(self, state: State, network: str) -> frozenset[str] | None:
        """Bring ``network``'s views up to date; the peers whose entries may have
        changed, or None when the network was resolved anew (every entry may have)."""
        fresh = network not in self._networks
        cache = self._networks.setdefault(network, _NetworkCache())
        members = state.members(network)
        described = {m: self._describe(state, m, network) for m in members}
        infos = {m: d[0] for m, d in described.items()}
        topology = topology_key(state, network)
        if topology != cache.topology:
            cache.links = sorted_links(self._validator.peers(state, network))
            cache.topology = topology
            cache.fragments = {}
            changed = set(members)
            fresh = True
        else:
            changed = {m for m in members if infos[m] != cache.infos.get(m)}
        for name in changed:
            cache.fragments.pop(name, None)
        rebuild_all = len(changed) > _PATCH_LIMIT * max(len(members), 1) or not cache.views
        old_infos, cache.infos = cache.infos, infos
        views: dict[str, _NodeView] = {}
        for node in members:
            own = described[node][1]
            view = None if rebuild_all else cache.views.get(node)
            if view is not None and changed:
                view = self._patch(cache, node, view, changed, old_infos)
            if view is None:
                view = self._build(cache, node, own)
            elif view.own != own:
                head, tail, fields = interface_edges(own, view.pending)
                old = view.part
                size = old.size - len(old.head) - len(old.tail) + len(head) + len(tail)
                part = InterfacePart(network, head, old.names, old.peers, tail, size, fields)
                view = _NodeView(own, view.pending, view.keyed, part, view.digests)
            views[node] = view
        cache.views = views
        return None if fresh else frozenset(changed)

    def _fragment(self, cache: _NetworkCache, peer: str, link: PeerLink) -> tuple[bytes, bytes]:
        per_peer = cache.fragments.get(peer)
        if per_peer is None:
            per_peer = cache.fragments[peer] = {}
        found = per_peer.get(id(link))
        if found is None:
            found = per_peer[id(link)] = peer_fragment(cache.infos[peer], link)
        return found

    def _build(self, cache: _NetworkCache, node: str, own: SelfInfo) -> _NodeView:
        """Encode ``node``'s interface from its links (fragments come from the cache)."""
        links = cache.links[node]
        infos = cache.infos
        fragments = cache.fragments
        keyed: list[str] = []
        peers: list[bytes] = []
        digests: list[bytes] = []
        pending: list[str] = []
        for peer, link in zip(links.names, links.links, strict=True):
            info = infos[peer]
            if info.public_key is None:
                pending.append(peer)
                continue
            per_peer = fragments.get(peer)
            if per_peer is None:
                per_peer = fragments[peer] = {}
            found = per_peer.get(id(link))
            if found is None:
                found = per_peer[id(link)] = peer_fragment(info, link)
            keyed.append(peer)
            peers.append(found[0])
            digests.append(found[1])
        head, tail, fields = interface_edges(own, pending)
        names, entries, quoted = tuple(keyed), tuple(peers), tuple(digests)
        size = InterfacePart.measure(head, entries, tail)
        part = InterfacePart(own.network, head, names, entries, tail, size, fields)
        return _NodeView(own, pending, names, part, quoted)

    def _patch(
        self,
        cache: _NetworkCache,
        node: str,
        view: _NodeView,
        changed: set[str],
        old_infos: Mapping[str, PeerInfo],
    ) -> _NodeView | None:
        """``view`` with the fragments of changed peers replaced; None to rebuild."""
        links = cache.links[node]
        names = links.names
        peers: list[bytes] | None = None
        digests: list[bytes] = []
        size = view.part.size
        for peer in changed:
            index = bisect_left(names, peer)
            if index == len(names) or names[index] != peer:
                continue
            old, new = old_infos.get(peer), cache.infos[peer]
            if old is None or (old.public_key is None) != (new.public_key is None):
                return None  # the peer moves between peers and pending peers
            if new.public_key is None:
                continue
            if peers is None:
                peers, digests = list(view.part.peers), list(view.digests)
            at = bisect_left(view.keyed, peer)
            size -= len(peers[at])
            peers[at], digests[at] = self._fragment(cache, peer, links.links[index])
            size += len(peers[at])
        if peers is None:
            return view
        was = view.part
        part = InterfacePart(
            was.network, was.head, was.names, tuple(peers), was.tail, size, was.fields
        )
        return _NodeView(view.own, view.pending, view.keyed, part, tuple(digests))


def _digest_all(todo: list[_Todo]) -> dict[str, NodeHash]:
    return {node: hash_node(node, pieces, old) for node, pieces, old in todo}


def _same_parts(old: tuple[InterfacePart, ...], new: tuple[InterfacePart, ...]) -> bool:
    return len(old) == len(new) and all(a is b for a, b in zip(old, new, strict=True))


__all__ = ["Renderer"]
