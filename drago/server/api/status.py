"""Node status: agents report what they applied; people read desired vs. applied.

Status is runtime state (SQLite), never committed to Git.
"""

from __future__ import annotations

from collections.abc import Mapping

import anyio.to_thread
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from drago.server.api import PREFIX
from drago.server.api.common import context, json_response, name_param
from drago.server.context import ServerContext
from drago.server.endpoint import Principal, endpoint, parse_body
from drago.server.runtime.status import PeerStatus, StatusRecord, StatusReport, StatusStore


class NodeStatus(BaseModel):
    node: str
    desired_hash: str | None = Field(description="hash of the config at the live revision")
    applied_hash: str | None = Field(description="hash the agent last reported as applied")
    applied_revision: str | None
    in_sync: bool = Field(
        description="the applied hash equals the desired hash and the agent reports no errors;"
        " per-peer problems (`peers[].problem`) do not count: the agent applied everything else"
    )
    last_seen: float | None = Field(description="unix time of the last report, null when never")
    errors: list[str]
    peers: list[PeerStatus]
    server: str | None = Field(
        None, description="the server the agent uses, when it is given several"
    )


class StatusOverview(BaseModel):
    revision: str | None = Field(description="the live revision")
    nodes: list[NodeStatus]
    in_sync: int
    total: int


def node_status(node: str, desired: str | None, record: StatusRecord | None) -> NodeStatus:
    report = record.report if record is not None else StatusReport()
    return NodeStatus(
        node=node,
        desired_hash=desired,
        applied_hash=report.applied_hash,
        applied_revision=report.applied_revision,
        in_sync=is_in_sync(desired, report.applied_hash, len(report.errors)),
        last_seen=record.last_seen if record is not None else None,
        errors=list(report.errors),
        peers=list(report.peers),
        server=report.server,
    )


def is_in_sync(desired: str | None, applied: str | None, errors: int) -> bool:
    return desired is not None and applied == desired and errors == 0


def count_in_sync(ctx: ServerContext, applied: Mapping[str, tuple[str | None, int]]) -> int:
    """Nodes of the live revision that applied their desired config without errors;
    also sets the ``nodes in sync`` gauge."""
    hashes = ctx.live.snapshot.hashes
    count = sum(
        1
        for node, (digest, errors) in applied.items()
        if is_in_sync(hashes.get(node), digest, errors)
    )
    ctx.metrics.nodes_in_sync.set(count)
    return count


def store_report(store: StatusStore, node: str, report: StatusReport) -> StatusRecord | None:
    store.put(node, report)
    return store.get(node)


def overview(ctx: ServerContext, records: Mapping[str, StatusRecord]) -> StatusOverview:
    """Every node of the live revision with its last report (``records``)."""
    snapshot = ctx.live.snapshot
    nodes = [node_status(n, snapshot.hashes[n], records.get(n)) for n in sorted(snapshot.hashes)]
    in_sync = sum(1 for n in nodes if n.in_sync)
    return StatusOverview(
        revision=snapshot.revision, nodes=nodes, in_sync=in_sync, total=len(nodes)
    )


@endpoint(
    "node-write",
    "Report what a node applied: hash, revision, errors, per-peer figures",
    request=StatusReport,
    response=NodeStatus,
    tags=("status",),
)
async def put_status(request: Request, principal: Principal | None) -> Response:
    ctx = context(request)
    node = name_param(request, "node")
    report = await parse_body(request, StatusReport)
    desired = ctx.live.require_hash(node)  # NotFound for unknown nodes
    record = await anyio.to_thread.run_sync(store_report, ctx.status, node, report)
    return json_response(node_status(node, desired, record))


@endpoint(
    "node-read",
    "A node's desired and applied config hash, last seen, errors and peers",
    response=NodeStatus,
    tags=("status",),
)
async def get_node_status(request: Request, principal: Principal | None) -> Response:
    ctx = context(request)
    node = name_param(request, "node")
    desired = ctx.live.require_hash(node)
    record = await anyio.to_thread.run_sync(ctx.status.get, node)
    return json_response(node_status(node, desired, record))


@endpoint(
    "read",
    "Status of every node: desired vs. applied hash, in sync, last seen, errors",
    response=StatusOverview,
    tags=("status",),
)
async def get_status(request: Request, principal: Principal | None) -> Response:
    ctx = context(request)
    records = await anyio.to_thread.run_sync(ctx.status.all)
    return json_response(overview(ctx, records))


def routes() -> list[BaseRoute]:
    return [
        Route(f"{PREFIX}/status", get_status, methods=["GET"]),
        Route(f"{PREFIX}/nodes/{{node}}/status", get_node_status, methods=["GET"]),
        Route(f"{PREFIX}/nodes/{{node}}/status", put_status, methods=["PUT"]),
    ]
