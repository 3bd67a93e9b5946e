"""No route through a WireGuard interface covers the drago server or a peer's endpoint.

Such a route would send the agent's requests and the tunnel's own UDP packets
into the tunnel: a routing loop that cuts the node off, also from the server
that could send the fix. The route is left out and reported on the peer whose
allowed IPs asked for it; everything else is applied.
"""

from __future__ import annotations

from pathlib import Path

from drago.agent.backends.fake import FakeHost
from drago.agent.endpoints import Endpoints
from drago.agent.keys import KeyStore
from drago.agent.ownership import Ownership
from drago.agent.reconcile import Reconciler
from drago.render.config import NodeConfig
from tests.agent.factory import PEER_KEYS, FakeResolver, interface, node, peer

SERVER = "https://drago.example.net:8443"


def reconciler(
    tmp_path: Path, resolver: FakeResolver, servers: tuple[str, ...] = (SERVER,)
) -> tuple[Reconciler, FakeHost]:
    host = FakeHost()
    endpoints = Endpoints(resolver, rng=lambda: 0.0, clock=lambda: 0.0)
    rec = Reconciler(
        host,
        host.links(),
        KeyStore(tmp_path),
        Ownership(tmp_path),
        endpoints,
        servers=servers,
        rng=lambda: 0.0,
    )
    return rec, host


def hijacking() -> NodeConfig:
    """fra-1 asks for the upper half of IPv4 (the server), nyc-1 for its own endpoint's net."""
    return node(
        interface(
            peer("fra-1", "192.0.2.1:51820", ("10.20.0.2/32", "192.168.10.0/24", "128.0.0.0/1")),
            peer("nyc-1", "192.0.2.2:51820", ("10.20.0.3/32", "192.0.2.0/24")),
        )
    )


def problems(rec: Reconciler, config: NodeConfig) -> dict[str, str]:
    outcome = rec.reconcile(config)
    assert outcome.in_sync and outcome.errors == []
    return {p.name: p.message for p in outcome.peers}


def test_routes_covering_the_server_or_an_endpoint_are_left_out_and_reported(
    tmp_path: Path,
) -> None:
    resolver = FakeResolver({"drago.example.net": "198.51.100.7"})
    rec, host = reconciler(tmp_path, resolver)
    outcome = rec.reconcile(hijacking())
    assert outcome.in_sync and outcome.errors == []
    assert {(p.ifname, p.name, p.public_key, p.message) for p in outcome.peers} == {
        (
            "wg-backbone",
            "fra-1",
            PEER_KEYS["fra-1"].public_key,
            "route 128.0.0.0/1 left out: it covers the drago server 198.51.100.7",
        ),
        (
            "wg-backbone",
            "nyc-1",
            PEER_KEYS["nyc-1"].public_key,
            "route 192.0.2.0/24 left out: it covers the endpoint 192.0.2.1 of peer fra-1",
        ),
    }
    assert host.interfaces["wg-backbone"].link.routes == frozenset({"192.168.10.0/24"})
    # WireGuard's allowed IPs stay as configured: only routes steer traffic into the tunnel
    device = host.read("wg-backbone")
    assert "128.0.0.0/1" in device.peers[PEER_KEYS["fra-1"].public_key].allowed_ips
    assert "192.0.2.0/24" in device.peers[PEER_KEYS["nyc-1"].public_key].allowed_ips
    again = rec.reconcile(hijacking())
    assert again.changes == [] and again.in_sync and again.peers == outcome.peers


def test_endpoints_of_peers_of_other_interfaces_are_protected_too(tmp_path: Path) -> None:
    resolver = FakeResolver({"lon-1.example.net": "203.0.113.10"})
    rec, host = reconciler(tmp_path, resolver, servers=())
    config = node(
        interface(peer("fra-1", "192.0.2.1:51820", ("10.20.0.2/32", "203.0.113.0/24"))),
        interface(
            peer("lon-1", "lon-1.example.net:51820", ("10.30.0.2/32",)),
            network="office",
            ifname="wg-office",
            address="10.30.0.1/16",
            listen_port=51821,
        ),
    )
    assert problems(rec, config) == {
        "fra-1": "route 203.0.113.0/24 left out: it covers the endpoint 203.0.113.10 of peer lon-1"
    }
    assert host.interfaces["wg-backbone"].link.routes == frozenset()


