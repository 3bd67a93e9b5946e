from __future__ import annotations

import hashlib
import ipaddress
import json
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from drago.render import render_state
from drago.render.canonical import canonical_json
from drago.render.config import (
    InterfaceConfig,
    NodeConfig,
    PeerConfig,
    PendingPeer,
    address_sort_key,
    config_hash,
    envelope,
    legacy_hash,
)
from tests.render.states import key_for
from tests.render.test_properties import FAST, build, states

#: The hash of the worked example (docs/architecture.md, "Rendered node config").
EXAMPLE_HASH = "3d0f01ab17071028134e91a476db2f3c22521b33ec389672308b9a396b6c5ff7"


def sample() -> NodeConfig:
    peer = PeerConfig(
        name="nyc-1",
        public_key=key_for("nyc-1"),
        endpoint="nyc-1.example.net:51820",
        allowed_ips=("192.168.20.0/24", "10.20.0.2/32", "fd00::2/128"),
        persistent_keepalive=25,
    )
    iface = InterfaceConfig(
        network="backbone",
        ifname="wg-backbone",
        address="10.20.0.1/16",
        listen_port=51820,
        mtu=1420,
        dns=("10.20.0.53",),
        public_key=None,
        peers=(peer,),
        pending_peers=(PendingPeer(name="lon-1"),),
    )
    return NodeConfig(node="fra-1", interfaces=(iface,))


def documented_hash(served: bytes) -> str:
    """The hash recipe of docs/architecture.md, with nothing but json and hashlib."""

    def canonical(value: object) -> bytes:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    document = json.loads(served)
    del document["hash"], document["revision"]
    for iface in document["interfaces"]:
        iface["peers"] = [hashlib.sha256(canonical(p)).hexdigest() for p in iface["peers"]]
    return hashlib.sha256(canonical(document)).hexdigest()


def test_hash_is_the_documented_peer_digest_hash() -> None:
    config = sample()
    served = config.to_json("abc123")
    document = json.loads(served)
    assert document["revision"] == "abc123"
    assert document["hash"] == config.hash == documented_hash(served)
    assert config_hash(document) == config.hash
    del document["hash"], document["revision"]
    assert (
        config.canonical_bytes()
        == json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    )


