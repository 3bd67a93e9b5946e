"""On a real device (wireguard-go in namespaces): allowed IPs that cover a peer's
endpoint do not capture the tunnel's own packets; a route that covers it does.

This is why the agent leaves out such routes but keeps WireGuard's allowed IPs
as configured (see drago/agent/desired.py ``guard_routes``).
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import pytest

from drago.agent.keys import KeyPair
from tests.support.netns import Lab, Namespace

pytestmark = pytest.mark.netns


def configure(
    ns: Namespace, ifname: str, own: KeyPair, address: str, peer: KeyPair, allowed: str, tmp: Path
) -> None:
    key = tmp / f"{ifname}.key"
    key.write_text(own.private_key)
    key.chmod(0o600)
    ns.run("wg", "set", ifname, "private-key", str(key), "listen-port", "51820")
    ns.run("wg", "set", ifname, "peer", peer.public_key, "allowed-ips", allowed)
    ns.run("ip", "addr", "add", address, "dev", ifname)
    ns.run("ip", "link", "set", ifname, "up")


def pings(ns: Namespace, address: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ns.run("ping", "-c", "1", "-W", "1", address, check=False).returncode == 0:
            return True
    return False


def test_allowed_ips_covering_the_endpoint_do_not_loop_but_a_route_does(
    lab: Lab, tmp_path: Path
) -> None:
    hub = lab.hub("172.31.251")
    a, b = lab.namespace("a"), lab.namespace("b")
    lab.attach(hub, a)
    under_b = lab.attach(hub, b)
    suffix = secrets.token_hex(2)
    wg_a, wg_b = f"dgla{suffix}", f"dglb{suffix}"
    lab.wireguard_go(a, wg_a)
    lab.wireguard_go(b, wg_b)
    key_a, key_b = KeyPair.generate(), KeyPair.generate()
    # a's peer b may send and receive everything, b's own endpoint included
    configure(a, wg_a, key_a, "10.99.0.1/24", key_b, "0.0.0.0/0", tmp_path)
    configure(b, wg_b, key_b, "10.99.0.2/24", key_a, "10.99.0.1/32", tmp_path)
    a.run("wg", "set", wg_a, "peer", key_b.public_key, "endpoint", f"{under_b}:51820")

    assert pings(a, "10.99.0.2", 10), "allowed IPs alone should not capture the endpoint"

    # the route the agent leaves out: b's endpoint into the tunnel
    a.run("ip", "route", "add", f"{under_b}/32", "dev", wg_a)
    assert not pings(a, "10.99.0.2", 3), "a route covering the endpoint should loop"
