"""Pydantic models of the files people write: ``networks/*.toml``, ``nodes/*.toml``,
and the server-managed ``keys/*.toml``.

These models check each file on its own (types, ranges, CIDRs, names). Rules that
span files (addresses inside the network range, connections naming real nodes,
overlapping allowed IPs, ...) live in :mod:`drago.model.validate`.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
)

from drago.grammar import (
    IFNAME,
    check_endpoint_host,
    check_public_key,
    check_text,
    matches,
    parse_cidr_text,
    parse_ip,
)
from drago.model.messages import toml_type
from drago.model.names import NAME_PATTERN, name_problem

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPInterface = ipaddress.IPv4Interface | ipaddress.IPv6Interface
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

LABEL_KEY_RE = re.compile(r"\A[a-z0-9]([a-z0-9._/-]{0,61}[a-z0-9])?\Z")
LABEL_VALUE_RE = re.compile(r"\A[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?\Z")


def _strict_str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {toml_type(value)}")
    return value


def _parse_network(value: Any) -> IPNetwork:
    value = parse_cidr_text(_strict_str(value))
    try:
        return ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        try:
            loose = ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ValueError(f"{value!r} is not a valid CIDR (like 10.20.0.0/16)") from exc
        raise ValueError(f"{value!r} has host bits set (did you mean {loose}?)") from exc


def _parse_interface(value: Any) -> IPInterface:
    value = parse_cidr_text(_strict_str(value))
    try:
        return ipaddress.ip_interface(value)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid address with prefix") from exc


def _parse_address(value: Any) -> IPAddress:
    return parse_ip(_strict_str(value))


def _check_name(value: str) -> str:
    problem = name_problem(value)
    if problem:
        raise ValueError(problem)
    return value


# Each type says what it is in its ``Field`` (description, constraints): the API's
# models and the OpenAPI document are derived from these (drago.server.api.specs).
Network = Annotated[
    IPNetwork, BeforeValidator(_parse_network), Field(description="CIDR, like 10.20.0.0/16")
]
Interface = Annotated[
    IPInterface,
    BeforeValidator(_parse_interface),
    Field(description="address with prefix, like 10.20.0.1/16"),
]
Address = Annotated[IPAddress, BeforeValidator(_parse_address), Field(description="IP address")]
Name = Annotated[
    str,
    AfterValidator(_check_name),
    Field(description="lower-case name", json_schema_extra={"pattern": f"^{NAME_PATTERN}$"}),
]
PublicKey = Annotated[
    str,
    AfterValidator(check_public_key),
    Field(description="WireGuard public key (32 bytes, base64)"),
]
Port = Annotated[int, Field(ge=1, le=65535, strict=True)]
Keepalive = Annotated[int, Field(ge=0, le=65535, strict=True, description="seconds, 0 is off")]
Mtu = Annotated[int, Field(ge=576, le=65535, strict=True)]
#: Free text: spaces allowed, no control or invisible characters (one line).
Text = Annotated[
    str, Field(strict=True, description="one line of text"), AfterValidator(check_text)
]


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


class Selector(str):
    """An end of a connection: a node name, ``*`` (every node of the network), or
    label terms ``key=value[,key=value...]`` (a node matches when all terms match)."""

    __slots__ = ()

    @property
    def is_node(self) -> bool:
        return "=" not in self and self != "*"

    def terms(self) -> dict[str, str]:
        if not self or self == "*" or self.is_node:
            return {}
        return dict(term.split("=", 1) for term in self.split(","))

    def matches(self, name: str, labels: dict[str, str]) -> bool:
        if self == "*":
            return True
        if self.is_node:
            return name == self
        return all(labels.get(k) == v for k, v in self.terms().items())


def _parse_selector(value: Any) -> str:
    """Check and normalise a selector; use :class:`Selector` to match with it."""
    text = _strict_str(value)
    if text == "*":
        return text
    if "=" not in text:
        return _check_name(text)
    for term in text.split(","):
        key, sep, val = term.partition("=")
        if not sep or not LABEL_KEY_RE.match(key) or not LABEL_VALUE_RE.match(val):
            raise ValueError(
                f"{text!r} is not a selector: use a node name, '*', or key=value[,key=value]"
            )
    return text


SelectorField = Annotated[
    str,
    BeforeValidator(_parse_selector),
    Field(description="selector: a node name, '*' or key=value[,key=value...]"),
]


class Connection(_File):
    """Peers every node matched by one end with every node matched by the other."""

    between: tuple[SelectorField, SelectorField] = Field(
        description="the two ends: node name, '*' or key=value[,...]"
    )
    description: Text = ""
    persistent_keepalive: Keepalive | None = None
    #: e.g. ``{"role=hub" = ["10.30.0.0/16"]}`` routes the whole range of a site via its hub.
    allowed_ips: dict[SelectorField, list[Network]] = Field(
        default_factory=dict,
        description="selector -> allowed IPs replacing the defaults for matched peers",
    )


class NetworkFile(_File):
    """``networks/<name>.toml``."""

    description: Text = ""
    address_range: Network = Field(description="CIDR of the network, like 10.20.0.0/16")
    listen_port: Port = 51820
    persistent_keepalive: Keepalive | None = None
    mtu: Mtu | None = None
    dns: list[Address] = Field(default_factory=list)
    connections: list[Connection] = Field(default_factory=list)


class InterfaceSpec(_File):
    """``[interfaces.<network>]`` in a node file: the node's membership in a network."""

    address: Interface
    listen_port: Port | None = None
    endpoint_port: Port | None = Field(
        None,
        description="port peers connect to when it differs from listen_port (NAT port forward)",
    )
    ifname: str | None = Field(
        None,
        description="interface name (1-15 of A-Z a-z 0-9 _ . -)",
        json_schema_extra={"pattern": f"^{IFNAME}$"},
    )
    mtu: Mtu | None = None
    dns: list[Address] | None = None
    persistent_keepalive: Keepalive | None = Field(
        None, description="keepalive this node sends to all its peers (for nodes behind NAT)"
    )
    routes: list[Network] = Field(
        default_factory=list, description="subnets this node serves into the overlay"
    )

    @field_validator("ifname")
    @classmethod
    def _check_ifname(cls, value: str | None) -> str | None:
        if value is not None and not matches(IFNAME, value):
            raise ValueError(f"{value!r} is not a valid interface name (1-15 of A-Z a-z 0-9 _ . -)")
        return value


