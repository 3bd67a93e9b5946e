"""Rendered configs and key pairs for agent tests."""

from __future__ import annotations

from drago.agent.keys import KeyPair
from drago.render.config import InterfaceConfig, NodeConfig, PeerConfig

PEER_KEYS = {name: KeyPair.generate() for name in ("fra-1", "nyc-1", "lon-1", "sgp-1")}


def peer(
    name: str,
    endpoint: str | None = "192.0.2.1:51820",
    allowed: tuple[str, ...] = ("10.20.0.2/32",),
    keepalive: int | None = 25,
) -> PeerConfig:
    return PeerConfig(
        name=name,
        public_key=PEER_KEYS[name].public_key,
        endpoint=endpoint,
        allowed_ips=allowed,
        persistent_keepalive=keepalive,
    )


def interface(
    *peers: PeerConfig,
    network: str = "backbone",
    ifname: str = "wg-backbone",
    address: str = "10.20.0.1/16",
    listen_port: int = 51820,
    mtu: int | None = 1420,
    public_key: str | None = None,
) -> InterfaceConfig:
    return InterfaceConfig(
        network=network,
        ifname=ifname,
        address=address,
        listen_port=listen_port,
        mtu=mtu,
        public_key=public_key,
        peers=peers,
    )


def node(*interfaces: InterfaceConfig, name: str = "ber-gw", revision: str = "r1") -> NodeConfig:
    return NodeConfig(node=name, interfaces=interfaces, revision=revision)


def standard() -> NodeConfig:
    """Two peers: fra-1 (with a served subnet) and nyc-1."""
    return node(
        interface(
            peer("fra-1", "192.0.2.1:51820", ("10.20.0.2/32", "192.168.10.0/24")),
            peer("nyc-1", "192.0.2.2:51820", ("10.20.0.3/32",)),
        )
    )


class FakeResolver:
    """Host names -> addresses; any other name fails as DNS would. Counts lookups."""

    def __init__(self, names: dict[str, str] | None = None) -> None:
        self.names = dict(names or {})
        self.lookups: list[str] = []

    def __call__(self, host: str, port: int) -> str:
        self.lookups.append(host)
        try:
            return self.names[host]
        except KeyError:
            raise OSError(f"[Errno -2] Name or service not known: {host}") from None
