"""The incremental renderer: desired state -> one config and hash per node.

:class:`Renderer` keeps, per network, the resolved links, what every member
looks like as a peer, and every node's interface as cached canonical pieces
(:mod:`drago.render.fragments`). A new state is compared with the cache:

- a network whose topology changed (its file, its members, their labels,
  addresses, routes or keepalives) is resolved again and rebuilt;
- otherwise only the peers whose own view changed (endpoint, public key)
  are re-encoded, and each node that has them as peers gets a copy of the
  blocks of its fragment list that hold those entries, replaced, inserted (a
  key registered: a pending peer becomes a peer) or removed, the other blocks
  shared with the part it was patched from;
- a node's hash is recomputed only when one of its interface parts changed,
  from the cached peer digests (the digest form: ~67 bytes per peer), never
  by encoding or hashing an unchanged peer again, and resumed from the hash
  state before the first changed digest (:mod:`drago.render.digestform`),
  which the patch knows (so no digests are compared to find it).

Results (:class:`RenderResult`) are immutable and materialise
:class:`~drago.render.config.NodeConfig` objects lazily.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Hashable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from drago.errors import ConfigError
from drago.model.state import State
from drago.model.validate import Validator
from drago.render.digestform import (
    BLOCK,
    Block,
    EditedBlocks,
    NodeHash,
    Pieces,
    Unchanged,
    block_ends,
    blocks_of,
    hash_node,
)
from drago.render.fragments import (
    PENDING_FIELD,
    InterfacePart,
    PeerInfo,
    SelfInfo,
    describe,
    interface_edges,
    interface_fields,
    peer_fragment,
    pending_field,
)
from drago.render.links import NodeLinks, PeerLink, sorted_links, topology_key
from drago.render.result import PeerChanges, RenderResult

#: Above this share of changed peers a network is rebuilt instead of patched.
_PATCH_LIMIT = 0.25
#: Hash on several threads only when each gets at least this many nodes ...
_NODES_PER_THREAD = 64
#: ... and at least this many peer digests are due in all (~67 bytes each):
#: below it hashing is many small GIL-bound updates that threads only slow down.
_DIGESTS_FOR_THREADS = 250_000
#: A node to hash: its name, digest form, its previous hash (to resume) and
#: what is known to be unchanged since (None: compare to find out).
_Todo = tuple[str, tuple[Pieces, ...], NodeHash | None, Unchanged | None]


@dataclass
class _NodeView:
    """One node's interface in one network: its part, the peer names in it and
    the quoted digests of its peers (in blocks parallel to ``part.blocks``).

    A view patched in this render keeps the part it was patched from in
    ``patched_from`` (until its node's hash hint is made) and, in
    ``unchanged``, how many of its digests from the front are the same (-1:
    the head changed); a view built anew has None.
    """

    own: SelfInfo
    pending: list[str]
    keyed: tuple[str, ...]
    part: InterfacePart
    digests: tuple[Block, ...]
    patched_from: InterfacePart | None = None
    unchanged: int = -1

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
        threads: int = 1,
        validator: Validator | None = None,
    ) -> None:
        """``validator`` resolves peer lists (the one that validated the states
        shares what it already resolved; by default the renderer has its own).

        ``threads``: hash on up to this many threads when much is due. One by
        default: hashing feeds SHA-256 ~8.6 KB at a time (the resume marks), and
        on 2 CPUs two threads were slower than one for every render measured,
        from a re-render to the first render of a 2,000-node mesh (4M digests:
        0.49 s on one thread, 0.62 s wall and 0.81 s CPU on two)."""
        self._validator = validator if validator is not None else Validator()
        self._workers = threads
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
            if old is None:
                todo.append((node, tuple(v.pieces() for v in views), None, None))
            elif _same_parts(old[0], node_parts):
                hashed[node] = old[1]
            else:
                pieces = tuple(v.pieces() for v in views)
                todo.append((node, pieces, old[1], _unchanged(old[0], views)))
            for view in views:
                view.patched_from = None  # a hint holds for this render only
        hashed.update(self._digests(todo))
        self._hashes = {node: (parts[node], hashed[node]) for node in parts}
        hashes = {node: found.digest for node, found in hashed.items()}
        self._describe_cache, self._describe_used = self._describe_used, {}
        since, self._rendered = self._rendered, revision
        changes = PeerChanges(since, patched) if since is not None else None
        return RenderResult(revision, parts, hashes, previous, changes=changes)

    def _digests(self, todo: list[_Todo]) -> dict[str, NodeHash]:
        """The hashes of the nodes in ``todo``, on several threads when much is due
        (hashlib releases the GIL while hashing large buffers)."""
        workers = min(self._workers, len(todo) // _NODES_PER_THREAD)
        if workers >= 2 and sum(_digests_due(t) for t in todo) < _DIGESTS_FOR_THREADS:
            workers = 1
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
            if view is not None:
                view = self._patch(cache, node, view, own, changed, old_infos)
            if view is None:
                view = self._build(cache, node, own)
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
        fields = interface_fields(own, pending)
        head, tail = interface_edges(own.network, fields)
        names, blocks, quoted = tuple(keyed), blocks_of(peers, BLOCK), blocks_of(digests, BLOCK)
        size = InterfacePart.measure(head, blocks, tail)
        ends = block_ends(blocks)
        part = InterfacePart(own.network, head, names, blocks, ends, tail, size, fields)
        return _NodeView(own, pending, names, part, quoted)

    def _patch(
        self,
        cache: _NetworkCache,
        node: str,
        view: _NodeView,
        own: SelfInfo,
        changed: set[str],
        old_infos: Mapping[str, PeerInfo],
    ) -> _NodeView | None:
        """``view`` brought up to date: the entries of changed peers replaced,
        inserted (a pending peer's key registered) or removed (a peer's key gone),
        and the edges encoded again when ``own`` or the pending peers changed;
        ``view`` itself when nothing did, None to rebuild. Only the blocks that
        hold a changed entry are copied."""
        same_own = own == view.own
        if not changed and same_own:
            return view
        links = cache.links[node]
        names = links.names
        was = view.part
        blocks: _Blocks | None = None  # copies, made at the first change
        keyed: list[str] | None = None  # a copy once a peer is inserted or removed
        pending = view.pending
        first = len(view.keyed)  # digests unchanged from the front
        payload = was.size - len(was.head) - len(was.tail) - max(len(was.names) - 1, 0)
        for peer in changed:
            index = bisect_left(names, peer)
            if index == len(names) or names[index] != peer:
                continue
            old, new = old_infos.get(peer), cache.infos[peer]
            if old is None:
                return None
            if old.public_key is None and new.public_key is None:
                continue  # pending before and after: the same pending_peers entry
            if blocks is None:
                blocks = _Blocks(was.blocks, view.digests, BLOCK)
            at = bisect_left(view.keyed if keyed is None else keyed, peer)
            first = min(first, at)
            if old.public_key is not None and new.public_key is not None:
                fragment, digest = self._fragment(cache, peer, links.links[index])
                payload += len(fragment) - len(blocks.replace(at, fragment, digest))
                continue
            if keyed is None:
                keyed = list(view.keyed)
            if new.public_key is None:  # the key is gone: a pending peer now
                payload -= len(blocks.remove(at))
                del keyed[at]
                pending = sorted([*pending, peer])
            else:  # its key is registered: a peer now
                fragment, digest = self._fragment(cache, peer, links.links[index])
                payload += len(fragment)
                blocks.insert(at, fragment, digest)
                keyed.insert(at, peer)
                pending = [name for name in pending if name != peer]
        head, tail, fields = was.head, was.tail, was.fields
        if not same_own:
            fields = interface_fields(own, pending)
        elif pending is not view.pending:  # only pending_peers is encoded again
            fields = (*fields[:PENDING_FIELD], pending_field(pending), *fields[PENDING_FIELD + 1 :])
        elif blocks is None:
            return view
        if fields is not was.fields:
            head, tail = interface_edges(own.network, fields)
            if head != was.head:
                first = -1
        if blocks is None:
            entries, quoted, ends = was.blocks, view.digests, was.ends
        else:
            entries, quoted, ends = blocks.done()
        names_now = view.keyed if keyed is None else tuple(keyed)
        size = len(head) + payload + max(len(names_now) - 1, 0) + len(tail)
        part = InterfacePart(was.network, head, names_now, entries, ends, tail, size, fields)
        return _NodeView(own, pending, names_now, part, quoted, was, first)


class _Blocks:
    """A part's fragment and digest blocks being patched, in step
    (:class:`~drago.render.digestform.EditedBlocks`)."""

    def __init__(self, fragments: tuple[Block, ...], digests: tuple[Block, ...], size: int) -> None:
        self.fragments = EditedBlocks(fragments, size)
        self.digests = EditedBlocks(digests, size)

    def replace(self, at: int, fragment: bytes, digest: bytes) -> bytes:
        """Entry ``at`` replaced; the fragment it had."""
        self.digests.replace(at, digest)
        return self.fragments.replace(at, fragment)

    def remove(self, at: int) -> bytes:
        """Entry ``at`` removed; its fragment."""
        self.digests.remove(at)
        return self.fragments.remove(at)

    def insert(self, at: int, fragment: bytes, digest: bytes) -> None:
        self.fragments.insert(at, fragment)
        self.digests.insert(at, digest)

    def done(self) -> tuple[tuple[Block, ...], tuple[Block, ...], tuple[int, ...]]:
        """The fragment blocks, the digest blocks and where the blocks end."""
        fragments, ends = self.fragments.done()
        return fragments, self.digests.done()[0], ends


def _digest_all(todo: list[_Todo]) -> dict[str, NodeHash]:
    return {node: hash_node(node, pieces, old, hint=hint) for node, pieces, old, hint in todo}


def _unchanged(old: tuple[InterfacePart, ...], views: list[_NodeView]) -> Unchanged | None:
    """What is the same in a node's digest form since the render of ``old``
    (its interface parts then), from how its views were patched; None when
    the node's networks changed (the hash compares to find out)."""
    if len(old) != len(views):
        return None
    for index, (was, view) in enumerate(zip(old, views, strict=True)):
        if view.part is was:
            continue
        if view.patched_from is not was or was.network != view.part.network:
            return Unchanged(index, -1)  # built anew: from this interface's start
        return Unchanged(index, view.unchanged)
    return Unchanged(len(views), -1)


def _digests_due(todo: _Todo) -> int:
    """How many peer digests hashing ``todo`` will feed (about: from the hint)."""
    _, pieces, _, hint = todo
    if hint is None:
        return sum(_count(blocks) for _, blocks, _ in pieces)
    later = sum(_count(blocks) for _, blocks, _ in pieces[hint.interface + 1 :])
    if hint.interface < len(pieces):
        later += _count(pieces[hint.interface][1]) - max(hint.digests, 0)
    return later


def _count(blocks: tuple[Block, ...]) -> int:
    return sum(map(len, blocks))


def _same_parts(old: tuple[InterfacePart, ...], new: tuple[InterfacePart, ...]) -> bool:
    return len(old) == len(new) and all(a is b for a, b in zip(old, new, strict=True))


__all__ = ["Renderer"]
