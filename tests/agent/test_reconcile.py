from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from drago.agent.backends.fake import FakeHost
from drago.agent.changes import AddPeer, CreateInterface, RemoveInterface, SetPeerEndpoint
from drago.agent.endpoints import Endpoints
from drago.agent.keys import KeyStore
from drago.agent.ownership import Ownership
from drago.agent.reconcile import Reconciler
from drago.errors import BackendError
from drago.render.config import NodeConfig
from tests.agent.factory import PEER_KEYS, FakeResolver, interface, node, peer, standard


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def reconciler(
    tmp_path: Path,
    host: FakeHost | None = None,
    resolver: FakeResolver | None = None,
    clock: Clock | None = None,
) -> tuple[Reconciler, FakeHost]:
    host = host or FakeHost()
    endpoints = Endpoints(resolver or FakeResolver(), rng=lambda: 0.0, clock=clock or Clock())
    rec = Reconciler(
        host, host.links(), KeyStore(tmp_path), Ownership(tmp_path), endpoints, rng=lambda: 0.0
    )
    return rec, host


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
    host.failing["wg-backbone"] = "errno=-22"
    outcome = rec.reconcile(standard())
    assert outcome.errors == ["wg-backbone: errno=-22"]
    assert not outcome.in_sync and outcome.peers == ()
    assert host.read("wg-backbone").peers == {}
    del host.failing["wg-backbone"]
    retry = rec.reconcile(standard())
    assert retry.in_sync and retry.errors == []
    assert [type(c) for c in retry.changes if isinstance(c, AddPeer)] == [AddPeer, AddPeer]


def test_a_failed_apply_that_is_no_refusal_is_not_split(tmp_path: Path) -> None:
    rec, host = reconciler(tmp_path)
    rec.reconcile(node(interface()))
    host.fail_next["wg-backbone"] = "UAPI socket: connection refused"
    updates = len(host.updates)
    outcome = rec.reconcile(standard())
    assert outcome.errors == ["wg-backbone: UAPI socket: connection refused"]
    assert not outcome.in_sync and outcome.peers == ()
    assert len(host.updates) == updates + 1


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


def three_peers(lon_endpoint: str = "unreachable.invalid:51820") -> NodeConfig:
    return node(
        interface(
            peer("fra-1", "fra-1.example.net:51820", ("10.20.0.2/32",)),
            peer("lon-1", lon_endpoint, ("10.20.0.4/32",)),
            peer("nyc-1", "192.0.2.2:51820", ("10.20.0.3/32",)),
        )
    )


def test_a_peer_whose_endpoint_does_not_resolve_never_holds_back_the_rest(
    tmp_path: Path,
) -> None:
    resolver = FakeResolver({"fra-1.example.net": "192.0.2.1"})
    clock = Clock()
    rec, host = reconciler(tmp_path, resolver=resolver, clock=clock)
    outcome = rec.reconcile(three_peers())
    assert outcome.in_sync and outcome.errors == []
    (problem,) = outcome.peers
    assert (problem.network, problem.ifname, problem.name) == ("backbone", "wg-backbone", "lon-1")
    assert problem.public_key == PEER_KEYS["lon-1"].public_key
    assert problem.message.startswith("endpoint unresolved: unreachable.invalid:51820: ")
    assert "Name or service not known" in problem.message
    assert outcome.retry_in == 0.5  # its own backoff (jitter pinned to the low end)
    peers = host.read("wg-backbone").peers
    assert peers[PEER_KEYS["fra-1"].public_key].endpoint == "192.0.2.1:51820"
    assert peers[PEER_KEYS["nyc-1"].public_key].endpoint == "192.0.2.2:51820"
    lon = peers[PEER_KEYS["lon-1"].public_key]  # added without an endpoint, allowed IPs set
    assert lon.endpoint is None and lon.allowed_ips == ("10.20.0.4/32",)

    # still unresolved: nothing to change, the problem stays, DNS is not asked before it is due
    lookups = len(resolver.lookups)
    again = rec.reconcile(three_peers())
    assert again.changes == [] and again.in_sync and again.peers == outcome.peers
    assert resolver.lookups.count("unreachable.invalid") == 1
    assert len(resolver.lookups) == lookups + 1  # fra-1 is resolved again (follows DNS)

    # once the name resolves (and its retry is due), the endpoint is set; the problem is gone
    resolver.names["unreachable.invalid"] = "192.0.2.4"
    clock.now += 0.5
    fixed = rec.reconcile(three_peers())
    assert [str(c) for c in fixed.changes] == [
        "wg-backbone: peer lon-1: endpoint (none) => 192.0.2.4:51820"
    ]
    assert fixed.in_sync and fixed.peers == () and fixed.retry_in is None


def test_a_peer_keeps_its_endpoint_when_its_new_name_does_not_resolve(tmp_path: Path) -> None:
    rec, host = reconciler(tmp_path)
    rec.reconcile(three_peers("192.0.2.4:51820"))
    outcome = rec.reconcile(three_peers("typo.example.nte:51820"))
    assert outcome.in_sync and not any(isinstance(c, SetPeerEndpoint) for c in outcome.changes)
    assert [p.name for p in outcome.peers] == ["fra-1", "lon-1"]
    lon = host.read("wg-backbone").peers[PEER_KEYS["lon-1"].public_key]
    assert lon.endpoint == "192.0.2.4:51820"


def test_a_peer_the_device_refuses_is_left_out_and_retried_on_its_own(tmp_path: Path) -> None:
    rec, host = reconciler(tmp_path)
    rec.reconcile(node(interface()))
    host.refuse[PEER_KEYS["fra-1"].public_key] = "the device rejected the request (errno=-22)"
    outcome = rec.reconcile(standard())
    assert outcome.in_sync and outcome.errors == []
    (problem,) = outcome.peers
    assert str(problem) == (
        "wg-backbone: peer fra-1: refused by the device: "
        "the device rejected the request (errno=-22)"
    )
    assert set(host.read("wg-backbone").peers) == {PEER_KEYS["nyc-1"].public_key}
    link = host.interfaces["wg-backbone"].link  # the interface's other steps went on
    assert link.up and link.routes == frozenset({"192.168.10.0/24"})
    # the whole update, then one update per peer
    assert [len(u.peers) for u in host.updates[-3:]] == [2, 1, 1]
    assert outcome.retry_in == 0.5
    assert rec.reconcile(standard()).retry_in == 1.0  # refused again: its backoff grows

    del host.refuse[PEER_KEYS["fra-1"].public_key]
    healed = rec.reconcile(standard())
    assert [type(c) for c in healed.changes] == [AddPeer]
    assert healed.in_sync and healed.peers == () and healed.retry_in is None
    assert len(host.read("wg-backbone").peers) == 2


def test_a_refused_peer_does_not_hide_other_errors(tmp_path: Path) -> None:
    rec, host = reconciler(tmp_path)
    two = node(
        interface(peer("fra-1")),
        interface(peer("lon-1"), network="office", ifname="wg-office", address="10.30.0.1/16"),
    )
    rec.reconcile(node(interface()))
    host.refuse[PEER_KEYS["fra-1"].public_key] = "errno=-22"
    host.links().set_up("wg-backbone")
    host.create("wg-office")  # someone else's: a node-level error
    outcome = rec.reconcile(two)
    assert not outcome.in_sync
    assert [p.name for p in outcome.peers] == ["fra-1"]
    assert any("does not own it" in e for e in outcome.errors)
