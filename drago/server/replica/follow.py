"""Follow the primary: learn of a new revision at once, fetch it, check it, go live.

Two loops run while the replica serves:

- a long-poll of the primary's ``GET /api/v1/live?wait=`` with ``If-None-Match``
  on the last revision it named: the primary answers the moment its accepted
  revision changes, and the replica syncs;
- a periodic sync every ``replica_fetch_interval`` seconds, the fallback when a
  notification is lost (and the first sync at start).

A sync (:meth:`Follower.sync`) runs the :class:`~drago.server.replica.mirror.Mirror`
in a thread, one at a time, and hands the live branch's new, checked revision to
:meth:`LiveState.advance`, the one way to go live. A caller that asks for a
sync gets one that started after it asked (a write forwarded to the primary
reads its own revision here).

The follower keeps what ``/healthz`` and the metrics report: whether the primary
answers, whether its last revision was refused, and the replication lag.
"""

from __future__ import annotations

import logging
import random
import re
import time
from dataclasses import dataclass

import anyio
import anyio.to_thread
import httpx
import urllib3
from dulwich.client import HTTPProxyUnauthorized, HTTPUnauthorized
from dulwich.errors import GitProtocolError

from drago.errors import DragoError, PrimaryUnavailable, PushRejected
from drago.server.live import LiveState
from drago.server.metrics import Metrics
from drago.server.replica.mirror import Mirror, Synced

log = logging.getLogger("drago.server.replica")

REVISION = re.compile(r"[0-9a-f]{40}")
#: What a fetch raises when the primary cannot be reached, refuses the token or
#: breaks off (the transport's errors), and this server's own refusals of it
#: (a pack over the size limit).
UNREACHABLE = (
    OSError,
    urllib3.exceptions.HTTPError,
    GitProtocolError,
    HTTPUnauthorized,
    HTTPProxyUnauthorized,
    DragoError,
)
#: How long one long-poll of the primary is held (below common proxy timeouts).
POLL_WAIT = 25.0
#: Backoff between failed attempts to reach the primary (s), doubled up to the max.
BACKOFF_MIN, BACKOFF_MAX = 0.25, 5.0


@dataclass(frozen=True)
class Outage:
    """The primary stopped answering at ``since`` (unix time); ``error`` says how."""

    since: float
    error: str


@dataclass(frozen=True)
class Refusal:
    """The primary's ``revision`` did not pass this server's push check."""

    revision: str | None
    reason: str


def describe(exc: BaseException) -> str:
    """One line about a failure to reach the primary (no URL: it may carry secrets)."""
    if isinstance(exc, DragoError):
        return exc.message
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]


