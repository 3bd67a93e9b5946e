"""The renderer's wg-quick export is accepted by the real ``wg setconf`` (after
``wg-quick strip`` and filling in the private key), and the agent reads the
result back as exactly the desired device: no WireGuard change left to plan."""

from __future__ import annotations

import secrets
import shutil
import subprocess
from pathlib import Path

import pytest

from drago.agent.backends.links import IPRouteLinks
from drago.agent.backends.uapi import UapiSocket
from drago.agent.changes import AddAddress, AddRoute, SetLinkUp, SetMtu
from drago.agent.desired import desired_interface
from drago.agent.device import InterfaceState
from drago.agent.devicediff import diff_interface
from drago.agent.keys import KeyPair
from drago.render.wgquick import to_wg_quick
from tests.agent.factory import interface, node, peer
from tests.support.netns import Lab

pytestmark = pytest.mark.netns


@pytest.mark.skipif(shutil.which("wg-quick") is None, reason="needs wg-quick")
def test_wg_quick_export_round_trips_through_wg_setconf(lab: Lab, tmp_path: Path) -> None:
    own = KeyPair.generate()
    ifname = f"dga{secrets.token_hex(2)}"
    config = node(
        interface(
            peer("fra-1", "192.0.2.1:51820", ("10.20.0.2/32", "192.168.10.0/24")),
            peer("nyc-1", "[2001:db8::7]:51830", ("10.20.0.3/32",), keepalive=None),
            peer("lon-1", None, ("10.20.0.4/32", "fd00:4::/64"), keepalive=15),
            ifname=ifname,
            public_key=own.public_key,
        )
    )
    ns = lab.namespace("q")
    lab.wireguard_go(ns, ifname)

    text = to_wg_quick(config, "backbone")
    assert own.private_key not in text
    conf = tmp_path / f"{ifname}.conf"
    conf.write_text(text)
    stripped = subprocess.run(
        ["wg-quick", "strip", str(conf)], capture_output=True, text=True, check=True
    ).stdout
    assert "Address" not in stripped
    full = stripped.replace("[Interface]", f"[Interface]\nPrivateKey = {own.private_key}", 1)
    setconf = tmp_path / "setconf.conf"
    setconf.write_text(full)
    ns.run("wg", "setconf", ifname, str(setconf))

    device = UapiSocket(ifname).get()
    want, problems = desired_interface(config.interfaces[0], own.public_key)
    assert problems == []
    link = IPRouteLinks(ns.name).read(ifname)
    assert link is not None
    live = InterfaceState(device, link)
    changes = diff_interface(want, live)
    # wg setconf did everything WireGuard-side; only the link is left (wg-quick's job)
    assert {type(c) for c in changes} <= {SetMtu, AddAddress, SetLinkUp, AddRoute}
    nyc = next(p for p in want.peers if p.name == "nyc-1")
    assert device.peers[nyc.public_key].endpoint == "[2001:db8::7]:51830"
    assert len(device.peers) == 3
