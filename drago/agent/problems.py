"""Per-peer problems: a peer the agent could not apply fully, while the rest is applied.

One bad peer never holds back a node: a peer whose endpoint does not resolve
is configured without an endpoint (or keeps the one it has), a peer the device
refuses is left out, a route of a peer's allowed IPs that would cover the
drago server's address or a peer's endpoint is not installed (a routing loop
that would cut the node off), everything else of the config is applied, and
each such peer is retried on its own backoff. The status report carries the problem on
the peer's entry (``peers[].problem``), not in the node's ``errors``.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Prefix of the problem of a peer whose endpoint host name did not resolve.
ENDPOINT_UNRESOLVED = "endpoint unresolved"
#: Prefix of the problem of a peer whose update the device refused.
PEER_REFUSED = "refused by the device"
#: Problem of a peer one of whose routes was not installed:
#: ``route CIDR left out: it covers the drago server ADDRESS`` (or ``the endpoint of peer X``).
ROUTE_LEFT_OUT = "left out: it covers"


@dataclass(frozen=True)
class PeerProblem:
    """Why one peer of one interface is not fully applied (one line, no secrets)."""

    network: str
    ifname: str
    name: str
    public_key: str
    message: str

    def __str__(self) -> str:
        return f"{self.ifname}: peer {self.name}: {self.message}"
