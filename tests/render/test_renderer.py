from __future__ import annotations

import copy
import json
from itertools import accumulate
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drago.errors import ConfigError, NotFound
from drago.model.state import State
from drago.render import Renderer, fragments, render_state
from drago.render import renderer as renderer_module
from drago.render.config import NodeConfig, config_hash
from drago.render.delta import make_delta
from drago.render.digestform import Unchanged
from drago.render.fragments import (
    InterfacePart,
    PeerInfo,
    SelfInfo,
    interface_edges,
    interface_fields,
)
from drago.render.links import PeerLink
from tests.render.states import key_for, make_state, mesh

NETWORKS: dict[str, dict[str, Any]] = {
    "backbone": {
        "address_range": "10.20.0.0/16",
        "persistent_keepalive": 25,
        "mtu": 1420,
        "dns": ["10.20.0.53"],
        "connections": [{"between": ["*", "*"]}],
    },
    "site": {
        "address_range": "10.30.0.0/16",
        "listen_port": 51821,
        "connections": [
            {
                "between": ["site=hub", "site=spoke"],
                "allowed_ips": {"site=hub": ["10.30.0.0/16"]},
            }
        ],
    },
}
NODES: dict[str, dict[str, Any]] = {
    "fra-1": {
        "endpoint": "fra-1.example.net",
        "labels": {"site": "hub"},
        "interfaces": {
            "backbone": {"address": "10.20.0.1/16", "routes": ["10.100.0.0/16"]},
            "site": {"address": "10.30.0.1/16", "ifname": "wg-office"},
        },
    },
    "nyc-1": {
        "endpoint": "2001:db8::7",
        "interfaces": {
            "backbone": {
                "address": "10.20.0.2/16",
                "endpoint_port": 61820,
                "mtu": 1380,
                "dns": [],
                "routes": ["172.31.0.0/16", "10.9.0.0/24"],
            }
        },
    },
    "laptop": {
        "labels": {"site": "spoke"},
        "interfaces": {
            "backbone": {"address": "10.20.9.9/16", "persistent_keepalive": 0},
            "site": {"address": "10.30.2.10/16", "persistent_keepalive": 15},
        },
    },
}
KEYS = {
    "fra-1": {"backbone": key_for("fra-1/b"), "site": key_for("fra-1/s")},
    "nyc-1": {"backbone": key_for("nyc-1/b")},
    "laptop": {"site": key_for("laptop/s")},
}


def state(**changes: Any) -> State:
    nodes = copy.deepcopy(NODES)
    for node, data in changes.items():
        nodes[node] = data
    return make_state(NETWORKS, nodes, KEYS)


def peers(config: NodeConfig, network: str) -> dict[str, Any]:
    iface = config.interface(network)
    assert iface is not None
    return {p.name: p for p in iface.peers}


def test_interface_settings_come_from_interface_then_network() -> None:
    result = render_state(state(), "r1")
    fra = result["fra-1"].interface("backbone")
    nyc = result["nyc-1"].interface("backbone")
    site = result["fra-1"].interface("site")
    assert fra is not None and nyc is not None and site is not None
    assert (fra.ifname, fra.address, fra.listen_port, fra.mtu, fra.dns) == (
        "wg-backbone",
        "10.20.0.1/16",
        51820,
        1420,
        ("10.20.0.53",),
    )
    assert (nyc.mtu, nyc.dns) == (1380, ())
    assert (site.ifname, site.listen_port, site.mtu) == ("wg-office", 51821, None)
    assert fra.public_key == KEYS["fra-1"]["backbone"]
    assert result["fra-1"].revision == "r1"


def test_endpoints_use_endpoint_port_and_bracket_ipv6() -> None:
    result = render_state(state())
    fra_peers = peers(result["fra-1"], "backbone")
    nyc_peers = peers(result["nyc-1"], "backbone")
    assert fra_peers["nyc-1"].endpoint == "[2001:db8::7]:61820"
    assert nyc_peers["fra-1"].endpoint == "fra-1.example.net:51820"
    site_peers = peers(result["laptop"], "site")
    assert site_peers["fra-1"].endpoint == "fra-1.example.net:51821"
    assert peers(result["fra-1"], "site")["laptop"].endpoint is None


def test_allowed_ips_are_host_route_plus_routes_or_the_override() -> None:
    result = render_state(state())
    assert peers(result["fra-1"], "backbone")["nyc-1"].allowed_ips == (
        "10.9.0.0/24",
        "10.20.0.2/32",
        "172.31.0.0/16",
    )
    assert peers(result["laptop"], "site")["fra-1"].allowed_ips == ("10.30.0.0/16",)
    assert peers(result["fra-1"], "site")["laptop"].allowed_ips == ("10.30.2.10/32",)


