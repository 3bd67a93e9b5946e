from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from drago.agent.backends.base import DeviceUpdate, PeerUpdate
from drago.agent.backends.uapi import UapiSocket, b64_to_hex, encode_set, hex_to_b64, parse_get
from drago.agent.keys import KeyPair
from drago.errors import BackendError, DeviceRefused, UnsafeValue

OWN, A = KeyPair.generate(), KeyPair.generate()


def test_set_never_replaces_peers_and_uses_hex_keys() -> None:
    text = encode_set(
        DeviceUpdate(
            private_key=OWN.private_key,
            listen_port=51820,
            peers=(
                PeerUpdate(A.public_key, remove=True),
                PeerUpdate(
                    A.public_key,
                    update_only=True,
                    endpoint="[2001:db8::1]:51820",
                    persistent_keepalive=0,
                    replace_allowed_ips=True,
                    allowed_ips=("10.0.0.2/32",),
                ),
            ),
        )
    ).decode()
    assert "replace_peers" not in text
    assert text == (
        "set=1\n"
        f"private_key={b64_to_hex(OWN.private_key)}\n"
        "listen_port=51820\n"
        f"public_key={b64_to_hex(A.public_key)}\n"
        "remove=true\n"
        f"public_key={b64_to_hex(A.public_key)}\n"
        "update_only=true\n"
        "endpoint=[2001:db8::1]:51820\n"
        "persistent_keepalive_interval=0\n"
        "replace_allowed_ips=true\n"
        "allowed_ip=10.0.0.2/32\n"
        "\n"
    )
    assert OWN.private_key not in repr(DeviceUpdate(private_key=OWN.private_key))


def test_parse_get_derives_the_public_key_and_figures() -> None:
    text = (
        f"private_key={b64_to_hex(OWN.private_key)}\n"
        "listen_port=51820\n"
        f"public_key={b64_to_hex(A.public_key)}\n"
        "preshared_key=" + "0" * 64 + "\n"
        "protocol_version=1\n"
        "endpoint=192.0.2.1:51820\n"
        "last_handshake_time_sec=1700000000\n"
        "last_handshake_time_nsec=500000000\n"
        "tx_bytes=100\nrx_bytes=200\n"
        "persistent_keepalive_interval=25\n"
        "allowed_ip=10.0.0.2/32\nallowed_ip=192.168.1.7/24\n"
    )
    device = parse_get(text)
    assert device.public_key == OWN.public_key
    assert device.listen_port == 51820
    peer = device.peers[A.public_key]
    assert peer.endpoint == "192.0.2.1:51820"
    assert peer.latest_handshake == 1_700_000_000.5
    assert (peer.rx_bytes, peer.tx_bytes, peer.persistent_keepalive) == (200, 100, 25)
    assert peer.allowed_ips == ("10.0.0.2/32", "192.168.1.0/24")
    assert hex_to_b64(b64_to_hex(A.public_key)) == A.public_key


def test_fresh_device_has_no_key_and_no_handshake() -> None:
    device = parse_get(
        "private_key=" + "0" * 64 + f"\nlisten_port=0\npublic_key={b64_to_hex(A.public_key)}\n"
        "last_handshake_time_sec=0\nlast_handshake_time_nsec=0\n"
    )
    assert device.public_key is None and device.listen_port is None
    assert device.peers[A.public_key].latest_handshake is None


HOSTILE_PEERS = {
    "endpoint with a second line": PeerUpdate(A.public_key, endpoint="[fd00::1%\npublic_key=ab]:1"),
    "endpoint with a zone id": PeerUpdate(A.public_key, endpoint="[fe80::1%eth0]:51820"),
    "endpoint that is a name": PeerUpdate(A.public_key, endpoint="fra-1.example.net:51820"),
    "allowed IP with a second line": PeerUpdate(
        A.public_key, allowed_ips=("10.0.0.2/32\npublic_key=" + "ab" * 32,)
    ),
    "allowed IP with a zone id": PeerUpdate(A.public_key, allowed_ips=("fd00::%x/64",)),
    "key with a second line": PeerUpdate(A.public_key + "\nremove=true"),
    "key in another spelling": PeerUpdate(A.public_key[:-2] + "B="),
    "keepalive as text": PeerUpdate(A.public_key, persistent_keepalive="25\nx=1"),  # type: ignore[arg-type]
}


@pytest.mark.parametrize("peer", HOSTILE_PEERS.values(), ids=HOSTILE_PEERS.keys())
def test_the_encoder_refuses_values_outside_the_uapi_grammar(peer: PeerUpdate) -> None:
    with pytest.raises((UnsafeValue, BackendError)):
        encode_set(DeviceUpdate(peers=(peer,)))


def test_the_encoder_refuses_a_listen_port_outside_its_range() -> None:
    with pytest.raises(UnsafeValue):
        encode_set(DeviceUpdate(listen_port=70000))


def test_a_refusal_is_told_apart_from_an_unreachable_device(tmp_path: Path) -> None:
    """errno != 0 is the device refusing a value (DeviceRefused, per peer); a socket
    that does not answer is a device failure (BackendError, the whole interface)."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(tmp_path / "wg-t.sock"))
    server.listen(1)

    def answer() -> None:
        conn, _ = server.accept()
        with conn:
            conn.recv(1 << 16)
            conn.sendall(b"errno=-22\n\n")

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    update = DeviceUpdate(peers=(PeerUpdate(public_key=A.public_key, endpoint="192.0.2.1:51820"),))
    with pytest.raises(DeviceRefused, match=r"errno=-22"):
        UapiSocket("wg-t", tmp_path).set(update)
    thread.join(5)
    server.close()
    with pytest.raises(BackendError) as raised:
        UapiSocket("wg-u", tmp_path).set(update)
    assert not isinstance(raised.value, DeviceRefused)
