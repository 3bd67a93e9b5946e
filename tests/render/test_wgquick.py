from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drago.errors import NotFound, UnsafeValue
from drago.render import render_state, to_wg_quick
from drago.render.config import NodeConfig
from tests.render.states import key_for, make_state

NETWORKS: dict[str, dict[str, Any]] = {
    "backbone": {
        "address_range": "10.20.0.0/16",
        "persistent_keepalive": 25,
        "mtu": 1420,
        "dns": ["10.20.0.53", "10.20.0.54"],
        "connections": [{"between": ["*", "*"]}],
    }
}
NODES: dict[str, dict[str, Any]] = {
    "fra-1": {"endpoint": "192.0.2.1", "interfaces": {"backbone": {"address": "10.20.0.1/16"}}},
    "nyc-1": {
        "endpoint": "2001:db8::2",
        "interfaces": {"backbone": {"address": "10.20.0.2/16", "routes": ["172.31.0.0/16"]}},
    },
    "laptop": {"interfaces": {"backbone": {"address": "10.20.0.9/16"}}},
    "lon-1": {"endpoint": "192.0.2.4", "interfaces": {"backbone": {"address": "10.20.0.4/16"}}},
}
KEYS = {n: {"backbone": key_for(n)} for n in ("fra-1", "nyc-1", "laptop")}


def config(node: str = "fra-1") -> NodeConfig:
    return render_state(make_state(NETWORKS, NODES, KEYS), "c0ffee")[node]


def test_wg_quick_file() -> None:
    text = to_wg_quick(config(), "backbone")
    nyc = key_for("nyc-1")
    assert "[Interface]\n# PrivateKey = <fill in: private key of fra-1 for backbone>\n" in text
    assert "\nAddress = 10.20.0.1/16\nListenPort = 51820\nMTU = 1420\n" in text
    assert "\nDNS = 10.20.0.53, 10.20.0.54\n" in text
    assert "# pending peer lon-1: no public key registered\n" in text
    assert (
        "[Peer]\n# nyc-1\n"
        f"PublicKey = {nyc}\n"
        "Endpoint = [2001:db8::2]:51820\n"
        "AllowedIPs = 10.20.0.2/32, 172.31.0.0/16\n"
        "PersistentKeepalive = 25\n"
    ) in text
    assert "\n[Peer]\n# laptop\n" in text
    laptop_section = text.split("# laptop\n", 1)[1]
    assert "Endpoint" not in laptop_section.split("[Peer]", 1)[0]
    assert "rendered from revision c0ffee" in text
    assert "\nPrivateKey" not in text


def test_unknown_network() -> None:
    with pytest.raises(NotFound, match="has no interface in network 'site'"):
        to_wg_quick(config(), "site")