def test_the_route_comes_once_it_no_longer_covers_the_server(tmp_path: Path) -> None:
    resolver = FakeResolver({"drago.example.net": "198.51.100.7"})
    rec, host = reconciler(tmp_path, resolver)
    config = node(interface(peer("fra-1", "192.0.2.1:51820", ("10.20.0.2/32", "198.51.0.0/16"))))
    assert problems(rec, config) == {
        "fra-1": "route 198.51.0.0/16 left out: it covers the drago server 198.51.100.7"
    }
    resolver.names["drago.example.net"] = "203.0.113.7"  # the server moved
    assert problems(rec, config) == {}
    assert host.interfaces["wg-backbone"].link.routes == frozenset({"198.51.0.0/16"})


def test_the_servers_last_address_stays_protected_while_its_name_fails(tmp_path: Path) -> None:
    resolver = FakeResolver({"drago.example.net": "198.51.100.7"})
    rec, host = reconciler(tmp_path, resolver)
    config = node(interface(peer("fra-1", "192.0.2.1:51820", ("10.20.0.2/32", "198.51.0.0/16"))))
    first = problems(rec, config)
    del resolver.names["drago.example.net"]
    outcome = rec.reconcile(config)
    assert {p.name: p.message for p in outcome.peers} == first
    assert outcome.retry_in is None  # the server's name does not make peers be retried
    assert host.interfaces["wg-backbone"].link.routes == frozenset()


def test_an_ipv6_server_literal_is_protected(tmp_path: Path) -> None:
    rec, host = reconciler(tmp_path, FakeResolver(), servers=("https://[2001:db8:7::7]:8443",))
    config = node(
        interface(
            peer("fra-1", "192.0.2.1:51820", ("10.20.0.2/32", "2001:db8::/32", "2001:db9::/32"))
        )
    )
    assert problems(rec, config) == {
        "fra-1": "route 2001:db8::/32 left out: it covers the drago server 2001:db8:7::7"
    }
    assert host.interfaces["wg-backbone"].link.routes == frozenset({"2001:db9::/32"})


def test_every_server_the_agent_may_fail_over_to_is_protected(tmp_path: Path) -> None:
    resolver = FakeResolver({"drago.example.net": "198.51.100.7"})
    rec, host = reconciler(tmp_path, resolver, servers=(SERVER, "http://203.0.113.9:8080"))
    config = node(
        interface(
            peer("fra-1", "192.0.2.1:51820", ("10.20.0.2/32", "198.51.0.0/16")),
            peer("nyc-1", "192.0.2.2:51820", ("10.20.0.3/32", "203.0.113.0/24")),
        )
    )
    assert problems(rec, config) == {
        "fra-1": "route 198.51.0.0/16 left out: it covers the drago server 198.51.100.7",
        "nyc-1": "route 203.0.113.0/24 left out: it covers the drago server 203.0.113.9",
    }
    assert host.interfaces["wg-backbone"].link.routes == frozenset()


def test_the_plan_leaves_the_route_out_too(tmp_path: Path) -> None:
    resolver = FakeResolver({"drago.example.net": "198.51.100.7"})
    rec, host = reconciler(tmp_path, resolver)
    outcome = rec.plan(hijacking(), generate=False)
    planned = [str(c) for c in outcome.changes]
    assert not any("128.0.0.0/1" in c and "route" in c for c in planned)
    assert {p.name for p in outcome.peers} == {"fra-1", "nyc-1"}
    assert host.interfaces == {}


def test_an_endpoint_kept_while_its_name_fails_stays_protected(tmp_path: Path) -> None:
    resolver = FakeResolver({"fra-1.example.net": "192.0.2.1"})
    rec, host = reconciler(tmp_path, resolver, servers=())

    def config(nyc_allowed: tuple[str, ...]) -> NodeConfig:
        return node(
            interface(
                peer("fra-1", "fra-1.example.net:51820", ("10.20.0.2/32",)),
                peer("nyc-1", None, nyc_allowed),
            )
        )

    assert problems(rec, config(("10.20.0.3/32",))) == {}
    del resolver.names["fra-1.example.net"]  # DNS fails: the device keeps 192.0.2.1
    found = problems(rec, config(("10.20.0.3/32", "192.0.2.0/24")))
    assert found["nyc-1"] == (
        "route 192.0.2.0/24 left out: it covers the endpoint 192.0.2.1 of peer fra-1"
    )
    assert found["fra-1"].startswith("endpoint unresolved: fra-1.example.net:51820: ")
    device = host.read("wg-backbone")
    assert device.peers[PEER_KEYS["fra-1"].public_key].endpoint == "192.0.2.1:51820"
    assert host.interfaces["wg-backbone"].link.routes == frozenset()
