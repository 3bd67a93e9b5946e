"""The one validator: ``drago validate``, the push check and API writes all call
:func:`validate_files` (or :func:`validate_changes` for a change set).

It loads every file (schema problems), then checks the rules between files
(:mod:`drago.model.rules`) and that no node's peers have overlapping allowed
IPs (:mod:`drago.model.overlap`), and raises one :class:`~drago.errors.ConfigError`
carrying every problem at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import partial

from drago.errors import ConfigError, Problem
from drago.model.load import DEFAULT_CACHE, ParseCache, git_blob_id, load_file
from drago.model.memo import IdentityMemo
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
    state, ctx, problems = load_state(files, cache)
    problems.extend(check_state(ctx))
    if problems:
        raise ConfigError(problems)
    return state


def apply_changes(
    base: Iterable[SourceFile], changes: Mapping[str, bytes | None]
) -> list[SourceFile]:
    """The files of ``base`` with ``changes`` applied (path -> new content, or
    None to delete). Unchanged files keep their blob ids, so they are not parsed
    again."""
    files = {source.path: source for source in base}
    for path, data in changes.items():
        if data is None:
            files.pop(path, None)
        else:
            previous = files.get(path)
            mode = previous.mode if previous is not None else SourceFile(path, b"").mode
            files[path] = SourceFile(path, data, mode)
    return [files[path] for path in sorted(files)]


def validate_changes(
    base: Iterable[SourceFile],
    changes: Mapping[str, bytes | None],
    *,
    cache: ParseCache = DEFAULT_CACHE,
) -> State:
    """:func:`validate_files` on ``base`` (a revision's files) with ``changes``."""
    return validate_files(apply_changes(base, changes), cache=cache)
