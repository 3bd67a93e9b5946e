"""The one validator: :class:`Validator`. ``drago validate``, the push check,
API writes and dry runs all call :meth:`Validator.validate_files` (or
:meth:`Validator.validate_changes` for a change set) on a validator they were
given; it owns every cache validation uses, so there is no state in modules.

It loads every file (schema problems), then checks the rules between files
(:mod:`drago.model.rules`) and that no node's peers have overlapping allowed
IPs (:mod:`drago.model.overlap`), and raises one :class:`~drago.errors.ConfigError`
carrying every problem at once.

What it remembers, keyed so that stale entries never match: parse results by
blob id (:class:`~drago.model.load.ParseCache`), per-node rule results,
overlaps, default allowed IPs and topologies by the identity of the parsed
models they come from (:class:`~drago.model.memo.IdentityMemo`), the topologies
of the last few states it handed out (:meth:`Validator.topology`, which the
renderer asks), and the last few valid file sets (for the edit shortcut). A
:meth:`Validator.dry` view reads all of that but adds nothing to it; what it
derives lives only as long as the view.

Writes take a shortcut (:meth:`Validator.validate_changes`): when the base
files were validated recently and the changes only edit existing node and keys
files without touching what peers see of each other (labels, interfaces,
addresses, routes, keepalives), only the edited files are checked against the
remembered base. Whenever that finds anything, the whole tree is validated as
usual, so the problems and their wording are the same (property-tested in
``tests/model/test_incremental_validate.py``).
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from operator import attrgetter

from drago.errors import ConfigError, Problem
from drago.model.load import LoadedFile, ParseCache, git_blob_id, load_file
from drago.model.memo import IdentityMemo
from drago.model.overlap import Bounds, bounds, overlap_problems
from drago.model.rules import (
    Context,
    address_rules,
    connection_rules,
    duplicate_key_rules,
    endpoint_ip,
    endpoint_rules,
    key_rules,
    node_rules,
)
from drago.model.schema import IPNetwork, KeysFile, NetworkFile, NodeFile
from drago.model.state import SourceFile, State
from drago.model.topology import (
    PeerMap,
    Topology,
    compute_topology,
    default_allowed_ips,
    topology_inputs,
)

#: Looks at a parsed state before the rules between its files are checked, and
#: raises to refuse it (e.g. :class:`~drago.errors.PayloadTooLarge` when its
#: topology would be too much work).
Bound = Callable[[State], None]

#: The paths (sorted), modes and blob ids of a file set.
Fingerprint = tuple[tuple[str, ...], tuple[int, ...], tuple[str, ...]]

_PATH, _MODE, _BLOB = attrgetter("path"), attrgetter("mode"), attrgetter("blob_id")

#: How many valid file sets the edit shortcut remembers.
VALID_SIZE = 4
#: How many states' topologies :meth:`Validator.topology` remembers (the live state
#: and the one going live: on a large mesh each is hundreds of MB).
_STATES_SIZE = 2


@dataclass(frozen=True)
class _Valid:
    """A file set that passed validation: its paths, its state, and per network
    which member holds each public key."""

    paths: frozenset[str]
    state: State
    key_owners: dict[str, dict[str, str]]


class _Recent:
    """The last few (key -> (object, value)) entries, least recently used out first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[object, tuple[object, object]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: object, owner: object = None) -> object | None:
        with self._lock:
            entry = self._items.get(key)
            if entry is None or (owner is not None and entry[0] is not owner):
                return None
            self._items.move_to_end(key)
            return entry[1]

    def put(self, key: object, owner: object, value: object) -> None:
        with self._lock:
            self._items[key] = (owner, value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


@dataclass
class _Caches:
    """Everything a validator remembers between calls (see the module doc)."""

    parse: ParseCache = field(default_factory=ParseCache)
    node_problems: IdentityMemo[list[Problem]] = field(default_factory=IdentityMemo)
    overlaps: IdentityMemo[list[Problem]] = field(default_factory=lambda: IdentityMemo(size=64))
    allowed: IdentityMemo[tuple[IPNetwork, ...]] = field(default_factory=IdentityMemo)
    bounds: IdentityMemo[Bounds] = field(default_factory=IdentityMemo)
    topologies: IdentityMemo[Topology] = field(default_factory=lambda: IdentityMemo(size=8))
    #: id(state) -> (state, {network: topology}) for the last states handed out.
    states: _Recent = field(default_factory=lambda: _Recent(_STATES_SIZE))
    #: fingerprint -> (None, _Valid) for the last valid file sets.
    valid: _Recent = field(default_factory=lambda: _Recent(VALID_SIZE))


class Validator:
    """Validates file sets and resolves topologies, remembering what it derives.

    One validator serves a line of history (the server makes one and hands it
    to the store, the push check, the API and the renderer); it is thread-safe.
    ``Validator()`` starts empty; :meth:`dry` gives a view for content that will
    not be seen again.
    """

    def __init__(self) -> None:
        self._caches = _Caches()
        self._remember = True
        #: A view's parent's per-state topologies, read but never written.
        self._parent_states: _Recent | None = None

    def dry(self) -> Validator:
        """A view that answers from this validator's caches but adds nothing to
        them: for a dry run of request content. What it derives (the dry run's
        topologies, for rendering its plan) is kept by the view alone."""
        view = Validator()
        view._caches = replace(self._caches, states=_Recent(_STATES_SIZE))
        view._remember = False
        view._parent_states = self._caches.states
        return view

    @property
    def parse_cache(self) -> ParseCache:
        return self._caches.parse

    # -- loading ---------------------------------------------------------------------

    def load_file(self, source: SourceFile) -> LoadedFile:
        return load_file(source, self._caches.parse, remember=self._remember)

    def load_state(self, files: Iterable[SourceFile]) -> tuple[State, Context, list[Problem]]:
        """Parse every file; the state of the files that parsed, and the problems."""
        problems: list[Problem] = []
        networks: dict[str, NetworkFile] = {}
        nodes: dict[str, NodeFile] = {}
        keys: dict[str, KeysFile] = {}
        blob_ids: dict[str, str] = {}
        broken: dict[str, set[str]] = {}
        for source in files:
            loaded = self.load_file(source)
            problems.extend(loaded.problems)
            if loaded.folder is None or loaded.name is None:
                continue
            blob_ids[source.path] = source.blob_id or git_blob_id(source.data)
            model = loaded.model
            if isinstance(model, NetworkFile):
                networks[loaded.name] = model
            elif isinstance(model, NodeFile):
                nodes[loaded.name] = model
            elif isinstance(model, KeysFile):
                keys[loaded.name] = model
            else:
                broken.setdefault(loaded.folder, set()).add(loaded.name)
        state = State(networks=networks, nodes=nodes, keys=keys, blob_ids=blob_ids)
        return state, Context(state, broken), problems

    # -- topology ----------------------------------------------------------------------

    def topology(self, state: State, network: str) -> Topology:
        """:func:`~drago.model.topology.compute_topology`, remembered for ``state``
        and across states whose network file and member facts are the same
        (treat it as read-only)."""
        caches = self._caches
        for known in self._known(state):
            found = known.get(network)
            if found is not None:
                return found
        found = caches.topologies.get_or_compute(
            (state.networks[network],),
            (network, topology_inputs(state, network)),
            lambda: compute_topology(state, network, self._allowed_ips),
            remember=self._remember,
        )
        own = caches.states.get(id(state), state)
        if own is None:
            own = {}
            caches.states.put(id(state), state, own)
        assert isinstance(own, dict)
        own[network] = found
        return found

    def _known(self, state: State) -> list[dict[str, Topology]]:
        """The topologies already resolved for ``state`` (this validator's, then
        for a view its parent's)."""
        found = []
        for states in (self._caches.states, self._parent_states):
            known = states.get(id(state), state) if states is not None else None
            if known is not None:
                assert isinstance(known, dict)
                found.append(known)
        return found

    def peers(self, state: State, network: str) -> PeerMap:
        """Every member of ``network`` -> its peers -> the link to each (see
        :mod:`drago.model.topology`); treat the result as read-only."""
        return self.topology(state, network).rows

    def _allowed_ips(self, node: NodeFile, network: str) -> tuple[IPNetwork, ...]:
        return self._caches.allowed.get_or_compute(
            (node.interfaces[network],),
            None,
            partial(default_allowed_ips, node, network),
            remember=self._remember,
        )

    def _bounds(self, nets: tuple[IPNetwork, ...]) -> Bounds:
        return self._caches.bounds.get_or_compute(
            (nets,), None, partial(bounds, nets), remember=self._remember
        )

    # -- validation ------------------------------------------------------------------

    def check_state(self, ctx: Context) -> list[Problem]:
        """Every rule between the files of ``ctx.state``."""
        state = ctx.state
        caches = self._caches
        problems: list[Problem] = []
        for name, node in sorted(state.nodes.items()):
            nets = [state.networks.get(network) for network in sorted(node.interfaces)]
            if all(net is not None for net in nets):  # the common case: remember the result
                problems.extend(
                    caches.node_problems.get_or_compute(
                        (node, *nets),
                        name,
                        partial(_node_problems, ctx, name, node),
                        remember=self._remember,
                    )
                )
            else:
                problems.extend(node_rules(ctx, name, node))
        for name in sorted(state.keys):
            problems.extend(key_rules(ctx, name))
        members_by_network: dict[str, list[tuple[str, NodeFile]]] = {n: [] for n in state.networks}
        for name, node in sorted(state.nodes.items()):
            for network in node.interfaces:
                if network in members_by_network:
                    members_by_network[network].append((name, node))
        for network, members in sorted(members_by_network.items()):
            names = [name for name, _ in members]
            duplicates = list(address_rules(state, network, names))
            problems.extend(duplicates)
            problems.extend(duplicate_key_rules(state, network, names))
            problems.extend(connection_rules(ctx, network, members))
            problems.extend(endpoint_rules(state, network, members))
            if not duplicates:  # a duplicate address would also overlap everywhere
                topology = self.topology(state, network)
                problems.extend(
                    caches.overlaps.get_or_compute(
                        (topology,),
                        network,
                        partial(
                            overlap_problems, network, topology.rows, topology.links, self._bounds
                        ),
                        remember=self._remember,
                    )
                )
        return problems

    def validate_files(self, files: Iterable[SourceFile], *, bound: Bound | None = None) -> State:
        """The valid state of a whole repository, or :class:`ConfigError` with every
        problem (``path: key: message``). ``bound`` sees the parsed state first."""
        listed = list(files)
        state, ctx, problems = self.load_state(listed)
        if bound is not None:
            bound(state)
        problems.extend(self.check_state(ctx))
        if problems:
            raise ConfigError(problems)
        if listed == sorted(listed, key=_PATH):
            self._remember_valid(_fingerprint(listed), state)
        return state

    def validate_changes(
        self,
        base: Iterable[SourceFile],
        changes: Mapping[str, bytes | None],
        *,
        bound: Bound | None = None,
    ) -> State:
        """:meth:`validate_files` on ``base`` (a revision's files) with ``changes``
        (checking only the changed files when that is enough: see the module doc;
        such an edit keeps the remembered base's topology, so ``bound`` is not asked)."""
        listed = list(base)
        files = apply_changes(listed, changes)
        state = self.validate_edit(listed, files, changes)
        if state is not None:
            return state
        return self.validate_files(files, bound=bound)

    # -- the shortcut for edits ------------------------------------------------------

    def _remember_valid(
        self,
        fingerprint: Fingerprint | None,
        state: State,
        key_owners: dict[str, dict[str, str]] | None = None,
    ) -> None:
        if fingerprint is None or not self._remember:
            return
        valid = _Valid(frozenset(fingerprint[0]), state, key_owners or _key_owners(state))
        self._caches.valid.put(fingerprint, None, valid)

    def validate_edit(
        self,
        base: list[SourceFile],
        files: list[SourceFile],
        changes: Mapping[str, bytes | None],
    ) -> State | None:
        """The state of ``files`` (``base`` with ``changes``, both sorted by path,
        as :func:`apply_changes` and the store give them) when ``base`` is a
        remembered valid file set and checking the changed files against it shows
        them valid; None when the whole tree must be validated (other kinds of
        change, or anything found).

        It applies to edits of existing node files that keep each node's labels,
        interfaces, addresses, routes and keepalives, and do not give it a new
        IP-address endpoint (so memberships, selectors, address uniqueness, peer
        lists, overlaps and the routes covering endpoints stay as in the base), and of
        existing keys files; other files may change only when they are not data.
        """
        fingerprint = _fingerprint(base)
        if fingerprint is None:
            return None
        valid = self._caches.valid.get(fingerprint)
        if valid is None:
            return None
        assert isinstance(valid, _Valid)
        old = valid.state
        after = _fingerprint(files)
        if after is None:
            return None
        nodes, keys, blob_ids = dict(old.nodes), dict(old.keys), dict(old.blob_ids)
        edited_nodes: list[str] = []
        edited_keys: list[str] = []
        for path, data in changes.items():
            if data is None or path not in valid.paths:
                return None  # deletions and new files: memberships may change
            source = files[bisect_left(after[0], path)]
            if source.path != path:
                return None  # not sorted by path after all
            loaded = self.load_file(source)
            if loaded.problems:
                return None
            if loaded.folder is None or loaded.name is None:
                continue  # not a data file
            model = loaded.model
            if isinstance(model, NodeFile) and loaded.name in old.nodes:
                if not _same_peering(old.nodes[loaded.name], model):
                    return None
                nodes[loaded.name] = model
                edited_nodes.append(loaded.name)
            elif isinstance(model, KeysFile) and loaded.name in old.keys:
                keys[loaded.name] = model
                edited_keys.append(loaded.name)
            else:
                return None  # a network file (or a file that did not parse)
            blob_ids[path] = source.blob_id or git_blob_id(source.data)
        state = State(networks=dict(old.networks), nodes=nodes, keys=keys, blob_ids=blob_ids)
        ctx = Context(state, {})
        for name in edited_nodes:
            if any(True for _ in node_rules(ctx, name, nodes[name])):
                return None
        for name in edited_keys:
            if any(True for _ in key_rules(ctx, name)):
                return None
        owners = _owners_after(old, state, edited_keys, valid.key_owners)
        if owners is None:
            return None
        known = self._known(old)
        if known:  # peer lists are the same: share them with the renderer
            self._caches.states.put(id(state), state, {k: v for d in known for k, v in d.items()})
        self._remember_valid(after, state, owners)
        return state


def _node_problems(ctx: Context, name: str, node: NodeFile) -> list[Problem]:
    return list(node_rules(ctx, name, node))


def apply_changes(
    base: Iterable[SourceFile], changes: Mapping[str, bytes | None]
) -> list[SourceFile]:
    """The files of ``base`` with ``changes`` applied (path -> new content, or
    None to delete). Unchanged files keep their blob ids, so they are not parsed
    again; changed files get theirs."""
    files = {source.path: source for source in base}
    for path, data in changes.items():
        if data is None:
            files.pop(path, None)
        else:
            previous = files.get(path)
            mode = previous.mode if previous is not None else SourceFile(path, b"").mode
            files[path] = SourceFile(path, data, mode, git_blob_id(data))
    return [files[path] for path in sorted(files)]


def _fingerprint(files: list[SourceFile]) -> Fingerprint | None:
    """What identifies a file set (sorted by path), or None when a blob id is unknown."""
    blob_ids = tuple(map(_BLOB, files))
    if None in blob_ids:
        return None
    return tuple(map(_PATH, files)), tuple(map(_MODE, files)), blob_ids


def _key_owners(state: State) -> dict[str, dict[str, str]]:
    owners: dict[str, dict[str, str]] = {network: {} for network in state.networks}
    for name in sorted(state.keys):
        node = state.nodes.get(name)
        for network, entry in state.keys[name].interfaces.items():
            if node is not None and network in node.interfaces and network in owners:
                owners[network].setdefault(entry.public_key, name)
    return owners


def _same_peering(old: NodeFile, new: NodeFile) -> bool:
    """Whether what the other members see of a node (and match it by) is the same."""
    if old.labels != new.labels or old.interfaces.keys() != new.interfaces.keys():
        return False
    if new.endpoint != old.endpoint and endpoint_ip(new) is not None:
        return False  # the routes of other members may cover the new endpoint
    for network, spec in new.interfaces.items():
        before = old.interfaces[network]
        if (
            spec.address != before.address
            or tuple(spec.routes) != tuple(before.routes)
            or spec.persistent_keepalive != before.persistent_keepalive
        ):
            return False
    return True


def _owners_after(
    old: State, new: State, edited: list[str], owners: dict[str, dict[str, str]]
) -> dict[str, dict[str, str]] | None:
    """The key owners of ``new`` (``old`` with the keys of ``edited`` changed),
    or None when two members of a network would share a public key.

    Keys are compared as text: the schema admits only canonical base64, which spells
    each 32-byte key one way, so equal text is equal bytes."""
    result = dict(owners)
    copied: set[str] = set()
    for name in edited:
        for network in new.nodes[name].interfaces:
            before, after = old.public_key(name, network), new.public_key(name, network)
            if before == after or network not in result:
                continue
            if network not in copied:
                result[network] = dict(result[network])
                copied.add(network)
            table = result[network]
            if before is not None and table.get(before) == name:
                del table[before]
            if after is not None:
                if table.setdefault(after, name) != name:
                    return None
    return result
