"""Each cross-file rule, on a broken copy of example-repo: the exact problems."""

from __future__ import annotations

import ipaddress

import pytest

from tests.model.repo import edit, example_text, problems, valid

CASES: dict[str, tuple[dict[str, bytes | None], list[str]]] = {
    "unknown network": (
        edit("nodes/fra-1.toml", "[interfaces.backbone]", "[interfaces.backbon]"),
        [
            "keys/fra-1.toml: interfaces.backbone: `fra-1` has no interface in network `backbone`",
            "networks/backbone.toml: connections[1].between[1]:"
            " `fra-1` has no interface in network `backbone`",
            "nodes/fra-1.toml: interfaces.backbon: network `backbon` does not exist"
            " (no networks/backbon.toml) (did you mean `backbone`?)",
        ],
    ),
    "address outside range": (
        edit("nodes/fra-1.toml", '"10.20.0.1/16"', '"10.9.0.1/24"'),
        ["nodes/fra-1.toml: interfaces.backbone.address: 10.9.0.1/24 is outside 10.20.0.0/16"],
    ),
    "address prefix wider than range": (
        edit("nodes/fra-1.toml", '"10.20.0.1/16"', '"10.20.0.1/8"'),
        [
            "nodes/fra-1.toml: interfaces.backbone.address: 10.20.0.1/8 covers more than"
            " the network's 10.20.0.0/16 (use /16 or longer)"
        ],
    ),
    "network address": (
        edit("nodes/fra-1.toml", '"10.20.0.1/16"', '"10.20.0.0/16"'),
        [
            "nodes/fra-1.toml: interfaces.backbone.address:"
            " 10.20.0.0 is the network address of 10.20.0.0/16"
        ],
    ),
    "broadcast address": (
        edit("nodes/fra-1.toml", '"10.20.0.1/16"', '"10.20.255.255/16"'),
        [
            "nodes/fra-1.toml: interfaces.backbone.address:"
            " 10.20.255.255 is the broadcast address of 10.20.0.0/16"
        ],
    ),
    "duplicate address": (
        edit("nodes/nyc-1.toml", '"10.20.0.2/16"', '"10.20.0.1/16"'),
        ["nodes/nyc-1.toml: interfaces.backbone.address: 10.20.0.1 is also used by `fra-1`"],
    ),
    "listen port clash with a network default": (
        edit("nodes/ber-gw.toml", "listen_port = 51821", "listen_port = 51820"),
        [
            "nodes/ber-gw.toml: interfaces.site.listen_port:"
            " port 51820 is also used by interfaces.backbone"
        ],
    ),
    "listen port clash by default": (
        edit("nodes/muc-1.toml", "endpoint_port = 61821", "listen_port = 51820"),
        [
            "nodes/muc-1.toml: interfaces.site.listen_port:"
            " port 51820 is also used by interfaces.backbone"
        ],
    ),
    "ifname clash": (
        edit("nodes/ber-gw.toml", "listen_port = 51821", 'ifname = "wg-backbone"'),
        [
            "nodes/ber-gw.toml: interfaces.site.ifname:"
            " interface name wg-backbone is also used by interfaces.backbone"
        ],
    ),
    "endpoint_port without endpoint": (
        edit("nodes/laptop-anna.toml", "persistent_keepalive = 25", "endpoint_port = 4000"),
        [
            "nodes/laptop-anna.toml: interfaces.site.endpoint_port:"
            " is set but the node has no endpoint"
        ],
    ),
    "route overlaps the network range": (
        edit("nodes/fra-1.toml", '"10.100.0.0/16"', '"10.20.5.0/24"'),
        [
            "nodes/fra-1.toml: interfaces.backbone.routes[0]:"
            " 10.20.5.0/24 overlaps the network's address range 10.20.0.0/16"
        ],
    ),
    "routes overlap each other": (
        edit("nodes/fra-1.toml", '["10.100.0.0/16"]', '["10.100.0.0/16", "10.100.8.0/24"]'),
        [
            "nodes/fra-1.toml: interfaces.backbone.routes[1]:"
            " 10.100.8.0/24 overlaps routes[0] (10.100.0.0/16)"
        ],
    ),
    "networks of one node overlap": (
        edit("networks/site.toml", '"10.30.0.0/16"', '"10.0.0.0/8"'),
        [
            "nodes/ber-gw.toml: interfaces.site: the address ranges of networks"
            " `backbone` (10.20.0.0/16) and `site` (10.0.0.0/8) overlap",
            "nodes/muc-1.toml: interfaces.site: the address ranges of networks"
            " `backbone` (10.20.0.0/16) and `site` (10.0.0.0/8) overlap",
        ],
    ),
    "connection to a missing node": (
        edit("networks/backbone.toml", '["ber-gw", "nyc-1"]', '["ber-gw", "nyc-2"]'),
        [
            "networks/backbone.toml: connections[2].between[1]:"
            " no node named `nyc-2` (did you mean `nyc-1`?)"
        ],
    ),
    "connection to a node outside the network": (
        edit("networks/backbone.toml", '["ber-gw", "nyc-1"]', '["ber-gw", "laptop-anna"]'),
        [
            "networks/backbone.toml: connections[2].between[1]:"
            " `laptop-anna` has no interface in network `backbone`"
        ],
    ),
    "selector matching nothing": (
        edit("networks/site.toml", '"site=spoke"]', '"site=spokes"]'),
        [
            "networks/site.toml: connections[0].between[1]:"
            " `site=spokes` matches no member of network `site`"
        ],
    ),
    "self-connection": (
        edit("networks/backbone.toml", '["ber-gw", "nyc-1"]', '["nyc-1", "nyc-1"]'),
        ["networks/backbone.toml: connections[2].between: connects `nyc-1` with itself"],
    ),
    "override for a selector that is not an end": (
        edit("networks/site.toml", '{ "site=hub" =', '{ "role=hub" ='),
        [
            'networks/site.toml: connections[0].allowed_ips."role=hub":'
            " `role=hub` is not an end of this connection (ends: `site=hub`, `site=spoke`)"
        ],
    ),
    "override ranges overlap": (
        edit("networks/site.toml", '"192.168.50.0/24"]', '"10.30.1.0/24"]'),
        [
            'networks/site.toml: connections[0].allowed_ips."site=hub"[1]:'
            " 10.30.1.0/24 overlaps [0] (10.30.0.0/16)"
        ],
    ),
    "peers' allowed IPs overlap": (
        edit("nodes/nyc-1.toml", '"172.31.0.0/16"', '"10.100.128.0/17"'),
        [
            "nodes/ber-gw.toml: interfaces.backbone: allowed IPs of peers"
            " `fra-1` (10.100.0.0/16) and `nyc-1` (10.100.128.0/17) overlap",
            "nodes/sgp-1.toml: interfaces.backbone: allowed IPs of peers"
            " `fra-1` (10.100.0.0/16) and `nyc-1` (10.100.128.0/17) overlap",
        ],
    ),
    "keys of a missing node": (
        {"keys/lon-1.toml": example_text("keys/fra-1.toml").encode()},
        ["keys/lon-1.toml: no node named `lon-1` (nodes/lon-1.toml does not exist)"],
    ),
    "keys for a network the node is not in": (
        {
            "keys/fra-1.toml": (
                example_text("keys/fra-1.toml") + example_text("keys/laptop-anna.toml")
            ).encode()
        },
        ["keys/fra-1.toml: interfaces.site: `fra-1` has no interface in network `site`"],
    ),
    "the same public key twice in a network": (
        {"keys/nyc-1.toml": example_text("keys/fra-1.toml").encode()},
        [
            "keys/nyc-1.toml: interfaces.backbone.public_key:"
            " the same public key is registered for `fra-1`"
        ],
    ),
    "deleting a network its members still name": (
        {"networks/site.toml": None},
        [
            f"nodes/{node}.toml: interfaces.site: network `site` does not exist"
            " (no networks/site.toml)"
            for node in ["ber-gw", "laptop-anna", "laptop-ben", "muc-1"]
        ],
    ),
    "route covers another node's endpoint": (
        edit("nodes/fra-1.toml", '["10.100.0.0/16"]', '["10.100.0.0/16", "203.0.113.0/24"]'),
        [
            "nodes/fra-1.toml: interfaces.backbone.routes[1]: 203.0.113.0/24 covers the endpoint"
            " of `ber-gw` (203.0.113.10): its peers would route the tunnel's own packets"
            " into the tunnel"
        ],
    ),
    "route covers the node's own endpoint": (
        edit("nodes/ber-gw.toml", '"192.168.50.0/24"]', '"192.168.50.0/24", "203.0.113.8/29"]'),
        [
            "nodes/ber-gw.toml: interfaces.backbone.routes[1]: 203.0.113.8/29 covers the endpoint"
            " of `ber-gw` (203.0.113.10): its peers would route the tunnel's own packets"
            " into the tunnel"
        ],
    ),
    "route covers an IPv6 endpoint": (
        {
            **edit("nodes/sgp-1.toml", '"sgp-1.example.net"', '"[2001:db8:5::1]"'),
            **edit("nodes/fra-1.toml", '["10.100.0.0/16"]', '["10.100.0.0/16", "2001:db8::/32"]'),
        },
        [
            "nodes/fra-1.toml: interfaces.backbone.routes[1]: 2001:db8::/32 covers the endpoint"
            " of `sgp-1` (2001:db8:5::1): its peers would route the tunnel's own packets"
            " into the tunnel"
        ],
    ),
    "connection allowed_ips cover an endpoint": (
        edit("networks/site.toml", '"192.168.50.0/24"]', '"192.168.50.0/24", "203.0.0.0/8"]'),
        [
            'networks/site.toml: connections[0].allowed_ips."site=hub"[2]: 203.0.0.0/8 covers'
            " the endpoint of `ber-gw` (203.0.113.10): its peers would route the tunnel's own"
            " packets into the tunnel"
        ],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_rule(case: str) -> None:
    changes, expected = CASES[case]
    assert problems(changes) == expected


def test_every_problem_is_reported_at_once() -> None:
    changes = {
        **edit("nodes/fra-1.toml", '"10.20.0.1/16"', '"10.9.0.1/24"'),
        **edit("networks/backbone.toml", '["ber-gw", "nyc-1"]', '["nyc-1", "nyc-1"]'),
        "nodes/sgp-1.toml": b"address = 1\n",
    }
    assert problems(changes) == [
        "networks/backbone.toml: connections[2].between: connects `nyc-1` with itself",
        "nodes/fra-1.toml: interfaces.backbone.address: 10.9.0.1/24 is outside 10.20.0.0/16",
        "nodes/sgp-1.toml: address: unknown key",
    ]


def test_a_broken_file_does_not_cause_follow_up_problems() -> None:
    # Connections and keys naming the broken node are not reported as missing.
    changes = {"nodes/nyc-1.toml": b"endpoint = [\n", "networks/site.toml": b"x = 1\n"}
    assert problems(changes) == [
        "networks/site.toml: address_range: is required",
        "networks/site.toml: x: unknown key",
        "nodes/nyc-1.toml: invalid TOML: Invalid value (at end of document)",
    ]


def test_a_mesh_plus_an_explicit_pair_is_valid() -> None:
    state = valid(edit("networks/backbone.toml", '["role=core", "role=core"]', '["*", "*"]'))
    assert len(state.nodes) == 7


def test_a_hub_override_that_contains_other_spokes_is_valid() -> None:
    # Spokes route 10.30.0.0/16 (which holds every other spoke) via the hub:
    # no spoke has another spoke as a peer, so nothing overlaps.
    state = valid({})
    assert state.members("site") == ["ber-gw", "laptop-anna", "laptop-ben", "muc-1"]


def test_the_same_override_applied_to_two_hubs_overlaps() -> None:
    changes = edit("nodes/muc-1.toml", 'site = "spoke"', 'site = "hub"')
    assert problems(changes) == [
        f"nodes/{node}.toml: interfaces.site: allowed IPs of peers"
        " `ber-gw` (10.30.0.0/16) and `muc-1` (10.30.0.0/16) overlap"
        for node in ["laptop-anna", "laptop-ben"]
    ]


def test_routes_that_take_the_internet_into_the_tunnel_are_refused() -> None:
    """The review's reproduction: the complement of RFC 1918 as ber-gw's routes."""
    everything = [ipaddress.IPv4Network("0.0.0.0/0")]
    for private in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"):
        net = ipaddress.IPv4Network(private)
        everything = [
            part
            for n in everything
            for part in (n.address_exclude(net) if net.subnet_of(n) else [n])
        ]
    routes = ", ".join(f'"{n}"' for n in sorted(everything))
    changes = edit(
        "nodes/ber-gw.toml",
        'routes = ["192.168.50.0/24"]  # Berlin office LAN',
        f'routes = ["192.168.50.0/24", {routes}]',
    )
    found = problems(changes)
    assert len(found) == 1
    assert found[0].startswith("nodes/ber-gw.toml: interfaces.backbone.routes[")
    assert " covers the endpoint of `ber-gw` (203.0.113.10)" in found[0]
