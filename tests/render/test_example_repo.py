"""Rendering the bundled example repository (read through the real validator)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from drago.model.directory import read_directory
from drago.model.validate import Validator
from drago.render import RenderResult, render_state, to_wg_quick
from drago.render.config import PeerConfig


@pytest.fixture
def rendered(example_repo: Path) -> RenderResult:
    return render_state(Validator().validate_files(read_directory(example_repo)), "example")


def peers(result: RenderResult, node: str, network: str) -> dict[str, PeerConfig]:
    iface = result[node].interface(network)
    assert iface is not None
    return {p.name: p for p in iface.peers}


def test_every_node_renders(rendered: RenderResult) -> None:
    assert set(rendered) == {
        "ber-gw",
        "fra-1",
        "laptop-anna",
        "laptop-ben",
        "muc-1",
        "nyc-1",
        "sgp-1",
    }
    for node in rendered:
        assert rendered[node].hash == rendered.hashes[node]


def test_backbone_mesh_offices_and_backup_uplink(rendered: RenderResult) -> None:
    assert sorted(peers(rendered, "fra-1", "backbone")) == ["ber-gw", "muc-1", "nyc-1", "sgp-1"]
    assert sorted(peers(rendered, "muc-1", "backbone")) == ["fra-1"]
    uplink = peers(rendered, "ber-gw", "backbone")["nyc-1"]
    assert uplink.persistent_keepalive == 15
    assert uplink.allowed_ips == ("10.20.0.2/32", "172.31.0.0/16")
    iface = rendered["fra-1"].interface("backbone")
    assert iface is not None and (iface.mtu, iface.ifname) == (1380, "wg-backbone")


def test_hub_and_spoke_site(rendered: RenderResult) -> None:
    hub = rendered["ber-gw"].interface("site")
    assert hub is not None
    assert [p.name for p in hub.pending_peers] == ["laptop-ben"]
    assert peers(rendered, "ber-gw", "site")["muc-1"].endpoint == "muc.example.org:61821"
    assert peers(rendered, "ber-gw", "site")["laptop-anna"].endpoint is None
    anna = rendered["laptop-anna"].interface("site")
    assert anna is not None and anna.ifname == "wg-office" and anna.dns == ("10.30.0.1",)
    to_hub = peers(rendered, "laptop-anna", "site")["ber-gw"]
    assert to_hub.allowed_ips == ("10.30.0.0/16", "192.168.50.0/24")
    assert to_hub.persistent_keepalive == 25
    ben = rendered["laptop-ben"].interface("site")
    assert ben is not None and ben.public_key is None


@pytest.mark.skipif(shutil.which("wg-quick") is None, reason="wg-quick is not installed")
def test_every_interface_exports_to_wg_quick(rendered: RenderResult, tmp_path: Path) -> None:
    for node in rendered:
        for network in rendered[node].networks:
            path = tmp_path / "wg-example.conf"
            path.write_text(to_wg_quick(rendered[node], network))
            path.chmod(0o600)
            done = subprocess.run(
                ["wg-quick", "strip", str(path)], capture_output=True, text=True, check=False
            )
            assert done.returncode == 0, f"{node}/{network}: {done.stderr}"
