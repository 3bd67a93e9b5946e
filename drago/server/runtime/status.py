"""What agents report: the applied config, errors and per-peer figures, with last-seen."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Annotated, Protocol

from pydantic import BaseModel, ConfigDict, Field

from drago.server.runtime.db import Database

ShortText = Annotated[str, Field(max_length=4000)]


class PeerStatus(BaseModel):
    """One peer as the agent sees it on the device."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    network: str | None = Field(None, max_length=64, description="network of the interface")
    name: str | None = Field(None, max_length=64, description="peer node name, when known")
    public_key: str = Field(max_length=64)
    endpoint: str | None = Field(None, max_length=300)
    latest_handshake: float | None = Field(
        None, ge=0, description="unix time of the last handshake, null when never"
    )
    rx_bytes: int = Field(0, ge=0)
    tx_bytes: int = Field(0, ge=0)
    problem: ShortText | None = Field(
        None,
        description="why the agent could not apply this peer fully (e.g. `endpoint unresolved:"
        " <reason>`, `refused by the device: <reason>`); the rest of the config is applied"
        " and the agent retries the peer",
    )


class StatusReport(BaseModel):
    """Body of ``PUT /api/v1/nodes/{node}/status``."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    applied_hash: str | None = Field(
        None,
        max_length=64,
        description="hash of the last config that applied cleanly (null: none yet)",
    )
    applied_revision: str | None = Field(None, max_length=64)
    errors: list[ShortText] = Field(default_factory=list, max_length=100)
    peers: list[PeerStatus] = Field(default_factory=list, max_length=100_000)
    server: str | None = Field(
        None,
        max_length=2000,
        pattern=r"^https?://[!-~]+$",
        description="the server the agent uses, when it is given several"
        " (`drago-agent --server URL --server URL2`); null otherwise",
    )


@dataclass(frozen=True)
class StatusRecord:
    node: str
    report: StatusReport
    last_seen: float


class StatusStore(Protocol):
    def put(self, node: str, report: StatusReport, *, seen_at: float | None = None) -> None: ...

    def get(self, node: str) -> StatusRecord | None: ...

    def all(self) -> dict[str, StatusRecord]: ...

    def applied(self) -> dict[str, tuple[str | None, int]]:
        """Node -> (applied hash, number of errors), without reading whole reports."""
        ...


class SqliteStatusStore:
    """:class:`StatusStore` over the runtime database (one row per node, JSON report)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def put(self, node: str, report: StatusReport, *, seen_at: float | None = None) -> None:
        seen = time.time() if seen_at is None else seen_at
        with self._db.transaction() as cur:
            cur.execute(
                "INSERT INTO node_status (node, report, last_seen) VALUES (?, ?, ?)"
                " ON CONFLICT(node) DO UPDATE SET report = excluded.report,"
                " last_seen = excluded.last_seen",
                (node, report.model_dump_json(), seen),
            )

    def get(self, node: str) -> StatusRecord | None:
        rows = self._db.query("SELECT report, last_seen FROM node_status WHERE node = ?", (node,))
        if not rows:
            return None
        return StatusRecord(node, StatusReport.model_validate_json(rows[0][0]), rows[0][1])

    def all(self) -> dict[str, StatusRecord]:
        rows = self._db.query("SELECT node, report, last_seen FROM node_status ORDER BY node")
        return {
            node: StatusRecord(node, StatusReport.model_validate_json(report), seen)
            for node, report, seen in rows
        }

    def applied(self) -> dict[str, tuple[str | None, int]]:
        rows = self._db.query(
            "SELECT node, json_extract(report, '$.applied_hash'),"
            " json_array_length(report, '$.errors') FROM node_status"
        )
        return {node: (digest, errors or 0) for node, digest, errors in rows}
