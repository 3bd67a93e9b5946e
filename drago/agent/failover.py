"""Several servers, one in use: fail over on outages, come back to the first.

An agent may be given several servers (``--server URL --server URL2``), all
serving the same repository (a primary and its replicas, or servers behind
different load balancers). :class:`Failover` is the :class:`ServerClient` the
loop talks to; it sends every request to one server, the one **in use**:

- **Sticks**: the server in use stays in use while it answers. A 4xx answer
  (a refused token, an unknown node) is the server speaking, not an outage,
  and does not move the agent.
- **Fails over**: a connection error, a timeout or a 5xx answer
  (:class:`~drago.errors.ServerUnavailable`) makes the next server in the list
  (round robin) the one in use, and the error goes up to the loop, which waits
  its backoff (with jitter, so that a fleet leaving a dead server does not land
  on the next one in the same instant) before its next request goes there.
- **Comes back**: the first server listed is the preferred one (listing the
  servers in different orders on different nodes spreads the load; after an
  outage every agent returns to its own first server, so the spread survives
  outages and rolling restarts). While another server is in use, the first is
  asked ``whoami`` every ``failback_after`` seconds at the earliest (that delay
  doubles, up to 10 times, while it fails), and becomes the one in use again
  once it answers.

Switching never touches the applied config: the loop asks the next server
with the hash it holds, and a server answering the same hash is no change.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from drago.agent.backoff import Backoff
from drago.agent.client import ServerClient
from drago.errors import DragoError, ServerUnavailable
from drago.render.config import NodeConfig

log = logging.getLogger("drago.agent")

T = TypeVar("T")


class Failover:
    """A :class:`ServerClient` over ``servers`` (URL, client), in order of preference."""

    def __init__(
        self,
        servers: Sequence[tuple[str, ServerClient]],
        *,
        failback_after: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        rng: Callable[[], float] = random.random,
    ) -> None:
        if not servers:
            raise ValueError("at least one server")
        self.urls = tuple(url for url, _ in servers)
        self._clients = tuple(client for _, client in servers)
        self.clock = clock
        #: Delays before the first server is asked again while another is in use.
        self.failback = Backoff(initial=failback_after, maximum=10 * failback_after, rng=rng)
        #: Index of the server in use.
        self.index = 0
        #: When (``clock``) the first server is to be asked again; None while it is in use.
        self.return_at: float | None = None

    @property
    def url(self) -> str:
        """The URL of the server in use."""
        return self.urls[self.index]

    def server_in_use(self) -> str | None:
        return self.url if len(self.urls) > 1 else None

    def _use(self, index: int) -> None:
        self.index = index
        if index == 0:
            self.return_at = None
            self.failback.reset()
        else:
            self.return_at = self.clock() + self.failback.next()

    def _call(self, request: Callable[[ServerClient], T]) -> T:
        index = self.index
        try:
            return request(self._clients[index])
        except ServerUnavailable as exc:
            if len(self.urls) > 1:
                following = (index + 1) % len(self.urls)
                log.warning(
                    "server %s unavailable (%s); switching to %s",
                    self.urls[index],
                    exc.message,
                    self.urls[following],
                )
                self.failback.reset()
                self._use(following)
            raise

    def _come_back(self) -> None:
        """Make the first server the one in use again when it answers (when due)."""
        if self.return_at is None or self.clock() < self.return_at:
            return
        try:
            self._clients[0].whoami()
        except DragoError as exc:
            self.return_at = self.clock() + self.failback.next()
            log.info(
                "first server %s still unusable (%s); staying on %s",
                self.urls[0],
                exc.message,
                self.url,
            )
            return
        log.info("first server %s answers again; switching back from %s", self.urls[0], self.url)
        self._use(0)

    # -- ServerClient -----------------------------------------------------------------

    def whoami(self) -> str:
        return self._call(lambda client: client.whoami())

    def config(
        self, node: str, known_hash: str | None, wait: float, held: NodeConfig | None = None
    ) -> NodeConfig | None:
        # The long-poll is the request the loop makes all the time: the place to come
        # back (a status report is built naming the server in use before it is sent).
        self._come_back()
        return self._call(lambda client: client.config(node, known_hash, wait, held))

    def register_key(self, node: str, network: str, public_key: str) -> None:
        self._call(lambda client: client.register_key(node, network, public_key))

    def report_status(self, node: str, report: dict[str, Any]) -> None:
        self._call(lambda client: client.report_status(node, report))

    def close(self) -> None:
        for client in self._clients:
            client.close()

    def each(self, action: Callable[[], T]) -> T:
        """``action`` (a one-shot round: ``--once``, ``--dry-run``), tried once on
        each server in turn, from the one in use, until one can be reached."""
        for _ in range(len(self.urls) - 1):
            try:
                return action()
            except ServerUnavailable:
                continue
        return action()