def test_worked_example_of_the_hash() -> None:
    """The example of docs/architecture.md, step by step (pinned: a change of the
    recipe breaks every agent in the field)."""
    peer = {
        "allowed_ips": ["10.20.0.2/32"],
        "endpoint": None,
        "name": "nyc-1",
        "persistent_keepalive": None,
        "public_key": "bnljLTEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    }
    digest = hashlib.sha256(json.dumps(peer, sort_keys=True, separators=(",", ":")).encode())
    config = NodeConfig.model_validate(
        {
            "node": "fra-1",
            "interfaces": [
                {
                    "network": "backbone",
                    "ifname": "wg-backbone",
                    "address": "10.20.0.1/16",
                    "listen_port": 51820,
                    "peers": [peer],
                }
            ],
        }
    )
    assert config.interfaces[0].peers[0].digest == digest.hexdigest()
    assert config.hash == documented_hash(config.to_json("r"))
    assert config.hash == EXAMPLE_HASH


def test_a_v1_hash_is_accepted_in_a_full_document_and_kept() -> None:
    config = sample()
    document = json.loads(config.to_json("r1"))
    v1 = legacy_hash(document)
    assert v1 != config.hash
    document["hash"] = v1
    parsed = NodeConfig.model_validate(document)
    assert parsed.hash == v1
    assert parsed.content_hash() == config.hash
    document["interfaces"][0]["listen_port"] = 51999
    with pytest.raises(ValidationError, match="does not match the content"):
        NodeConfig.model_validate(document)


def test_document_matches_the_contract_shape() -> None:
    document = json.loads(sample().to_json("r1"))
    assert list(document) == ["hash", "interfaces", "node", "revision"]
    iface = document["interfaces"][0]
    assert set(iface) == {
        "network",
        "ifname",
        "address",
        "listen_port",
        "mtu",
        "dns",
        "public_key",
        "peers",
        "pending_peers",
    }
    assert set(iface["peers"][0]) == {
        "name",
        "public_key",
        "endpoint",
        "allowed_ips",
        "persistent_keepalive",
    }
    assert iface["pending_peers"] == [{"name": "lon-1", "reason": "no public key registered"}]


def test_allowed_ips_are_in_address_order_ipv4_first() -> None:
    peer = sample().interfaces[0].peers[0]
    assert peer.allowed_ips == ("10.20.0.2/32", "192.168.20.0/24", "fd00::2/128")


def test_round_trip_through_json_keeps_hash_and_revision() -> None:
    config = sample()
    parsed = NodeConfig.model_validate_json(config.to_json("r2"))
    assert parsed.hash == config.hash
    assert parsed.revision == "r2"
    assert parsed.canonical_bytes() == config.canonical_bytes()


def test_a_tampered_document_is_rejected() -> None:
    document = json.loads(sample().to_json("r1"))
    document["interfaces"][0]["listen_port"] = 51999
    with pytest.raises(ValidationError, match="does not match the content"):
        NodeConfig.model_validate(document)


def test_revision_is_not_part_of_the_hash() -> None:
    config = sample()
    assert NodeConfig.model_validate_json(config.to_json("other")).hash == config.hash


def test_unknown_keys_are_rejected() -> None:
    document = json.loads(sample().to_json(None))
    document["interfaces"][0]["surprise"] = 1
    del document["hash"]
    with pytest.raises(ValidationError):
        NodeConfig.model_validate(document)


def test_envelope_of_a_node_without_interfaces() -> None:
    config = NodeConfig(node="lonely")
    assert json.loads(config.to_json("r")) == {
        "hash": config.hash,
        "interfaces": [],
        "node": "lonely",
        "revision": "r",
    }
    with pytest.raises(ValueError, match="JSON object"):
        envelope(b"[]", config.hash, None)


def test_lookups() -> None:
    config = sample()
    assert config.networks == ["backbone"]
    iface = config.interface("backbone")
    assert iface is not None and iface.peer("nyc-1") is not None
    assert iface.peer("nobody") is None
    assert config.interface("site") is None


def test_config_module_stays_free_of_server_imports() -> None:
    code = (
        "import sys, drago.render.config, drago.render.wgquick;"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'dulwich', 'starlette'});"
        "print(','.join(bad))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def reference_sort_key(cidr: str) -> tuple[int, bytes, int]:
    net = ipaddress.ip_network(cidr, strict=False)
    return net.version, net.network_address.packed, net.prefixlen


OCTET = st.integers(0, 255).map(str) | st.sampled_from(["256", "999", "00", "01", "007", "٣"])
CIDR_LIKE = st.one_of(
    st.text(st.sampled_from("0123456789./:"), max_size=20),
    st.builds(
        "{}.{}.{}.{}/{}".format,
        OCTET,
        OCTET,
        OCTET,
        OCTET,
        st.integers(0, 32).map(str) | st.sampled_from(["33", "00", "08", "032", ""]),
    ),
    st.builds("{}/{}".format, st.ip_addresses().map(str), st.integers(0, 130).map(str)),
)


@settings(max_examples=500, deadline=None)
@given(CIDR_LIKE)
@example("1.2.3.256/24")
@example("256.1.1.1/8")
@example("1.2.3.4/33")
@example("01.2.3.4/8")
@example("1.2.3.4/08")
@example("10.1.2.3/0")
def test_the_address_sort_key_is_what_ipaddress_reads(cidr: str) -> None:
    try:
        expected = reference_sort_key(cidr)
    except ValueError:
        with pytest.raises(ValueError):
            address_sort_key(cidr)
        return
    assert address_sort_key(cidr) == expected


@FAST
@given(states())
def test_spliced_documents_are_the_canonical_json_of_the_model(parts: Any) -> None:
    """A config's canonical bytes are spliced from its peers' canonical JSON;
    they are exactly the canonical JSON of its model dump (every field)."""
    for node, config in render_state(build(parts), "r1").items():
        whole = config.model_dump(mode="json")
        assert config.canonical_bytes() == canonical_json(
            {k: v for k, v in whole.items() if k not in {"hash", "revision"}}
        ), node
        assert json.loads(config.to_json()) == whole
        for iface in config.interfaces:
            for peer in iface.peers:
                assert peer.canonical == canonical_json(peer.model_dump(mode="json"))
