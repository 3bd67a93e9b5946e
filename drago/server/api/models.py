"""Request and response bodies of the resource API (networks, nodes, keys, history).

The files' fields (``*Spec``) are derived from :mod:`drago.model.schema` by
:mod:`drago.server.api.specs`.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from drago.grammar import check_message
from drago.model.schema import Name
from drago.render.configdiff import Kind as ChangeKind
from drago.render.configdiff import Status as NodeStatusWord
from drago.server.api.specs import ConnectionSpec, NetworkSpec, NodeSpec

#: A network or node name: checked by the model's one name check (its error says why),
#: documented by its pattern.
ApiName = Name


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- writes ---------------------------------------------------------------------------
class _Write(_Body):
    message: Annotated[str, AfterValidator(check_message)] | None = Field(
        None,
        max_length=10_000,
        description="commit message (a default names the file)",
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
    paths: list[str] = Field(description="files the commit changed")


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


# -- plans ----------------------------------------------------------------------------
#: A value in a change: a setting, a peer's allowed IPs, a pending peer's reason.
PlanScalar = str | int | list[str] | None
#: peer_changed changes give ``{field: value}``.
PlanValue = PlanScalar | dict[str, PlanScalar]


class ConfigChangeOut(BaseModel):
    """One difference in one interface of a node's rendered config."""

    interface: str = Field(description="the network of the interface")
    kind: ChangeKind
    subject: str = Field(
        description="the setting (interface_changed), the peer (peer_*, pending_*) or the network"
    )
    old: PlanValue
    new: PlanValue
    text: str = Field(description="the change in words, e.g. peer b: endpoint x => y")


class NodeDiffOut(BaseModel):
    node: str
    status: NodeStatusWord
    changes: list[ConfigChangeOut]
    omitted_changes: int = Field(description="changes of this node a summary left out")


class OmittedNode(BaseModel):
    node: str
    status: NodeStatusWord


class PlanCounts(BaseModel):
    """How many nodes have each status (listed or not)."""

    changed: int
    added: int
    removed: int


class PlanLimits(BaseModel):
    """What the summary was limited to (null: no limit)."""

    nodes: int | None = Field(description="most nodes listed")
    changes: int | None = Field(description="most changes listed per node")
    node: str | None = Field(description="the one node asked for with ?node=")
    bytes: int | None = Field(description="rendered config bytes compared before listing stops")


class PlanOut(BaseModel):
    """What a change does to each node's rendered config, as a summary of bounded size:
    the affected nodes in name order (ask for one with ``?node=``), the others named
    in ``more_nodes``."""

    nodes: list[NodeDiffOut]
    unchanged: int = Field(description="nodes whose config does not change")
    counts: PlanCounts
    omitted_nodes: int = Field(description="affected nodes not listed in nodes")
    more_nodes: list[OmittedNode] = Field(description="the affected nodes not listed")
    complete: bool = Field(description="every affected node is listed with every change")
    limits: PlanLimits


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
    plan: PlanOut | None = Field(
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
    plan: PlanOut | None = Field(description="per-node plan when the result is valid")


# -- the error shape (for the OpenAPI document) ----------------------------------------
class ErrorInfo(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorBody(BaseModel):
    error: ErrorInfo
