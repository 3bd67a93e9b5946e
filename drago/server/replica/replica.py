"""A replica's parts, wired into a server context (``ctx.replica``).

:func:`install_replica` builds the mirror, the follower and the forwarder over
one HTTP client for the primary, starts the follower with the server (after the
last mirrored revision is live, so the replica serves at once, primary or not)
and stops it at shutdown. The app factory adds :class:`ForwardWrites` when
``ctx.replica`` is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

import httpx

from drago.errors import InvalidRequest
from drago.server.context import ServerContext
from drago.server.replica.credential import replica_token
from drago.server.replica.follow import Follower
from drago.server.replica.forward import Forwarder
from drago.server.replica.mirror import Mirror
from drago.server.settings import Settings

#: Connect and read timeouts of a fetch from the primary (s).
FETCH_TIMEOUT = 30.0


@dataclass
class Replica:
    url: str
    follower: Follower
    forwarder: Forwarder
    client: httpx.AsyncClient
    _task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self.follower.run(), name="drago-replica-follow"
            )

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.client.aclose()

    def degraded_reasons(self) -> list[str]:
        """Why this replica is degraded (for ``/healthz``; no repository content)."""
        reasons = []
        follower = self.follower
        if follower.outage is not None:
            since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(follower.outage.since))
            reasons.append(
                f"the primary does not answer since {since}: serving the last revision, "
                "writes are refused"
            )
        if follower.refusal is not None:
            revision = (follower.refusal.revision or "its head")[:12]
            reasons.append(f"the primary's revision {revision} was refused by the push check")
        return reasons


def check_replica_settings(settings: Settings) -> None:
    """Refuse what cannot work for a replica, before anything is created."""
    if settings.init_from is not None:
        raise InvalidRequest("a replica takes its history from the primary: no --init-from")
    if settings.database is None and settings.replica_token is None:
        raise InvalidRequest(
            "a replica shares the primary's runtime database (--database postgresql://...), "
            "or is given a reader token of the primary (DRAGO_REPLICA_TOKEN)"
        )


def install_replica(ctx: ServerContext) -> Replica:
    """Make ``ctx`` a replica of ``ctx.settings.replica_of`` (set as ``ctx.replica``)."""
    settings = ctx.settings
    url = settings.replica_of
    assert url is not None
    given = settings.replica_token.get_secret_value() if settings.replica_token else None
    token = replica_token(ctx.tokens, ctx.datadir.root, given)
    client = httpx.AsyncClient(base_url=url, timeout=FETCH_TIMEOUT)
    mirror = Mirror(
        ctx.store,
        ctx.trust,
        url=url,
        token=token,
        branch=ctx.branch,
        validator=ctx.validator,
        timeout=FETCH_TIMEOUT,
        max_bytes=settings.max_push_inflated,
    )
    follower = Follower(
        mirror,
        ctx.live,
        ctx.metrics,
        client=client,
        token=token,
        fetch_interval=settings.replica_fetch_interval,
    )

    async def sync_and_settle() -> bool:
        ok = await follower.sync()
        await ctx.live.settled()
        return ok

    forwarder = Forwarder(client, ctx.metrics, url=url, sync=sync_and_settle)
    replica = Replica(url, follower, forwarder, client)
    ctx.replica = replica
    ctx.on_startup.append(replica.start)
    ctx.on_shutdown.append(replica.stop)
    return replica
