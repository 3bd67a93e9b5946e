"""The one validator: ``drago validate``, the push check and API writes all call
:func:`validate_files` (or :func:`validate_changes` for a change set).

It loads every file (schema problems), then checks the rules between files
(:mod:`drago.model.rules`) and that no node's peers have overlapping allowed
IPs (:mod:`drago.model.overlap`), and raises one :class:`~drago.errors.ConfigError`
carrying every problem at once.

Writes take a shortcut (:func:`validate_edit`): when the base files were
validated recently and the changes only edit existing node and keys files
without touching what peers see of each other (labels, interfaces, addresses,
routes, keepalives), only the edited files are checked against the remembered
base. Whenever that finds anything, the whole tree is validated as usual, so
the problems and their wording are the same.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from operator import attrgetter

from drago.errors import ConfigError, Problem
from drago.model.load import DEFAULT_CACHE, ParseCache, git_blob_id, load_file
from drago.model.memo import IdentityMemo, remembering
from drago.model.overlap import overlap_problems
from drago.model.rules import (
    Context,
    address_rules,
    connection_rules,
    duplicate_key_rules,
    key_rules,
    node_rules,
)
from drago.model.schema import KeysFile, NetworkFile, NodeFile
from drago.model.state import SourceFile, State
from drago.model.topology import topology_of

#: Results of the per-node rules and of the overlap check, shared between
#: revisions while their inputs are the same objects (see drago.model.memo).
_NODE_PROBLEMS: IdentityMemo[list[Problem]] = IdentityMemo()
_OVERLAPS: IdentityMemo[list[Problem]] = IdentityMemo(size=64)


def load_state(
    files: Iterable[SourceFile], cache: ParseCache = DEFAULT_CACHE
) -> tuple[State, Context, list[Problem]]:
    """Parse every file; the state of the files that parsed, and the problems."""
    problems: list[Problem] = []
    networks: dict[str, NetworkFile] = {}
    nodes: dict[str, NodeFile] = {}
    keys: dict[str, KeysFile] = {}
    blob_ids: dict[str, str] = {}
    broken: dict[str, set[str]] = {}
    for source in files:
        loaded = load_file(source, cache)
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


def _node_problems(ctx: Context, name: str, node: NodeFile) -> list[Problem]:
    return list(node_rules(ctx, name, node))


def check_state(ctx: Context) -> list[Problem]:
    """Every rule between the files of ``ctx.state``."""
    state = ctx.state
    problems: list[Problem] = []
    for name, node in sorted(state.nodes.items()):
        nets = [state.networks.get(network) for network in sorted(node.interfaces)]
        if all(net is not None for net in nets):  # the common case: remember the result
            problems.extend(
                _NODE_PROBLEMS.get_or_compute(
                    (node, *nets), name, partial(_node_problems, ctx, name, node)
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
        if not duplicates:  # a duplicate address would also overlap everywhere
            topology = topology_of(state, network)
            problems.extend(
                _OVERLAPS.get_or_compute(
                    (topology,),
                    network,
                    partial(overlap_problems, network, topology.rows, topology.links),
                )
            )
    return problems


def validate_files(files: Iterable[SourceFile], *, cache: ParseCache = DEFAULT_CACHE) -> State:
    """The valid state of a whole repository, or :class:`ConfigError` with every
    problem (``path: key: message``)."""
    listed = list(files)
    state, ctx, problems = load_state(listed, cache)
    problems.extend(check_state(ctx))
    if problems:
        raise ConfigError(problems)
    if listed == sorted(listed, key=_PATH):
        _remember(_fingerprint(listed), state)
    return state


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


def validate_changes(
    base: Iterable[SourceFile],
    changes: Mapping[str, bytes | None],
    *,
    cache: ParseCache = DEFAULT_CACHE,
) -> State:
    """:func:`validate_files` on ``base`` (a revision's files) with ``changes``
    (checking only the changed files when that is enough: see the module doc)."""
    listed = list(base)
    files = apply_changes(listed, changes)
    state = validate_edit(listed, files, changes, cache)
    if state is not None:
        return state
    return validate_files(files, cache=cache)


# -- the shortcut for edits ----------------------------------------------------------

#: The paths (sorted), modes and blob ids of a file set.
Fingerprint = tuple[tuple[str, ...], tuple[int, ...], tuple[str, ...]]

_PATH, _MODE, _BLOB = attrgetter("path"), attrgetter("mode"), attrgetter("blob_id")


@dataclass(frozen=True)
class _Valid:
    """A file set that passed validation: its paths, its state, and per network
    which member holds each public key."""

    paths: frozenset[str]
    state: State
    key_owners: dict[str, dict[str, str]]


#: The last few valid file sets, by fingerprint.
_VALID: OrderedDict[Fingerprint, _Valid] = OrderedDict()
_VALID_SIZE = 4
_VALID_LOCK = threading.Lock()


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


def _remember(
    fingerprint: Fingerprint | None,
    state: State,
    key_owners: dict[str, dict[str, str]] | None = None,
) -> None:
    if fingerprint is None or not remembering():
        return
    valid = _Valid(frozenset(fingerprint[0]), state, key_owners or _key_owners(state))
    with _VALID_LOCK:
        _VALID[fingerprint] = valid
        _VALID.move_to_end(fingerprint)
        while len(_VALID) > _VALID_SIZE:
            _VALID.popitem(last=False)


def _same_peering(old: NodeFile, new: NodeFile) -> bool:
    """Whether what the other members see of a node (and match it by) is the same."""
    if old.labels != new.labels or old.interfaces.keys() != new.interfaces.keys():
        return False
    for network, spec in new.interfaces.items():
        before = old.interfaces[network]
        if (
            spec.address != before.address
            or tuple(spec.routes) != tuple(before.routes)
            or spec.persistent_keepalive != before.persistent_keepalive
        ):
            return False
    return True


def validate_edit(
    base: list[SourceFile],
    files: list[SourceFile],
    changes: Mapping[str, bytes | None],
    cache: ParseCache = DEFAULT_CACHE,
) -> State | None:
    """The state of ``files`` (``base`` with ``changes``, both sorted by path,
    as :func:`apply_changes` and the store give them) when ``base`` is a
    remembered valid file set and checking the changed files against it shows
    them valid; None when the whole tree must be validated (other kinds of
    change, or anything found).

    It applies to edits of existing node files that keep each node's labels,
    interfaces, addresses, routes and keepalives (so memberships, selectors,
    address uniqueness, peer lists and overlaps stay as in the base), and of
    existing keys files; other files may change only when they are not data.
    """
    fingerprint = _fingerprint(base)
    if fingerprint is None:
        return None
    with _VALID_LOCK:
        valid = _VALID.get(fingerprint)
        if valid is None:
            return None
        _VALID.move_to_end(fingerprint)
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
        loaded = load_file(source, cache)
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
    topologies = old.memo.get("topology")
    if topologies is not None:  # peer lists are the same: share them with the renderer
        state.memo["topology"] = dict(topologies)
    _remember(after, state, owners)
    return state


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
