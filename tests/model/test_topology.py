"""Who peers with whom: selectors, allowed IPs, keepalive precedence."""

from __future__ import annotations

import pytest

from drago.errors import ConfigError
from drago.model.memo import IdentityMemo
from drago.model.state import SourceFile, State
from drago.model.topology import PeerMap
from drago.model.validate import Validator
from tests.model.repo import edit, valid


def peers_of(state: State, network: str) -> PeerMap:
    return Validator().peers(state, network)


def summary(state: State, network: str) -> dict[str, dict[str, tuple[list[str], int | None]]]:
    return {
        node: {
            peer: ([str(n) for n in link.allowed_ips], link.persistent_keepalive)
            for peer, link in sorted(row.items())
        }
        for node, row in sorted(peers_of(state, network).items())
    }


def test_example_site_is_hub_and_spoke_with_override() -> None:
    hub = (["10.30.0.0/16", "192.168.50.0/24"], 25)
    assert summary(valid({}), "site") == {
        "ber-gw": {
            "laptop-anna": (["10.30.2.10/32"], None),
            "laptop-ben": (["10.30.2.11/32"], None),
            "muc-1": (["10.30.1.1/32", "192.168.60.0/24"], None),
        },
        "laptop-anna": {"ber-gw": hub},
        "laptop-ben": {"ber-gw": hub},
        "muc-1": {"ber-gw": (hub[0], None)},
    }


def test_example_backbone_keepalive_precedence() -> None:
    backbone = summary(valid({}), "backbone")
    # The network's 25 by default; the Berlin-New York connection says 15.
    assert backbone["ber-gw"]["fra-1"][1] == 25
    assert backbone["ber-gw"]["nyc-1"][1] == 15
    assert backbone["nyc-1"]["ber-gw"][1] == 15
    assert sorted(backbone["fra-1"]) == ["ber-gw", "muc-1", "nyc-1", "sgp-1"]
    assert sorted(backbone["sgp-1"]) == ["fra-1", "nyc-1"]
    assert backbone["fra-1"]["nyc-1"][0] == ["10.20.0.2/32", "172.31.0.0/16"]


def test_node_keepalive_beats_network_and_connection_beats_node() -> None:
    changes = edit(
        "nodes/fra-1.toml",
        "listen_port = 51820\n",
        "listen_port = 51820\npersistent_keepalive = 7\n",
    )
    backbone = summary(valid(changes), "backbone")
    assert backbone["fra-1"]["sgp-1"][1] == 7  # the node's own beats the network's
    assert backbone["sgp-1"]["fra-1"][1] == 25  # only what fra-1 sends changes
    changes |= edit(
        "networks/backbone.toml", 'full mesh of the cloud gateways"', 'x"\npersistent_keepalive = 0'
    )
    backbone = summary(valid(changes), "backbone")
    assert backbone["fra-1"]["sgp-1"][1] is None  # the connection's 0 turns it off
    assert backbone["fra-1"]["ber-gw"][1] == 7


def test_later_connection_decides_a_pair_matched_twice() -> None:
    changes = edit("networks/backbone.toml", '["role=core", "role=core"]', '["*", "*"]')
    backbone = summary(valid(changes), "backbone")
    assert backbone["ber-gw"]["nyc-1"][1] == 15  # the explicit pair comes last
    assert sorted(backbone["ber-gw"]) == ["fra-1", "muc-1", "nyc-1", "sgp-1"]


def test_nodes_never_peer_with_themselves_and_rows_cover_every_member() -> None:
    files = [
        SourceFile(
            "networks/n.toml",
            b'address_range = "10.0.0.0/24"\n[[connections]]\nbetween = ["*", "*"]\n',
        ),
        *(
            SourceFile(f"nodes/n{i}.toml", f'[interfaces.n]\naddress = "10.0.0.{i}/24"\n'.encode())
            for i in range(1, 5)
        ),
        SourceFile("nodes/lonely.toml", b'[interfaces.n]\naddress = "10.0.0.9/32"\n'),
        SourceFile("networks/m.toml", b'address_range = "10.1.0.0/24"\n'),
    ]
    validator = Validator()
    state = validator.validate_files(files)
    rows = validator.peers(state, "n")
    assert sorted(rows["n1"]) == ["lonely", "n2", "n3", "n4"]
    assert all(name not in row for name, row in rows.items())
    assert validator.peers(state, "m") == {}
    # Links for one peer are shared between the rows that see it the same way.
    assert rows["n1"]["n4"] is rows["n2"]["n4"]
    assert validator.peers(state, "n") is rows


def test_override_for_both_ends_of_a_mesh() -> None:
    files = [
        SourceFile(
            "networks/n.toml",
            b'address_range = "10.0.0.0/24"\n[[connections]]\nbetween = ["a", "b"]\n'
            b'allowed_ips = { a = ["10.9.0.0/16", "10.0.0.1/32"], b = [] }\n',
        ),
        SourceFile("nodes/a.toml", b'[interfaces.n]\naddress = "10.0.0.1/24"\n'),
        SourceFile("nodes/b.toml", b'[interfaces.n]\naddress = "10.0.0.2/24"\n'),
    ]
    assert summary(Validator().validate_files(files), "n") == {
        "a": {"b": ([], None)},
        "b": {"a": (["10.0.0.1/32", "10.9.0.0/16"], None)},
    }


def test_ipv6_network() -> None:
    files = [
        SourceFile(
            "networks/v6.toml",
            b'address_range = "fd00:20::/64"\n[[connections]]\nbetween = ["*", "*"]\n',
        ),
        SourceFile(
            "nodes/a.toml",
            b'[interfaces.v6]\naddress = "fd00:20::1/64"\n'
            b'routes = ["fd00:99::/48", "10.9.0.0/24"]\n',
        ),
        SourceFile("nodes/b.toml", b'[interfaces.v6]\naddress = "fd00:20::2/64"\n'),
    ]
    assert summary(Validator().validate_files(files), "v6")["b"] == {
        "a": (["10.9.0.0/24", "fd00:20::1/128", "fd00:99::/48"], None)
    }
    files[2] = SourceFile("nodes/b.toml", b'[interfaces.v6]\naddress = "10.0.0.2/24"\n')
    with pytest.raises(ConfigError) as caught:
        Validator().validate_files(files)
    assert [str(p) for p in caught.value.problems] == [
        "nodes/b.toml: interfaces.v6.address: 10.0.0.2/24 is outside fd00:20::/64"
    ]


def test_topology_is_shared_between_states_only_while_its_inputs_are_the_same() -> None:
    validator = Validator()
    base = valid({}, validator)
    endpoint = valid(edit("nodes/fra-1.toml", "fra-1.example.net", "fra-9.example.net"), validator)
    assert validator.topology(endpoint, "backbone") is validator.topology(base, "backbone")
    labels = valid(edit("nodes/sgp-1.toml", 'role = "core"', 'role = "office"'), validator)
    assert validator.topology(labels, "backbone") is not validator.topology(base, "backbone")
    assert sorted(validator.peers(labels, "backbone")["sgp-1"]) == ["fra-1"]


def test_identity_memo_never_matches_a_recycled_id() -> None:
    memo: IdentityMemo[int] = IdentityMemo(size=2)
    first, second = object(), object()
    assert memo.get_or_compute((first,), "x", lambda: 1) == 1
    assert memo.get_or_compute((first,), "x", lambda: 2) == 1
    assert memo.get_or_compute((first,), "y", lambda: 3) == 3
    assert memo.get_or_compute((second,), "x", lambda: 4) == 4  # full: starts over
    assert memo.get_or_compute((first,), "x", lambda: 5) == 5
