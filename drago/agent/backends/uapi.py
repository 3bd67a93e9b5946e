"""The WireGuard cross-platform UAPI (``get=1`` / ``set=1`` over a unix socket).

Used by userspace implementations (wireguard-go, boringtun): one socket per
interface at ``/var/run/wireguard/IFNAME.sock``. Keys travel in hex; the only
error a device reports is ``errno=-22``, and a failed ``set`` may have applied
its earlier lines, so callers re-read the device after a failure.

The stream is line-based (``key=value``), so the encoder checks every value
against its grammar (:mod:`drago.grammar`) and raises
:class:`~drago.errors.UnsafeValue` rather than write one that could add a line
(an extra ``public_key=`` would reconfigure another peer).
"""

from __future__ import annotations

import base64
import socket
from pathlib import Path

from nacl.public import PrivateKey

from drago import grammar
from drago.agent.backends.base import DeviceUpdate, PeerUpdate
from drago.agent.device import DeviceState, PeerState, normalize_cidr
from drago.errors import BackendError, DeviceRefused

SOCKET_DIR = Path("/var/run/wireguard")
TIMEOUT = 10.0


def b64_to_hex(key: str) -> str:
    if not grammar.matches(grammar.PUBLIC_KEY, key):
        raise BackendError("a WireGuard key is 32 bytes of canonical base64")
    return base64.b64decode(key, validate=True).hex()


def _line(key: str, what: str, pattern: str, value: object) -> str:
    return f"{key}={grammar.require(what, pattern, value)}"


def hex_to_b64(key: str) -> str:
    return base64.b64encode(bytes.fromhex(key)).decode()


def encode_peer(peer: PeerUpdate) -> list[str]:
    key = grammar.require("public key", grammar.PUBLIC_KEY, peer.public_key)
    lines = [_line("public_key", "key", grammar.HEX_KEY, b64_to_hex(key))]
    if peer.remove:
        lines.append("remove=true")
        return lines
    if peer.update_only:
        lines.append("update_only=true")
    if peer.endpoint is not None:
        lines.append(_line("endpoint", "endpoint", grammar.IP_ENDPOINT, peer.endpoint))
    if peer.persistent_keepalive is not None:
        keepalive = grammar.require_int("keepalive", peer.persistent_keepalive, 0, 65535)
        lines.append(f"persistent_keepalive_interval={keepalive}")
    if peer.replace_allowed_ips:
        lines.append("replace_allowed_ips=true")
    lines.extend(_line("allowed_ip", "allowed IP", grammar.CIDR, c) for c in peer.allowed_ips)
    return lines


def encode_set(update: DeviceUpdate) -> bytes:
    """The ``set=1`` request for an update (no ``replace_peers``, ever)."""
    lines = ["set=1"]
    if update.private_key is not None:
        lines.append(f"private_key={b64_to_hex(update.private_key)}")
    if update.listen_port is not None:
        port = grammar.require_int("listen port", update.listen_port, 0, 65535)
        lines.append(f"listen_port={port}")
    for peer in update.peers:
        lines.extend(encode_peer(peer))
    return ("\n".join(lines) + "\n\n").encode()


def parse_get(text: str) -> DeviceState:
    """Parse a ``get=1`` answer (without its ``errno`` line check)."""
    public_key: str | None = None
    listen_port: int | None = None
    peers: dict[str, PeerState] = {}
    current: dict[str, object] | None = None

    def finish() -> None:
        if current is not None:
            sec = int(str(current.get("hs_sec", 0)))
            nsec = int(str(current.get("hs_nsec", 0)))
            allowed = current["allowed"]
            assert isinstance(allowed, list)
            peer = PeerState(
                public_key=str(current["key"]),
                endpoint=str(current["endpoint"]) if current.get("endpoint") else None,
                allowed_ips=tuple(allowed),
                persistent_keepalive=int(str(current.get("keepalive", 0))),
                latest_handshake=(sec + nsec / 1e9) if sec else None,
                rx_bytes=int(str(current.get("rx", 0))),
                tx_bytes=int(str(current.get("tx", 0))),
            )
            peers[peer.public_key] = peer

    fields = {
        "endpoint": "endpoint",
        "last_handshake_time_sec": "hs_sec",
        "last_handshake_time_nsec": "hs_nsec",
        "rx_bytes": "rx",
        "tx_bytes": "tx",
        "persistent_keepalive_interval": "keepalive",
    }
    for line in text.splitlines():
        if not line:
            continue
        key, _, value = line.partition("=")
        if key == "private_key":
            raw = bytes.fromhex(value)
            if any(raw):
                public_key = base64.b64encode(bytes(PrivateKey(raw).public_key)).decode()
        elif key == "listen_port":
            port = int(value)
            listen_port = port or None
        elif key == "public_key":
            finish()
            current = {"key": hex_to_b64(value), "allowed": []}
        elif current is not None and key in fields:
            current[fields[key]] = value
        elif current is not None and key == "allowed_ip":
            allowed = current["allowed"]
            assert isinstance(allowed, list)
            allowed.append(normalize_cidr(value))
    finish()
    return DeviceState(public_key=public_key, listen_port=listen_port, peers=peers)


class UapiSocket:
    """Talks UAPI to one interface's socket."""

    def __init__(self, ifname: str, socket_dir: Path = SOCKET_DIR) -> None:
        self.ifname = ifname
        self.path = socket_dir / f"{ifname}.sock"

    def _exchange(self, request: bytes) -> str:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(TIMEOUT)
                sock.connect(str(self.path))
                sock.sendall(request)
                chunks: list[bytes] = []
                while True:
                    chunk = sock.recv(1 << 16)
                    if not chunk:
                        break
                    chunks.append(chunk)
                    if b"".join(chunks[-2:]).endswith(b"\n\n"):
                        break
        except OSError as exc:
            raise BackendError(f"{self.ifname}: UAPI socket {self.path}: {exc}") from None
        text = b"".join(chunks).decode()
        body, _, status = text.rstrip("\n").rpartition("errno=")
        if not status or status.strip() != "0":
            raise DeviceRefused(
                f"{self.ifname}: the device rejected the request (errno={status.strip() or '?'})"
            )
        return body

    def reachable(self) -> bool:
        """Whether a device listens on the socket (connecting is enough)."""
        if not self.path.is_socket():
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(TIMEOUT)
                sock.connect(str(self.path))
        except OSError:
            return False
        return True

    def get(self) -> DeviceState:
        return parse_get(self._exchange(b"get=1\n\n"))

    def set(self, update: DeviceUpdate) -> None:
        if not update.is_empty():
            self._exchange(encode_set(update))
