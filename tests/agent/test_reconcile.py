from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from drago.agent.backends.fake import FakeHost
from drago.agent.changes import AddPeer, CreateInterface, RemoveInterface
from drago.agent.keys import KeyStore
from drago.agent.ownership import Ownership
from drago.agent.reconcile import Reconciler
from drago.errors import BackendError
from drago.render.config import NodeConfig
from tests.agent.factory import PEER_KEYS, interface, node, peer, standard


def reconciler(tmp_path: Path, host: FakeHost | None = None) -> tuple[Reconciler, FakeHost]:
    host = host or FakeHost()
    return Reconciler(host, host.links(), KeyStore(tmp_path), Ownership(tmp_path)), host


def test_fresh_node_converges_and_then_changes_nothing(tmp_path: Path) -> None:
    rec, host = reconciler(tmp_path)
    outcome = rec.reconcile(standard())
    assert outcome.in_sync and outcome.errors == []
    assert isinstance(outcome.changes[0], CreateInterface)
    assert Ownership(tmp_path).interfaces() == {"wg-backbone": "backbone"}
    link = host.interfaces["wg-backbone"].link
    assert link.up and link.routes == frozenset({"192.168.10.0/24"})
    device = host.read("wg-backbone")
    assert device.public_key == KeyStore(tmp_path).ensure("backbone").public_key
    updates = len(host.updates)
    again = rec.reconcile(standard())
    assert again.changes == [] and again.in_sync
    assert len(host.updates) == updates


def test_one_peer_change_touches_one_peer(tmp_path: Path) -> None:
    rec, host = reconciler(tmp_path)
    rec.reconcile(standard())
    host.touched.clear()
    changed = node(
        interface(
            peer("fra-1", "192.0.2.1:51820", ("10.20.0.2/32", "192.168.10.0/24")),
            peer("nyc-1", "192.0.2.99:51820", ("10.20.0.3/32",)),
        )
    )
    outcome = rec.reconcile(changed)
    assert [str(c) for c in outcome.changes] == [
        "wg-backbone: peer nyc-1: endpoint 192.0.2.2:51820 => 192.0.2.99:51820"
    ]
    assert host.touched == [PEER_KEYS["nyc-1"].public_key]
    assert host.updates[-1].peers[0].update_only


def test_foreign_interface_is_never_touched(tmp_path: Path) -> None:
    host = FakeHost()
    host.create("wg-backbone")
    rec, _ = reconciler(tmp_path, host)
    outcome = rec.reconcile(standard())
    assert outcome.changes == []
    assert not outcome.in_sync
    assert "does not own it" in outcome.errors[0]
    assert host.read("wg-backbone").peers == {}
    assert Ownership(tmp_path).interfaces() == {}


def test_leaving_a_network_removes_its_interface(tmp_path: Path) -> None:
    rec, host = reconciler(tmp_path)
    two = node(
        interface(peer("fra-1")),
        interface(
            peer("lon-1"),
            network="office",
            ifname="wg-office",
            address="10.30.0.1/16",
            listen_port=51821,
        ),
    )
    rec.reconcile(two)
    assert set(host.interfaces) == {"wg-backbone", "wg-office"}
    outcome = rec.reconcile(node(interface(peer("fra-1"))))
    assert outcome.changes == [RemoveInterface("wg-office")]
    assert set(host.interfaces) == {"wg-backbone"}
    assert Ownership(tmp_path).interfaces() == {"wg-backbone": "backbone"}


def test_failed_apply_is_reported_and_repaired_next_time(tmp_path: Path) -> None:
    rec, host = reconciler(tmp_path)
    rec.reconcile(node(interface()))
    host.fail_next["wg-backbone"] = "errno=-22"
    outcome = rec.reconcile(standard())
    assert outcome.errors == ["wg-backbone: errno=-22"]
    assert not outcome.in_sync
    # the first peer went through before the failure; re-reading plans only the rest
    assert len(host.read("wg-backbone").peers) == 1
    retry = rec.reconcile(standard())
    assert retry.in_sync
    assert [type(c) for c in retry.changes if isinstance(c, AddPeer)] == [AddPeer]


def test_dry_run_plan_generates_no_key_and_changes_nothing(tmp_path: Path) -> None:
    rec, host = reconciler(tmp_path)
    outcome = rec.plan(standard(), generate=False)
    assert "wg-backbone: key (none) => (new key pair)" in [str(c) for c in outcome.changes]
    assert host.interfaces == {}
    assert KeyStore(tmp_path).networks() == []


def test_drift_behind_the_agents_back_is_repaired(tmp_path: Path) -> None:
    rec, host = reconciler(tmp_path)
    rec.reconcile(standard())
    iface = host.interfaces["wg-backbone"]
    peers = dict(iface.device.peers)
    del peers[PEER_KEYS["fra-1"].public_key]
    iface.device = replace(iface.device, peers=peers)
    outcome = rec.reconcile(standard())
    assert [type(c) for c in outcome.changes] == [AddPeer]
    assert outcome.in_sync


def office() -> NodeConfig:
    return node(
        interface(peer("fra-1")),
        interface(
            peer("lon-1"),
            network="office",
            ifname="wg-office",
            address="10.30.0.1/16",
            listen_port=51821,
        ),
    )


def test_leaving_a_network_deletes_its_keys(tmp_path: Path) -> None:
    rec, host = reconciler(tmp_path)
    rec.reconcile(office())
    assert "wg-office" in host.interfaces
    keys = KeyStore(tmp_path)
    keys.rotate("office")
    assert keys.networks() == ["backbone", "office"]
    outcome = rec.reconcile(node(interface(peer("fra-1"))))
    assert outcome.in_sync
    assert keys.networks() == ["backbone"]
    assert keys.get("office") is None and keys.pending("office") is None
    assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == ["backbone.key"]


def test_keys_stay_while_the_interface_cannot_be_removed(tmp_path: Path) -> None:
    rec, host = reconciler(tmp_path)
    rec.reconcile(office())
    kept = KeyStore(tmp_path).get("office")

    def refuse(ifname: str) -> None:
        raise BackendError(f"{ifname}: delete: operation not permitted")

    host.delete = refuse  # type: ignore[method-assign]
    outcome = rec.reconcile(node(interface(peer("fra-1"))))
    assert outcome.errors and "wg-office" in host.interfaces
    assert KeyStore(tmp_path).get("office") == kept


def test_a_renamed_interface_keeps_its_networks_key(tmp_path: Path) -> None:
    rec, host = reconciler(tmp_path)
    rec.reconcile(node(interface(peer("fra-1"))))
    before = KeyStore(tmp_path).get("backbone")
    outcome = rec.reconcile(node(interface(peer("fra-1"), ifname="wg-bb")))
    assert outcome.in_sync
    assert set(host.interfaces) == {"wg-bb"}
    assert Ownership(tmp_path).interfaces() == {"wg-bb": "backbone"}
    assert before is not None and KeyStore(tmp_path).get("backbone") == before
    assert host.read("wg-bb").public_key == before.public_key