def test_keepalive_connection_then_own_interface_then_network_zero_is_off() -> None:
    result = render_state(state())
    assert peers(result["fra-1"], "backbone")["nyc-1"].persistent_keepalive == 25
    assert peers(result["laptop"], "site")["fra-1"].persistent_keepalive == 15
    assert peers(result["fra-1"], "site")["laptop"].persistent_keepalive is None
    networks = copy.deepcopy(NETWORKS)
    networks["site"]["connections"][0]["persistent_keepalive"] = 40
    result = render_state(make_state(networks, NODES, KEYS))
    assert peers(result["laptop"], "site")["fra-1"].persistent_keepalive == 40


def test_peers_without_a_key_are_pending() -> None:
    result = render_state(state())
    laptop = result["laptop"].interface("backbone")
    assert laptop is not None and laptop.public_key is None
    fra = result["fra-1"].interface("backbone")
    assert fra is not None
    assert [p.name for p in fra.peers] == ["nyc-1"]
    assert [(p.name, p.reason) for p in fra.pending_peers] == [
        ("laptop", "no public key registered")
    ]


def test_result_hashes_match_the_canonical_form() -> None:
    result = render_state(state(), "abc")
    assert list(result) == ["fra-1", "laptop", "nyc-1"]
    for node in result:
        document = json.loads(result.document(node))
        assert document["revision"] == "abc"
        del document["hash"], document["revision"]
        canonical = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
        assert canonical == result.canonical_bytes(node)
        assert config_hash(json.loads(canonical)) == result.hashes[node]
        assert result[node].hash == result.hashes[node]


def test_unknown_node_and_unknown_network() -> None:
    result = render_state(state())
    with pytest.raises(NotFound):
        result.config("ghost")
    with pytest.raises(KeyError):
        result["ghost"]
    assert "ghost" not in result and len(result) == 3
    broken = state(ghost={"interfaces": {"nowhere": {"address": "10.1.0.1/16"}}})
    with pytest.raises(ConfigError, match=r"nodes/ghost.toml: interfaces.nowhere"):
        render_state(broken)


def test_one_endpoint_change_changes_exactly_the_nodes_that_see_it() -> None:
    renderer = Renderer()
    first = renderer.render(state(), "r1")
    assert first.changed == {"fra-1", "laptop", "nyc-1"}
    moved = copy.deepcopy(NODES["nyc-1"])
    moved["endpoint"] = "198.51.100.7"
    second = renderer.render(state(**{"nyc-1": moved}), "r2")
    # nyc-1's own config does not hold its endpoint; its peers' configs do
    assert second.changed == {"fra-1", "laptop"}
    assert second.hashes["nyc-1"] == first.hashes["nyc-1"]
    assert peers(second["fra-1"], "backbone")["nyc-1"].endpoint == "198.51.100.7:61820"
    assert second.hashes == render_state(state(**{"nyc-1": moved})).hashes


def test_unaffected_network_keeps_its_hashes() -> None:
    renderer = Renderer()
    renderer.render(state(), "r1")
    laptop = copy.deepcopy(NODES["laptop"])
    laptop["interfaces"]["site"]["address"] = "10.30.2.99/16"
    result = renderer.render(state(laptop=laptop), "r2")
    # nyc-1 is only in the backbone, where nothing the laptop shows changed
    assert result.changed == {"fra-1", "laptop"}


def test_same_revision_is_served_from_cache_and_reports_no_change() -> None:
    renderer = Renderer()
    first = renderer.render(state(), "r1")
    again = renderer.render(state(), "r1")
    assert again.hashes == first.hashes and not again.changed
    other = copy.deepcopy(NODES["fra-1"])
    other["endpoint"] = "192.0.2.1"
    renderer.render(state(**{"fra-1": other}), "r2")
    back = renderer.render(state(), "r1")
    assert back.changed == {"laptop", "nyc-1"}


def test_removed_nodes_are_reported() -> None:
    renderer = Renderer()
    renderer.render(state(), "r1")
    nodes = copy.deepcopy(NODES)
    del nodes["laptop"]
    keys = {k: v for k, v in KEYS.items() if k != "laptop"}
    result = renderer.render(make_state(NETWORKS, nodes, keys), "r2")
    assert result.removed == {"laptop"}
    assert result.changed == {"fra-1", "nyc-1"}


