"""Request and response bodies of the resource API (networks, nodes, keys, history).

The ``*Spec`` models mirror :mod:`drago.model.schema` with JSON types
(addresses, ranges and routes are strings). They only check shapes: the values
are checked by the one validator after the change is applied to the files, so
an API write reports the same ``path: key: message`` problems as ``drago
validate``. A ``None`` (or missing) field means "not in the file" (the default
applies), so a spec read with GET and sent back with PUT leaves the file as it was.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from drago.model.names import NAME_PATTERN
from drago.model.schema import Name

#: A network or node name: checked by the model's one name check (its error says why),
#: documented by its pattern.
ApiName = Annotated[
    Name, Field(description="lower-case name", json_schema_extra={"pattern": f"^{NAME_PATTERN}$"})
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- the files' fields ----------------------------------------------------------------
class _Spec(_Body):
    """Fields of a file: ``None`` means absent, so answers leave them out."""

    @model_serializer(mode="wrap")
    def _without_none(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        return {key: value for key, value in data.items() if value is not None}


class ConnectionSpec(_Spec):
    """One ``[[connections]]`` entry: peers every node of one end with every node of the other."""

    between: list[str] = Field(
        min_length=2, max_length=2, description="two selectors: node name, '*' or key=value[,...]"
    )
    description: str | None = None
    persistent_keepalive: int | None = None
    allowed_ips: dict[str, list[str]] | None = Field(
        None, description="selector -> allowed IPs replacing the defaults for matched peers"
    )


class NetworkSpec(_Spec):
    """The fields of ``networks/<network>.toml``."""

    description: str | None = None
    address_range: str = Field(description="CIDR of the network, like 10.20.0.0/16")
    listen_port: int | None = None
    persistent_keepalive: int | None = None
    mtu: int | None = None
    dns: list[str] | None = None
    connections: list[ConnectionSpec] | None = None


class InterfaceSpec(_Spec):
    """``[interfaces.<network>]`` of a node file."""

    address: str = Field(description="address with prefix, like 10.20.0.1/16")
    listen_port: int | None = None
    endpoint_port: int | None = None
    ifname: str | None = None
    mtu: int | None = None
    dns: list[str] | None = None
    persistent_keepalive: int | None = None
    routes: list[str] | None = None


class NodeSpec(_Spec):
    """The fields of ``nodes/<node>.toml``."""

    description: str | None = None
    endpoint: str | None = None
    labels: dict[str, str] | None = None
    interfaces: dict[str, InterfaceSpec] | None = None


def spec_data(spec: BaseModel) -> dict[str, Any]:
    """A spec as the plain data of its file (unset and None fields left out)."""
    return spec.model_dump(mode="json", exclude_none=True)


# -- writes ---------------------------------------------------------------------------
class _Write(_Body):
    message: str | None = Field(
        None, max_length=10_000, description="commit message (a default names the file)"
    )


class _FileWrite(_Write):
    """Exactly one of ``spec`` (the fields) or ``toml`` (the whole file's text)."""

    toml: str | None = Field(None, description="the whole file as TOML text")

    @model_validator(mode="after")
    def _one_source(self) -> _FileWrite:
        given = [getattr(self, "spec", None) is not None, self.toml is not None]
        if sum(given) != 1:
            raise ValueError("give exactly one of 'spec' or 'toml'")
        return self


class NetworkWrite(_FileWrite):
    spec: NetworkSpec | None = None


class NetworkCreate(NetworkWrite):
    name: ApiName


class NodeWrite(_FileWrite):
    spec: NodeSpec | None = None


class NodeCreate(NodeWrite):
    name: ApiName


class ConnectionWrite(_Write):
    connection: ConnectionSpec


class KeyWrite(_Write):
    public_key: str = Field(description="the interface's WireGuard public key (32 bytes, base64)")


class CommitMessage(_Write):
    """Optional body of a delete or a revert: the commit message."""


# -- answers --------------------------------------------------------------------------
class Committed(BaseModel):
    """The outcome of a write: the revision that holds it."""

    revision: str = Field(description="the branch head after the write")
    committed: bool = Field(description="false when the write changed nothing (no commit)")
    paths: list[str] = Field(default_factory=list, description="files the commit changed")


class FileOut(BaseModel):
    name: str
    path: str = Field(description="repository path of the file")
    revision: str | None = Field(description="the live revision the file was read at")
    toml: str = Field(description="the file's text")


class NetworkOut(FileOut):
    spec: NetworkSpec
    members: list[str] = Field(description="nodes with an interface in this network")
    links: list[Annotated[list[str], Field(min_length=2, max_length=2)]] | None = Field(
        description=(
            "every pair of members that peer with each other, resolved by the server from"
            " the network's connections: each pair once as [a, b] with a < b, pairs sorted;"
            " null in the network list (a full mesh has n*(n-1)/2 pairs: read one network)"
        )
    )


class NodeOut(FileOut):
    spec: NodeSpec
    keys: dict[str, str] = Field(description="network -> registered public key")
    config_hash: str | None = Field(description="hash of the node's desired config")


class NetworkList(BaseModel):
    revision: str | None
    networks: list[NetworkOut]


class NodeList(BaseModel):
    revision: str | None
    nodes: list[NodeOut]


class ConnectionOut(BaseModel):
    index: int = Field(description="position in the network file's [[connections]]")
    connection: ConnectionSpec


class ConnectionList(BaseModel):
    network: str
    revision: str | None
    connections: list[ConnectionOut]


class KeysOut(BaseModel):
    node: str
    revision: str | None
    path: str
    keys: dict[str, str] = Field(description="network -> public key")


class ConnectionCommitted(Committed):
    index: int


class ProblemOut(BaseModel):
    path: str
    key: str
    message: str


# -- history --------------------------------------------------------------------------
class Person(BaseModel):
    name: str
    email: str


class RevisionOut(BaseModel):
    id: str
    parents: list[str]
    author: Person
    committer: Person
    time: int = Field(description="author time, unix seconds")
    message: str
    paths: list[str] = Field(description="files the commit changed")
    signature: str = Field(
        description="server | verified | unverified | signed | unsigned (see docs/api.md)"
    )


class RevisionList(BaseModel):
    revisions: list[RevisionOut]


class FileDiff(BaseModel):
    path: str
    status: str = Field(description="added | modified | deleted")
    diff: str = Field(description="unified diff")


class RevisionDetail(RevisionOut):
    files: list[FileDiff]
    plan: dict[str, Any] | None = Field(
        description="per-node plan against the parent (null when either is not a valid state)"
    )
    problems: list[ProblemOut] = Field(
        description="why this revision is not a valid state (a review branch commit, say)"
    )


# -- dry run --------------------------------------------------------------------------
class ValidateRequest(_Body):
    changes: dict[str, str | None] = Field(
        description="repository path -> new text, or null to delete the file"
    )
    base: str | None = Field(None, description="revision to apply the changes to (default: head)")


class ValidateResult(BaseModel):
    valid: bool
    base: str | None
    problems: list[ProblemOut]
    plan: dict[str, Any] | None = Field(description="per-node plan when the result is valid")


# -- the error shape (for the OpenAPI document) ----------------------------------------
class ErrorInfo(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorBody(BaseModel):
    error: ErrorInfo
