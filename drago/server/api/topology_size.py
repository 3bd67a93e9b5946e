"""How much work a state's topology can be, known before it is resolved.

The cost of validating and rendering a state grows with its peer entries (a
node's peers, summed over nodes and networks: a full mesh of n nodes has
n(n-1)) and with resolving each connection's ends (every end is matched
against every member of its network). A dry run of request-supplied files is
refused before that work when an upper bound of both is over ``max_topology``
(or over the base revision's own bound, when the repository is larger than
that already).

The bound counts, per network, every member :data:`MATCH_COST` times for each
end of each connection, and each connection ``between = [A, B]`` as every member matched
by A peering with every member matched by B both ways (n(n-1) when both ends
match the same members); pairs matched by several connections count for each.
It needs only the parsed files, and stops matching once the matching alone is
over the limit.

:func:`size_bound` makes the check a :data:`~drago.model.validate.Bound` for the
validator, so every path that validates content it did not choose (a dry run, a
review branch and its merge, an old revision's plan) refuses it with 413 before
resolving its topology.
"""

from __future__ import annotations

from collections.abc import Callable

from drago.errors import ConfigError, PayloadTooLarge
from drago.model.state import State
from drago.model.topology import match_selector
from drago.model.validate import Bound

#: What matching one member against one connection end costs, in peer entries
#: (measured: validating 4.8 million matches took 6.2 s of CPU, rendering 4 million
#: peer entries 2.3 s and validating them 0.5 s).
MATCH_COST = 4


def topology_work(state: State, limit: int) -> int:
    """An upper bound of the topology work of ``state``; more than ``limit`` may be
    returned without counting the peer entries."""
    members = {
        network: [(name, node) for name, node in state.nodes.items() if network in node.interfaces]
        for network in state.networks
    }
    matching = sum(
        MATCH_COST * 2 * len(net.connections) * len(members[network])
        for network, net in state.networks.items()
    )
    if matching > limit:
        return matching
    total = matching
    for network, net in state.networks.items():
        for connection in net.connections:
            ends = [set(match_selector(end, members[network])) for end in connection.between]
            one, other = ends
            total += len(one) * (len(one) - 1) if one == other else 2 * len(one) * len(other)
    return total


def size_bound(limit: int, reference: Callable[[], State], what: str) -> Bound:
    """A bound refusing a state whose :func:`topology_work` is over ``limit`` and
    over that of ``reference()`` (the state it is compared with, read only when
    needed; a repository already larger than the limit stays usable; an invalid
    reference counts as empty). ``what`` names the content in the message
    (``"the changes'"``)."""

    def check(state: State) -> None:
        bound = topology_work(state, limit)
        if bound <= limit:
            return
        try:
            own = topology_work(reference(), bound)
        except ConfigError:
            own = 0
        if bound > own:
            allowed = max(limit, own)
            raise PayloadTooLarge(
                f"{what} topology could be up to {bound} peer entries and selector"
                f" matches (a full mesh of n nodes has n(n-1) peer entries), over the"
                f" limit of {allowed} (max_topology)",
                details={"topology": bound, "limit": allowed},
            )

    return check