def test_registering_a_key_moves_a_pending_peer_to_peers() -> None:
    renderer = Renderer()
    before = renderer.render(mesh(5, with_keys=False))
    assert all(not before[n].interfaces[0].peers for n in before)
    full = mesh(5)
    one_key = make_state(
        {"mesh": full.networks["mesh"].model_dump(mode="json")},
        {n: node.model_dump(mode="json") for n, node in full.nodes.items()},
        {"n3": {"mesh": key_for("n3")}},
    )
    after = renderer.render(one_key)
    assert after.changed == {"n0", "n1", "n2", "n3", "n4"}
    n0 = after["n0"].interfaces[0]
    assert [p.name for p in n0.peers] == ["n3"]
    assert [p.name for p in n0.pending_peers] == ["n1", "n2", "n4"]
    assert after.hashes == render_state(one_key).hashes


def test_states_without_blob_ids_render_the_same() -> None:
    with_ids = render_state(state())
    without = render_state(make_state(NETWORKS, NODES, KEYS, blob_ids=False))
    assert with_ids.hashes == without.hashes


def test_larger_mesh_patches_and_rebuilds_like_a_fresh_render() -> None:
    renderer = Renderer()
    base = mesh(120)
    first = renderer.render(base, "r1")
    assert len(first["n0"].interfaces[0].peers) == 119
    nodes = {n: node.model_dump(mode="json", exclude_none=True) for n, node in base.nodes.items()}
    networks = {"mesh": base.networks["mesh"].model_dump(mode="json", exclude_none=True)}
    keys = {n: {"mesh": base.public_key(n, "mesh") or ""} for n in base.nodes}
    nodes["n7"]["endpoint"] = "192.0.2.77"
    moved = renderer.render(make_state(networks, nodes, keys), "r2")
    assert moved.changed == set(base.nodes) - {"n7"}
    nodes["n8"]["interfaces"]["mesh"]["routes"] = ["192.168.8.0/24"]
    routed_state = make_state(networks, nodes, keys)
    routed = renderer.render(routed_state, "r3")
    assert routed.changed == set(base.nodes) - {"n8"}
    assert routed.hashes == render_state(routed_state).hashes
    assert peers(routed["n0"], "mesh")["n8"].allowed_ips == ("10.0.0.9/32", "192.168.8.0/24")
    assert peers(routed["n0"], "mesh")["n7"].endpoint == "192.0.2.77:51820"


def test_hashing_on_threads_gives_the_same_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(renderer_module, "_DIGESTS_FOR_THREADS", 0)  # small, but threaded
    state = mesh(140)
    one = Renderer(threads=1).render(state)
    two = Renderer(threads=2).render(state)
    assert one.hashes == two.hashes
    assert len(set(two.hashes.values())) == 140


def test_a_one_node_change_encodes_and_digests_only_that_peer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    renderer = Renderer(threads=1)
    base = mesh(80)
    nodes = {n: node.model_dump(mode="json", exclude_none=True) for n, node in base.nodes.items()}
    networks = {"mesh": base.networks["mesh"].model_dump(mode="json", exclude_none=True)}
    keys = {n: {"mesh": base.public_key(n, "mesh") or ""} for n in base.nodes}
    renderer.render(make_state(networks, nodes, keys), "r1")
    encoded: list[str] = []
    real = fragments.peer_fragment

    def counting(info: PeerInfo, link: PeerLink) -> tuple[bytes, bytes]:
        encoded.append(info.name)
        return real(info, link)

    monkeypatch.setattr(renderer_module, "peer_fragment", counting)
    nodes["n7"]["endpoint"] = "192.0.2.77"
    moved_state = make_state(networks, nodes, keys)
    moved = renderer.render(moved_state, "r2")
    assert set(encoded) == {"n7"}
    assert len(encoded) <= 2  # one fragment per distinct link of n7
    assert moved.hashes == render_state(moved_state).hashes


