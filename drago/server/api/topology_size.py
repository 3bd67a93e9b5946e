"""How large a state's topology can be, known before it is resolved.

The cost of validating and rendering a state grows with its peer entries (a
node's peers, summed over nodes and networks): a full mesh of n nodes has
n(n-1). A dry run of request-supplied files is refused before that work when
an upper bound of its entries is over ``max_peer_entries`` (or over the base
revision's own bound, when the repository is larger than that already).

The bound counts each connection ``between = [A, B]`` as every member matched
by A peering with every member matched by B both ways (n(n-1) when both ends
match the same members); pairs matched by several connections count for each.
It needs only the parsed files, not the resolved topology.
"""

from __future__ import annotations

from drago.model.state import State
from drago.model.topology import match_selector


def peer_entries_bound(state: State) -> int:
    """An upper bound of the peer entries the state renders to."""
    total = 0
    for network, net in state.networks.items():
        members = [(name, node) for name, node in state.nodes.items() if network in node.interfaces]
        for connection in net.connections:
            one, other = (set(match_selector(end, members)) for end in connection.between)
            if one == other:
                total += len(one) * (len(one) - 1)
            else:
                total += 2 * len(one) * len(other)
    return total
