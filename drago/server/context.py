"""Everything a request handler needs, in one object: ``request.app.state.ctx``.

:class:`ServerContext` owns the store (the :class:`Store` protocol), the runtime
stores, the live state, the trust (trusted signers), the server's signing key
and the metrics, and is the one way to write the desired
state through the server: :meth:`ServerContext.commit` validates, commits with
compare-and-swap, and makes the new revision the accepted one (what the API
reads); the live state renders it for the agents in the background.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import anyio
import anyio.to_thread
from starlette.requests import Request

from drago.errors import ConfigError, Conflict, InvalidRequest, NotFound
from drago.model.state import State
from drago.model.validate import Validator
from drago.server.datadir import DataDir
from drago.server.endpoint import Principal
from drago.server.live import LiveState
from drago.server.metrics import Metrics
from drago.server.revisionwatch import RevisionWatch
from drago.server.runtime.status import StatusStore
from drago.server.runtime.stores import RuntimeDatabase
from drago.server.runtime.tokens import TokenStore, revoke_tokens_of_missing_nodes
from drago.server.settings import Settings
from drago.server.worklimit import WorkLimit
from drago.signing import Trust
from drago.store import Identity, Store

if TYPE_CHECKING:
    from drago.server.replica.replica import Replica

log = logging.getLogger("drago.server")

#: Author and committer of server commits when there is no signing key.
SERVER_IDENTITY = Identity("drago server", "server@drago.invalid")

Hook = Callable[[], Awaitable[None]]


class CommitSigner(Protocol):
    """What the context needs of ``drago.signing.ServerKey``."""

    #: the committer email of the server's commits
    principal: str

    def sign(self, payload: bytes) -> bytes: ...

    def public_line(self) -> str: ...


#: A commit id as If-Match may name it: full, or a unique prefix of 7 or more.
REVISION_ID = re.compile(r"[0-9a-fA-F]{7,40}")


def base_revision(request: Request) -> str | None:
    """The revision a write is based on: the ``If-Match`` header, quotes allowed.

    None (no header, or ``*``) means the writer did not ask for compare-and-swap:
    the change is validated against and committed on top of the current head.
    That is still atomic (commits are serialised and the store checks the head),
    but it may apply on top of changes the writer has not seen.
    """
    value = request.headers.get("if-match", "").strip()
    if value.startswith("W/"):
        value = value[2:]
    value = value.strip().strip('"').strip()
    if not value or value == "*":
        return None
    if not REVISION_ID.fullmatch(value):
        # A branch name or HEAD~0 always equals the head: that would turn the
        # compare-and-swap off without the writer noticing.
        raise InvalidRequest(
            f"If-Match: {value!r} is not a revision id (the `revision` of what you read)"
        )
    return value.lower()


@dataclass
class ServerContext:
    settings: Settings
    datadir: DataDir
    store: Store
    tokens: TokenStore
    status: StatusStore
    live: LiveState
    metrics: Metrics
    #: Who may sign commits of the live branch, and the check of a commit's signature.
    trust: Trust
    server_key: CommitSigner | None = None
    #: What the runtime stores live in (SQLite or PostgreSQL), closed at stop.
    database: RuntimeDatabase | None = None
    #: Run at startup after the live state is loaded (e.g. the repository watcher).
    on_startup: list[Hook] = field(default_factory=list)
    #: Run at shutdown after long-polls are released, in reverse order.
    on_shutdown: list[Hook] = field(default_factory=list)
    #: The one validator of the server (shared with the store, the push check and
    #: the live state's renderer; see drago.model.validate).
    validator: Validator = field(default_factory=Validator)
    _commit_lock: anyio.Lock = field(default_factory=anyio.Lock, repr=False)
    #: Expensive request work (validation of request content, plans), a few at a time.
    heavy: WorkLimit = field(init=False, repr=False)
    #: Waiters for a new accepted revision (``GET /api/v1/live?wait=``).
    revisions: RevisionWatch = field(init=False, repr=False)
    #: Set on a replica (``--replica-of``): its mirror, follower and write forwarding.
    replica: Replica | None = None

    def __post_init__(self) -> None:
        self.heavy = WorkLimit(self.settings.heavy_requests, self.settings.heavy_queue)
        self.revisions = RevisionWatch(self.live)
        role = "primary" if self.settings.replica_of is None else "replica"
        self.metrics.role.labels(role=role).set(1)
        if self.settings.replica_of is None:
            # Only the primary revokes: a replica a revision behind would revoke
            # the token of a node the primary just added (the database is shared).
            self.live.on_advance.append(self._revoke_tokens_of_missing_nodes)

    async def _revoke_tokens_of_missing_nodes(self, revision: str | None, state: State) -> None:
        """Revoke every node token whose node is not in the live ``revision``.

        A deleted node's token would otherwise be a dormant credential for whoever
        later adds a node of that name (a new machine). Every advance checks all
        node tokens, not only the nodes this revision removed: a node deleted
        while the server was down, or a token created while its node was being
        deleted, is caught by the next advance too. No revision (an empty or
        deleted branch) revokes nothing.
        """
        if revision is None:
            return
        for info in await anyio.to_thread.run_sync(
            revoke_tokens_of_missing_nodes, self.tokens, state.nodes.keys()
        ):
            log.warning(
                "revoked token %s of node %r: the node is not in the live revision %s",
                info.id,
                info.node,
                revision[:12],
            )

    @property
    def branch(self) -> str:
        return self.settings.branch

    @property
    def server_identity(self) -> Identity:
        if self.server_key is None:
            return SERVER_IDENTITY
        return Identity(SERVER_IDENTITY.name, self.server_key.principal)

    async def start(self) -> None:
        self.live.start()
        await self.live.refresh()
        await self.live.settled()  # serve the head's configs from the first request
        for hook in self.on_startup:
            await hook()

    async def stop(self) -> None:
        await self.live.stop()
        for hook in reversed(self.on_shutdown):
            await hook()
        if self.database is not None:
            self.database.close()
        self.store.close()

    async def commit(
        self,
        changes: Mapping[str, bytes | None],
        *,
        message: str,
        principal: Principal,
        base: str | None,
    ) -> str:
        """Validate ``changes`` on top of ``base``, commit them, make them live.

        Raises ConfigError (nothing committed) when the result is invalid and
        Conflict when ``base`` is not the branch head. Returns the new revision,
        which is then the live state's accepted revision (the API reads it).
        Its node configs are rendered in the background (``live.settled()``
        waits for that).
        """
        async with self._commit_lock:
            try:
                revision, state, head = await anyio.to_thread.run_sync(
                    self._commit_sync, dict(changes), message, principal, base
                )
            except ConfigError:
                self.metrics.commits.labels(outcome="invalid").inc()
                self.metrics.validation_failures.labels(source="api").inc()
                raise
            except Conflict:
                self.metrics.commits.labels(outcome="conflict").inc()
                raise
            outcome = "unchanged" if revision == head else "committed"
            self.metrics.commits.labels(outcome=outcome).inc()
            if revision != head:
                await self.live.advance(revision, state)
        return revision

    def checked_base(self, base: str | None) -> str | None:
        """The branch head a write goes on top of, after the compare-and-swap check.

        ``base`` (the writer's ``If-Match``) must name the head: an unknown or
        stale base is a Conflict. A head that is not valid (moved outside the
        server and refused by the live state) takes no writes until it is fixed.
        """
        head = self.store.head(self.branch)
        problem = self.live.problem
        if head is not None and problem is not None and problem.revision == head:
            raise Conflict(
                f"{self.branch} is at {head[:12]}, which is not valid and not served "
                f"(still serving {(self.live.rendered_revision or 'nothing')[:12]}): "
                f"{problem.error.message}; fix or reset the branch first",
                details={"head": head, "problem": problem.as_dict()},
            )
        if base is None:
            return head
        try:
            wanted = self.store.resolve(base)
        except NotFound:
            raise Conflict(
                f"base revision {base!r} is unknown; re-read and retry",
                details={"base": base, "head": head},
            ) from None
        if wanted != head:
            raise Conflict(
                f"base revision {wanted[:12]} is stale: {self.branch} is at "
                f"{(head or 'nothing')[:12]}; re-read and retry",
                details={"base": wanted, "head": head},
            )
        return head

    def _commit_sync(
        self,
        changes: dict[str, bytes | None],
        message: str,
        principal: Principal,
        base: str | None,
    ) -> tuple[str, State, str | None]:
        head = self.checked_base(base)
        state = self.validator.validate_changes(self.store.files(head) if head else [], changes)
        signer = self.server_key
        revision = self.store.commit(
            changes,
            message=message,
            author=Identity(principal.name, principal.email),
            committer=self.server_identity,
            base=head,
            branch=self.branch,
            sign=signer.sign if signer is not None else None,
        )
        return revision, state, head