def test_keys_registered_and_removed_are_patched_and_hash_like_a_fresh_render(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In a mesh larger than a hash chunk, a key registered (pending -> peer) or
    removed (peer -> pending), an endpoint moved and a node's own settings
    changed are patched into every view (no view is built again) and resumed
    from the position the patch knows, with the same bytes and hashes as a
    render from scratch."""
    renderer = Renderer(threads=1)
    base = mesh(300)
    nodes = {n: node.model_dump(mode="json", exclude_none=True) for n, node in base.nodes.items()}
    networks = {"mesh": base.networks["mesh"].model_dump(mode="json", exclude_none=True)}
    # Peers next to the marks (every 128 digests): a hint off by one would show.
    at = sorted(base.nodes)
    keys = {n: {"mesh": key_for(n)} for n in base.nodes if n != at[128]}
    renderer.render(make_state(networks, nodes, keys), "r0")
    built: list[str] = []
    real = Renderer._build

    def counting(self: Renderer, cache: Any, node: str, own: Any) -> Any:
        if self is renderer:  # not the fresh renders to compare with
            built.append(node)
        return real(self, cache, node, own)

    monkeypatch.setattr(Renderer, "_build", counting)
    for number in range(1, 6):
        if number == 1:
            keys[at[128]] = {"mesh": key_for(at[128])}  # registered
        elif number == 2:
            del keys[at[256]]  # removed: pending everywhere
        elif number == 3:
            nodes[at[127]]["endpoint"] = "192.0.2.98"
        elif number == 4:
            nodes[at[255]]["interfaces"]["mesh"]["listen_port"] = 51999
        else:
            keys[at[256]] = {"mesh": key_for("new")}
        state = make_state(networks, nodes, keys)
        result = renderer.render(state, f"r{number}")
        fresh = render_state(state, f"r{number}")
        assert result.hashes == fresh.hashes
        for node in (at[0], at[127], at[128], at[255], at[256], at[299]):
            assert result.document(node) == fresh.document(node)
            assert result.document_size(node) == len(fresh.document(node))
    assert built == []


def test_a_view_built_anew_or_other_networks_give_a_weaker_hint() -> None:
    """The hint for hashing is what the patch knows; a view that was not patched
    from the part the previous hash was computed over promises nothing in its
    interface, and a node whose networks changed gets no hint (compared)."""
    fields = interface_fields(SelfInfo("a", "wg-a", "10.0.0.1/16", 1, None, (), None), [])
    head, tail = interface_edges("a", fields)

    def part(network: str = "a") -> InterfacePart:
        return InterfacePart(network, head, (), (), (), tail, 0, fields)

    def view(now: InterfacePart, since: InterfacePart | None, unchanged: int) -> Any:
        own = SelfInfo(now.network, "wg-a", "10.0.0.1/16", 1, None, (), None)
        found: Any = renderer_module._NodeView(own, [], (), now, (), since, unchanged)
        return found

    one, two, three = part(), part(), part()
    assert renderer_module._unchanged((one, two), [view(one, None, -1), view(three, two, 5)]) == (
        Unchanged(1, 5)
    )
    assert renderer_module._unchanged((one, two), [view(three, one, 2), view(two, None, -1)]) == (
        Unchanged(0, 2)
    )
    other = part()
    assert renderer_module._unchanged((one, two), [view(one, None, -1), view(three, other, 5)]) == (
        Unchanged(1, -1)
    )
    assert renderer_module._unchanged((one, two), [view(three, None, 7), view(two, None, -1)]) == (
        Unchanged(0, -1)
    )
    assert renderer_module._unchanged((one,), [view(one, None, -1), view(two, None, -1)]) is None


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["key", "endpoint"]), st.integers(0, 13)),
        min_size=1,
        max_size=12,
    ),
    st.integers(1, 3),
)
def test_patched_blocks_render_like_a_fresh_render(
    edits: list[tuple[str, int]], block: int
) -> None:
    """With blocks of a few entries, keys registered and removed anywhere (the
    first and the last peer, blocks emptied, blocks grown past twice their
    size and split) and endpoints moved are patched into the views, with the
    same bytes, hashes and deltas as a render from scratch."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(renderer_module, "BLOCK", block)
        renderer = Renderer(threads=1)
        base = mesh(14)
        nodes = {n: v.model_dump(mode="json", exclude_none=True) for n, v in base.nodes.items()}
        networks = {"mesh": base.networks["mesh"].model_dump(mode="json", exclude_none=True)}
        names = sorted(base.nodes)
        keys = {n: {"mesh": key_for(n)} for n in names[::2]}  # half pending
        previous = renderer.render(make_state(networks, nodes, keys), "r0")
        for number, (kind, index) in enumerate(edits, start=1):
            name = names[index]
            if kind == "key" and name in keys:
                del keys[name]
            elif kind == "key":
                keys[name] = {"mesh": key_for(f"{name}-{number}")}
            else:
                nodes[name]["endpoint"] = f"192.0.2.{number}"
            state = make_state(networks, nodes, keys)
            result = renderer.render(state, f"r{number}")
            fresh = render_state(state, f"r{number}")
            assert result.hashes == fresh.hashes
            for node in names:
                assert result.document(node) == fresh.document(node)
                assert result.document_size(node) == len(fresh.document(node))
                part = result._node_parts(node)[0]
                assert all(0 < len(b) <= 2 * block for b in part.blocks)
                assert part.ends == tuple(accumulate(len(b) for b in part.blocks))
                delta = json.loads(result.delta_document(node, previous))
                expected = make_delta(previous.config(node), result.config(node))
                assert delta == json.loads(expected.to_json())
            previous = result
