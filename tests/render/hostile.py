"""Hostile values for every repository field that reaches a rendered config, and
strict parsers, written apart from drago's grammar, for what the writers produce.

An attacker who can write one file of the repository picks a field and a string;
the chain validator -> renderer -> wg-quick writer / UAPI encoder must either refuse
the repository or produce exactly the intended sections and keys.
"""

from __future__ import annotations

import copy
import itertools
import re
import tomllib
from dataclasses import dataclass
from typing import Any

import tomli_w

from drago.agent.backends.base import DeviceUpdate, PeerUpdate
from drago.agent.backends.uapi import encode_set
from drago.agent.desired import desired_interface
from drago.errors import ConfigError
from drago.model.state import State
from drago.model.validate import Validator
from drago.render.config import InterfaceConfig, NodeConfig
from tests.model.repo import example_files, example_text

#: field id -> (file, key path inside it); an int steps into a list, and a key path
#: ending in "[]" sets a one-element list.
FIELDS: dict[str, tuple[str, tuple[str | int, ...]]] = {
    "node endpoint": ("nodes/fra-1.toml", ("endpoint",)),
    "node description": ("nodes/fra-1.toml", ("description",)),
    "interface address": ("nodes/fra-1.toml", ("interfaces", "backbone", "address")),
    "interface route": ("nodes/fra-1.toml", ("interfaces", "backbone", "routes", "[]")),
    "interface dns": ("nodes/fra-1.toml", ("interfaces", "backbone", "dns", "[]")),
    "interface ifname": ("nodes/fra-1.toml", ("interfaces", "backbone", "ifname")),
    "label value": ("nodes/fra-1.toml", ("labels", "role")),
    "network dns": ("networks/backbone.toml", ("dns", "[]")),
    "network description": ("networks/backbone.toml", ("description",)),
    "address range": ("networks/site.toml", ("address_range",)),
    "connection description": ("networks/backbone.toml", ("connections", 0, "description")),
    "connection allowed ips": (
        "networks/backbone.toml",
        ("connections", 2, "allowed_ips", "nyc-1", "[]"),
    ),
    "connection end": ("networks/backbone.toml", ("connections", 2, "between", 1)),
    "public key": ("keys/fra-1.toml", ("interfaces", "backbone", "public_key")),
}

RESOLVED = "192.0.2.7"


def with_value(field: str, value: str) -> dict[str, bytes | None]:
    """The change that writes ``value`` into ``field`` of example-repo."""
    path, keys = FIELDS[field]
    document: Any = copy.deepcopy(tomllib.loads(example_text(path)))
    node = document
    for step, following in itertools.pairwise(keys):
        if following == "[]":
            node[step] = [value]
            break
        if isinstance(step, str) and step not in node:
            node[step] = {}
        node = node[step]
    else:
        node[keys[-1]] = value
    return {path: tomli_w.dumps(document).encode()}


def validate(field: str, value: str) -> State | None:
    """The validated state with ``value`` in ``field``, or None when refused."""
    try:
        return Validator().validate_changes(example_files(), with_value(field, value))
    except ConfigError:
        return None


# -- strict parsers, independent of drago.grammar -----------------------------------

_SECTION = re.compile(r"\[(Interface|Peer)\]")
_ASSIGNMENT = re.compile(r"([A-Za-z]+) = ([!-~](?:[ -~]*[!-~])?)")
WG_QUICK_KEYS = {
    "Interface": {"Address", "ListenPort", "MTU", "DNS"},
    "Peer": {"PublicKey", "Endpoint", "AllowedIPs", "PersistentKeepalive"},
}


@dataclass
class Section:
    kind: str
    values: dict[str, str]