def _wg_quick_strip(text: str, directory: Path) -> str:
    path = directory / "wg-drago.conf"
    path.write_text(text)
    path.chmod(0o600)
    done = subprocess.run(
        ["wg-quick", "strip", str(path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.skipif(shutil.which("wg-quick") is None, reason="wg-quick is not installed")
def test_wg_quick_strip_accepts_the_export(tmp_path: Path) -> None:
    stripped = _wg_quick_strip(to_wg_quick(config(), "backbone"), tmp_path)
    for gone in ("Address =", "MTU =", "DNS ="):
        assert gone not in stripped
    assert "ListenPort = 51820" in stripped
    assert stripped.count("[Peer]") == 2
    assert f"PublicKey = {key_for('nyc-1')}" in stripped


def _wait_for(path: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} did not appear")
        time.sleep(0.05)


@pytest.fixture
def wireguard_device() -> Iterator[tuple[str, str]]:
    """A wireguard-go device in a fresh namespace: (namespace, ifname)."""
    if os.geteuid() != 0 or shutil.which("wireguard-go") is None or shutil.which("wg") is None:
        pytest.skip("needs root, wireguard-go and wg")
    suffix = uuid.uuid4().hex[:6]
    netns, ifname = f"dgr-{suffix}", f"dgr{suffix}"
    subprocess.run(["ip", "netns", "add", netns], check=True)
    process = None
    try:
        process = subprocess.Popen(
            ["ip", "netns", "exec", netns, "wireguard-go", "-f", ifname],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for(Path(f"/var/run/wireguard/{ifname}.sock"), 5)
        yield netns, ifname
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        subprocess.run(["ip", "netns", "del", netns], check=False)


@pytest.mark.netns
def test_wg_setconf_accepts_the_stripped_export(
    wireguard_device: tuple[str, str], tmp_path: Path
) -> None:
    netns, ifname = wireguard_device
    stripped = _wg_quick_strip(to_wg_quick(config("nyc-1"), "backbone"), tmp_path)
    conf = tmp_path / "stripped.conf"
    conf.write_text(stripped)
    done = subprocess.run(
        ["ip", "netns", "exec", netns, "wg", "setconf", ifname, str(conf)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    shown = subprocess.run(
        ["ip", "netns", "exec", netns, "wg", "showconf", ifname],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "ListenPort = 51820" in shown
    assert f"PublicKey = {key_for('fra-1')}" in shown
    assert "Endpoint = 192.0.2.1:51820" in shown
    assert f"PublicKey = {key_for('laptop')}" in shown
    assert shown.count("[Peer]") == 2


def _forged(node: NodeConfig, **changes: Any) -> NodeConfig:
    """``node`` with fields replaced without validation (a validator gap)."""
    iface = node.interfaces[0]
    peer = iface.peers[0]
    peer_fields = {k: v for k, v in changes.items() if k in type(peer).model_fields}
    iface_fields = {
        k: v for k, v in changes.items() if k in type(iface).model_fields and k not in peer_fields
    }
    peers = (peer.model_copy(update=peer_fields), *iface.peers[1:])
    forged = iface.model_copy(update={**iface_fields, "peers": peers})
    return node.model_copy(update={"interfaces": (forged, *node.interfaces[1:])})


FORGED: dict[str, dict[str, Any]] = {
    "endpoint with a hook line": {"endpoint": "[fd00::1%\nPreUp = id]:51820"},
    "endpoint with a space": {"endpoint": "fd00::1%x y:1"},
    "allowed IPs with a section": {"allowed_ips": ("10.0.0.0/24\n[Interface]",)},
    "peer name with a line": {"name": "x\nPostUp = id"},
    "public key with a line": {"public_key": key_for("a") + "\nPreDown = id"},
    "address with a zone": {"address": "fd00::1%\nTable = off/64"},
    "DNS with a line": {"dns": ("10.0.0.53\nPostUp = id",)},
    "interface name": {"ifname": "wg0\n[Peer]"},
    "listen port as text": {"listen_port": "1\nPreUp = id"},
    "keepalive as text": {"persistent_keepalive": "1\nPreUp = id"},
    "MTU as a bool": {"mtu": True},
}


@pytest.mark.parametrize("changes", FORGED.values(), ids=FORGED.keys())
def test_the_writer_refuses_values_outside_its_line_grammar(changes: dict[str, Any]) -> None:
    with pytest.raises(UnsafeValue, match="refusing to write"):
        to_wg_quick(_forged(config(), **changes), "backbone")


def test_the_writer_refuses_a_pending_reason_that_breaks_its_comment_line() -> None:
    node = config()
    iface = node.interfaces[0]
    pending = iface.pending_peers[0].model_copy(update={"reason": "x\nPreUp = id"})
    forged = iface.model_copy(update={"pending_peers": (pending,)})
    with pytest.raises(UnsafeValue):
        to_wg_quick(node.model_copy(update={"interfaces": (forged,)}), "backbone")


def test_the_writer_refuses_a_revision_that_breaks_its_comment_line() -> None:
    with pytest.raises(UnsafeValue):
        to_wg_quick(config().model_copy(update={"revision": "c0ffee\nPreUp = id"}), "backbone")