class NodeFile(_File):
    """``nodes/<name>.toml``."""

    description: Text = ""
    endpoint: str | None = Field(None, description="host name or IP address peers connect to")
    labels: dict[str, str] = Field(
        default_factory=dict, description="key -> value, matched by connection selectors"
    )
    interfaces: dict[Name, InterfaceSpec] = Field(default_factory=dict)

    @field_validator("endpoint")
    @classmethod
    def _check_endpoint(cls, value: str | None) -> str | None:
        return None if value is None else check_endpoint_host(value)

    @field_validator("labels")
    @classmethod
    def _check_labels(cls, value: dict[str, str]) -> dict[str, str]:
        for key, val in value.items():
            if not LABEL_KEY_RE.match(key):
                raise ValueError(
                    f"label key {key!r} is invalid (lower case letters, digits, . _ / -)"
                )
            if not isinstance(val, str) or not LABEL_VALUE_RE.match(val):
                raise ValueError(f"label {key}: value {val!r} is invalid (letters, digits, . _ -)")
        return value


class KeyEntry(_File):
    public_key: PublicKey


class KeysFile(_File):
    """``keys/<name>.toml``: public keys registered by the node's agent, per network."""

    interfaces: dict[Name, KeyEntry] = Field(default_factory=dict)


#: The model of each top-level folder.
FILE_MODELS: dict[str, type[_File]] = {
    "networks": NetworkFile,
    "nodes": NodeFile,
    "keys": KeysFile,
}

__all__ = [
    "FILE_MODELS",
    "NAME_PATTERN",
    "Connection",
    "IPNetwork",
    "InterfaceSpec",
    "KeyEntry",
    "KeysFile",
    "NetworkFile",
    "NodeFile",
    "Selector",
]