def parse_wg_quick(text: str) -> list[Section]:
    """Sections of a wg-quick file; fails on any line that is not a comment, a
    section header or one known key of that section (each key at most once)."""
    assert text.endswith("\n") and "\r" not in text
    sections: list[Section] = []
    for line in text[:-1].split("\n"):
        assert line.isprintable(), f"unprintable line {line!r}"
        if line == "" or line.startswith("# "):
            continue
        header = _SECTION.fullmatch(line)
        if header:
            sections.append(Section(header[1], {}))
            continue
        assignment = _ASSIGNMENT.fullmatch(line)
        assert assignment, f"not a key line: {line!r}"
        key, value = assignment[1], assignment[2]
        assert sections, f"key outside a section: {line!r}"
        assert "#" not in value, f"wg-quick would cut the value at '#': {line!r}"
        assert key in WG_QUICK_KEYS[sections[-1].kind], f"unexpected key {key}"
        assert key not in sections[-1].values, f"repeated key {key}"
        sections[-1].values[key] = value
    return sections


def expected_wg_quick(iface: InterfaceConfig) -> list[Section]:
    head = {"Address": iface.address, "ListenPort": str(iface.listen_port)}
    if iface.mtu is not None:
        head["MTU"] = str(iface.mtu)
    if iface.dns:
        head["DNS"] = ", ".join(iface.dns)
    sections = [Section("Interface", head)]
    for peer in iface.peers:
        values = {"PublicKey": peer.public_key}
        if peer.endpoint is not None:
            values["Endpoint"] = peer.endpoint
        if peer.allowed_ips:
            values["AllowedIPs"] = ", ".join(peer.allowed_ips)
        if peer.persistent_keepalive is not None:
            values["PersistentKeepalive"] = str(peer.persistent_keepalive)
        sections.append(Section("Peer", values))
    return sections


_UAPI_LINE = re.compile(r"([a-z_]+)=([0-9A-Za-z.:/\[\]]+)")
UAPI_KEYS = {
    "private_key",
    "listen_port",
    "public_key",
    "endpoint",
    "persistent_keepalive_interval",
    "replace_allowed_ips",
    "allowed_ip",
    "update_only",
    "remove",
}


def parse_uapi(stream: bytes) -> tuple[dict[str, str], list[list[tuple[str, str]]]]:
    """A ``set=1`` request as (device keys, one list of key/value pairs per peer)."""
    text = stream.decode("ascii")
    assert text.startswith("set=1\n") and text.endswith("\n\n")
    device: dict[str, str] = {}
    peers: list[list[tuple[str, str]]] = []
    for line in text[len("set=1\n") : -2].split("\n"):
        match = _UAPI_LINE.fullmatch(line)
        assert match, f"not a UAPI line: {line!r}"
        key, value = match[1], match[2]
        assert key in UAPI_KEYS, f"unexpected key {key}"
        if key == "public_key":
            peers.append([])
        elif peers:
            peers[-1].append((key, value))
        else:
            assert key not in device
            device[key] = value
    return device, peers


def uapi_stream(iface: InterfaceConfig) -> bytes:
    """What the agent sends for ``iface`` on an empty device (endpoints resolved to
    :data:`RESOLVED`)."""
    own, _ = desired_interface(iface, iface.public_key, lambda host, port: RESOLVED)
    peers = tuple(
        PeerUpdate(
            spec.public_key,
            endpoint=spec.endpoint,
            persistent_keepalive=spec.persistent_keepalive,
            allowed_ips=spec.allowed_ips,
        )
        for spec in own.peers
    )
    return encode_set(DeviceUpdate(listen_port=own.listen_port, peers=peers))


def check_outputs(config: NodeConfig, to_wg_quick: Any) -> None:
    """Every interface of ``config`` written both ways parses back to exactly the
    intended sections, keys and values."""
    for iface in config.interfaces:
        sections = parse_wg_quick(to_wg_quick(config, iface.network))
        assert sections == expected_wg_quick(iface)
        device, peers = parse_uapi(uapi_stream(iface))
        assert device == {"listen_port": str(iface.listen_port)}
        assert len(peers) == len(iface.peers)
        for pairs, peer in zip(peers, iface.peers, strict=True):
            allowed = [v for k, v in pairs if k == "allowed_ip"]
            assert len(allowed) == len(peer.allowed_ips)
            endpoints = [v for k, v in pairs if k == "endpoint"]
            assert len(endpoints) == (peer.endpoint is not None)