class Follower:
    def __init__(
        self,
        mirror: Mirror,
        live: LiveState,
        metrics: Metrics,
        *,
        client: httpx.AsyncClient,
        token: str,
        fetch_interval: float,
        poll_wait: float = POLL_WAIT,
    ) -> None:
        """``client``: an HTTP client with the primary's base URL; ``token``: a
        reader token there."""
        self._mirror = mirror
        self._live = live
        self._metrics = metrics
        self._client = client
        self._token = token
        self._interval = fetch_interval
        self._poll_wait = poll_wait
        self._lock = anyio.Lock()
        self._asked = 0  # sync tickets handed out
        self._done = 0  # the newest ticket a finished sync covers
        self._lag_revisions = 0
        #: The primary's live revision, as last heard.
        self.primary_revision: str | None = None
        #: Since when a revision of the primary is not live here (None: in step).
        self.behind_since: float | None = None
        self.outage: Outage | None = None
        self.refusal: Refusal | None = None
        #: Unix time of the last answer from the primary.
        self.last_contact: float | None = None
        metrics.replication_primary_up.set(1)
        metrics.replication_lag_seconds.set_function(self.lag_seconds)

    def lag_seconds(self) -> float:
        since = self.behind_since
        return 0.0 if since is None else max(0.0, time.time() - since)

    # -- syncing ----------------------------------------------------------------
    async def sync(self) -> bool:
        """Fetch from the primary and make its live branch's head live here; False
        when the primary could not be reached or its revision was refused.

        Returns after a sync that started after this call (calls made while one
        runs share the next one)."""
        self._asked += 1
        ticket = self._asked
        async with self._lock:
            if self._done >= ticket:
                return self.outage is None and self.refusal is None
            covered = self._asked
            ok = await self._sync_once()
            self._done = covered
            return ok

    async def _sync_once(self) -> bool:
        try:
            synced = await anyio.to_thread.run_sync(self._mirror.sync)
        except PushRejected as exc:
            self._contact()
            self._metrics.replication_fetches.labels(outcome="refused").inc()
            if self.refusal is None or self.refusal.reason != exc.message:
                log.error("the primary's refs were refused, not mirrored: %s", exc.message)
            self.refusal = Refusal(self.primary_revision, exc.message)
            return False
        except UNREACHABLE as exc:
            self._lost(exc)
            self._metrics.replication_fetches.labels(outcome="failed").inc()
            return False
        except Exception as exc:  # a bug: say where, and keep following
            log.exception("fetching from the primary failed")
            self._lost(exc)
            self._metrics.replication_fetches.labels(outcome="failed").inc()
            return False
        self._contact()
        self.refusal = None
        await self._went_live(synced)
        return True

    async def _went_live(self, synced: Synced) -> None:
        if synced.live is not None:
            await self._live.advance(*synced.live)
            log.info("replica: %s is live (%d commits)", synced.live[0][:12], synced.commits)
        outcome = "moved" if synced.moved else "unchanged"
        self._metrics.replication_fetches.labels(outcome=outcome).inc()
        self._heard(synced.primary_head)

    # -- state ------------------------------------------------------------------
    def _contact(self) -> None:
        self.last_contact = time.time()
        if self.outage is not None:
            log.warning(
                "the primary answers again (it did not for %.1f s)", time.time() - self.outage.since
            )
            self.outage = None
        self._metrics.replication_primary_up.set(1)

    def _lost(self, exc: BaseException) -> None:
        error = describe(exc)
        if self.outage is None:
            log.error(
                "the primary does not answer: %s; serving %s, writes are refused",
                error,
                (self._live.revision or "nothing")[:12],
            )
            self.outage = Outage(time.time(), error)
        self._metrics.replication_primary_up.set(0)

    def _heard(self, revision: str | None) -> None:
        """The primary's live revision is ``revision``: update the lag."""
        self.primary_revision = revision
        if revision == self._live.revision:
            self.behind_since = None
            self._lag_revisions = 0
        else:
            if self.behind_since is None:
                self.behind_since = time.time()
            self._lag_revisions = max(1, self._lag_revisions)
        self._metrics.replication_lag_revisions.set(self._lag_revisions)

    # -- loops ------------------------------------------------------------------
    async def run(self) -> None:
        """Follow until cancelled: the long-poll and the periodic sync."""
        async with anyio.create_task_group() as group:
            group.start_soon(self._periodic)
            group.start_soon(self._poll)

    async def _periodic(self) -> None:
        while True:
            await self.sync()
            await anyio.sleep(self._interval)

    async def _poll(self) -> None:
        backoff = BACKOFF_MIN
        while True:
            try:
                revision = await self._poll_once()
            except (httpx.HTTPError, DragoError, ValueError) as exc:
                self._lost(exc)
                await self._back_off(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX)
                continue
            except Exception:  # the follower must outlive a bug in one answer's handling
                log.exception("following the primary: the long-poll failed")
                await self._back_off(BACKOFF_MAX)
                continue
            backoff = BACKOFF_MIN
            if revision is not None and revision != self._live.revision:
                await self.sync()

    @staticmethod
    async def _back_off(seconds: float) -> None:
        await anyio.sleep(seconds * random.uniform(0.5, 1.0))  # jitter: replicas spread out

    async def _poll_once(self) -> str | None:
        """One long-poll; the primary's new revision, or None when it did not change."""
        headers = {"Authorization": f"Bearer {self._token}"}
        if self.last_contact is not None:
            headers["If-None-Match"] = f'"{self.primary_revision or "none"}"'
        response = await self._client.get(
            "/api/v1/live",
            params={"wait": str(self._poll_wait)},
            headers=headers,
            timeout=httpx.Timeout(5.0, read=self._poll_wait + 10.0),
        )
        if response.status_code == 304:
            self._contact()
            return None
        if response.status_code != 200:
            raise PrimaryUnavailable(f"GET /api/v1/live answered {response.status_code}")
        revision = response.json().get("revision")
        if revision is not None and not (
            isinstance(revision, str) and REVISION.fullmatch(revision)
        ):
            raise PrimaryUnavailable("GET /api/v1/live answered a revision that is not a commit id")
        self._contact()
        self._heard(revision)
        return revision
