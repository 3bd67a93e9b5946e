"""A network's peer links (from :meth:`drago.model.validate.Validator.peers`), arranged
for the renderer, and the key that says when they must be resolved again.

Links are kept per node as two parallel lists sorted by peer name, so the
renderer can find a peer with :func:`bisect.bisect_left`.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

from drago.model.state import State
from drago.model.topology import PeerLink, PeerMap


@dataclass(frozen=True, slots=True)
class NodeLinks:
    """The peers of one node in one network, sorted by name, with their links."""

    names: list[str]
    links: list[PeerLink]


def topology_key(state: State, network: str) -> Hashable:
    """Everything peer resolution reads: equal keys give equal links.

    That is the network file and, per member, its labels and its interface's
    address, routes and keepalive; not endpoints or keys, so the common changes
    do not resolve a large network again.
    """
    net = state.networks[network]
    net_id = state.blob_ids.get(f"networks/{network}.toml") or net.model_dump_json()
    members = []
    for name in state.members(network):
        node = state.nodes[name]
        spec = node.interfaces[network]
        members.append(
            (
                name,
                tuple(sorted(node.labels.items())),
                spec.address,
                tuple(spec.routes),
                spec.persistent_keepalive,
            )
        )
    return (net_id, tuple(members))


def sorted_links(rows: PeerMap) -> dict[str, NodeLinks]:
    """Every member of a network (``rows``, its peer map) -> its links sorted by peer name."""
    result: dict[str, NodeLinks] = {}
    for node, row in rows.items():
        names = sorted(row)
        result[node] = NodeLinks(names, [row[name] for name in names])
    return result


__all__ = ["NodeLinks", "PeerLink", "sorted_links", "topology_key"]
