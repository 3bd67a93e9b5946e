"""The agent's sync loop: long-poll by hash, register keys, reconcile, report.

One thread, no busy waiting: each long-poll asks the server to hold the request
until the next duty (drift check, status report, retry) is due. At boot the
cached config is re-applied before the server is asked anything, so a node
whose server is down keeps (or regains) its tunnels.

Receiving and applying are decoupled: a config that did not apply (a node-level
error) is retried from memory after a backoff, and per-peer problems (an
endpoint that does not resolve, a peer the device refuses) are retried on their
own backoff, while the long-poll goes on all the time. So a newer config from
the server always preempts a retry wait and is applied at once. Only an
unreachable server makes the loop sleep (with backoff) instead of polling.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from drago.agent.backoff import Backoff
from drago.agent.cache import ConfigCache
from drago.agent.client import ServerClient
from drago.agent.keys import KeyStore
from drago.agent.problems import PeerProblem
from drago.agent.reconcile import Outcome, Reconciler
from drago.agent.status import build_status
from drago.errors import ConfigRefused, DragoError, ServerUnavailable
from drago.render.config import NodeConfig

log = logging.getLogger("drago.agent")


@dataclass(frozen=True)
class Timing:
    poll_wait: float = 25.0
    drift_interval: float = 60.0
    status_interval: float = 30.0
    max_backoff: float = 60.0


class Agent:
    def __init__(
        self,
        client: ServerClient,
        reconciler: Reconciler,
        keys: KeyStore,
        cache: ConfigCache,
        timing: Timing = Timing(),
        *,
        clock: Callable[[], float] = time.monotonic,
        backoff: Backoff | None = None,
        retry_backoff: Backoff | None = None,
    ) -> None:
        self.client = client
        self.reconciler = reconciler
        self.keys = keys
        self.cache = cache
        self.timing = timing
        self.clock = clock
        #: Delays while the server cannot be reached (no long-poll then).
        self.backoff = backoff or Backoff(maximum=timing.max_backoff)
        #: Delays between attempts to apply a config that failed (the long-poll goes on).
        self.retry_backoff = retry_backoff or Backoff(maximum=timing.max_backoff)
        self.node: str | None = None
        #: The config the machine was last reconciled towards.
        self.config: NodeConfig | None = None
        #: The last config that applied (per-peer problems aside): the only one
        #: reported as applied.
        self.applied: NodeConfig | None = None
        #: Node-level errors of the last reconcile (with key registration errors).
        self.errors: list[str] = []
        #: Per-peer problems of the last reconcile.
        self.peer_problems: tuple[PeerProblem, ...] = ()
        #: Key registration errors of :attr:`config`.
        self.key_errors: list[str] = []
        #: When (``clock``) :attr:`config` or one of its peers is to be tried again.
        self.retry_at: float | None = None
        #: Why the server's newest config was refused (reported until the next one).
        self.refusal: str | None = None

    # -- steps -------------------------------------------------------------------

    def register_keys(self, config: NodeConfig) -> list[str]:
        """Make sure the server knows each interface's public key; promote rotated keys."""
        assert self.node is not None
        errors: list[str] = []
        for iface in config.interfaces:
            pending = self.keys.pending(iface.network)
            if pending is not None and iface.public_key == pending.public_key:
                self.keys.promote(iface.network)
                log.info("%s: rotated key is now in use (%s)", iface.network, pending.public_key)
                pending = None
            current = self.keys.ensure(iface.network)
            wanted = pending.public_key if pending else current.public_key
            if iface.public_key == wanted:
                continue
            try:
                self.client.register_key(self.node, iface.network, wanted)
                log.info("%s: registered public key %s", iface.network, wanted)
            except ServerUnavailable:
                raise
            except DragoError as exc:
                errors.append(f"{iface.network}: key registration failed: {exc.message}")
        return errors

    def apply(self, config: NodeConfig) -> Outcome:
        """Reconcile towards ``config``; ``in_sync`` only when it applied cleanly.

        Clean means: no node-level error; per-peer problems (in ``peers`` of
        the result) do not count, those peers are retried on their own. The
        errors of the result include the key registration errors of
        ``config``. A failed apply of the config last reported as applied
        withdraws it: the machine no longer matches it. Schedules the next
        retry (:attr:`retry_at`): the config after a backoff when it failed,
        else the earliest problem peer, else none.
        """
        outcome = self.reconciler.reconcile(config)
        for change in outcome.changes:
            log.info("%s", change)
        for error in outcome.errors:
            log.warning("%s", error)
        for problem in outcome.peers:
            if problem not in self.peer_problems:
                log.warning("%s", problem)
        self.config = config
        self.errors = self.key_errors + outcome.errors
        self.peer_problems = outcome.peers
        clean = outcome.in_sync and not self.errors
        if clean:
            self.applied = config
            self.retry_backoff.reset()
            retry_in = outcome.retry_in
        else:
            if self.applied is not None and self.applied.hash == config.hash:
                self.applied = None
            retry_in = self.retry_backoff.next()
            if outcome.retry_in is not None:
                retry_in = min(retry_in, outcome.retry_in)
        self.retry_at = None if retry_in is None else self.clock() + retry_in
        return Outcome(
            outcome.changes, self.errors, clean, outcome.peers, retry_in=outcome.retry_in
        )

    def report(self) -> None:
        if self.node is None:
            return
        errors = self.errors if self.refusal is None else [self.refusal, *self.errors]
        report = build_status(
            self.config,
            self.applied,
            errors,
            self.reconciler.wireguard,
            self.peer_problems,
            self.client.server_in_use(),
        )
        try:
            self.client.report_status(self.node, report)
        except DragoError as exc:
            log.debug("status report failed: %s", exc.message)

    def sync(self, config: NodeConfig) -> Outcome:
        """A new config from the server: keys, reconcile, cache, report.

        ``in_sync`` of the result tells whether it applied cleanly.
        """
        if self.config is None or config.hash != self.config.hash:
            self.retry_backoff.reset()  # a new config starts its own retries
        self.refusal = None
        self.key_errors = self.register_keys(config)
        outcome = self.apply(config)
        self.cache.save(config)
        self.report()
        return outcome

    def retry(self) -> bool:
        """Try :attr:`config` again (due at :attr:`retry_at`); report when anything changed."""
        assert self.config is not None
        if self.errors:
            log.info("retrying config %s", self.config.hash[:12])
        else:
            log.info(
                "retrying %d peer(s) of config %s", len(self.peer_problems), self.config.hash[:12]
            )
        errors, peers = self.errors, self.peer_problems
        if self.key_errors:
            try:
                self.key_errors = self.register_keys(self.config)
            except ServerUnavailable as exc:  # retried with the config, after its backoff
                self.key_errors = [f"key registration failed: {exc.message}"]
        outcome = self.apply(self.config)
        if outcome.changes or outcome.errors != errors or outcome.peers != peers:
            self.report()
            return True
        return False

    # -- modes ---------------------------------------------------------------------

    def once(self) -> Outcome:
        """One full round with the server; raises when the server cannot be reached."""
        self.node = self.client.whoami()
        config = self.client.config(self.node, None, 0)
        assert config is not None
        return self.sync(config)

    def run(self, stop: threading.Event) -> None:
        """Run until ``stop`` is set."""
        cached = self.cache.load()
        # the hash of the last config received from the server (or applied from the
        # cache); a failed apply of it is retried from memory, not asked for again
        known: str | None = None
        if cached is not None:
            log.info("re-applying the cached config %s", cached.hash[:12])
            if self.apply(cached).in_sync:
                known = cached.hash
        now = self.clock()
        next_drift = now + self.timing.drift_interval
        next_status = now
        while not stop.is_set():
            try:
                if self.node is None:
                    self.node = self.client.whoami()
                    log.info("node %s", self.node)
                wait = 0.0
                if known is not None:
                    due = min(next_drift, next_status)
                    if self.retry_at is not None:
                        due = min(due, self.retry_at)
                    wait = max(0.0, min(self.timing.poll_wait, due - self.clock()))
                fresh = self.client.config(self.node, known, wait, self.config)
                self.backoff.reset()
                if fresh is not None and fresh.hash != known:
                    log.info("new config %s (revision %s)", fresh.hash[:12], fresh.revision)
                    synced = self.sync(fresh)
                    known = fresh.hash
                    next_status = self.clock() + self.timing.status_interval
                    if not synced.in_sync and self.retry_at is not None:
                        log.warning(
                            "config %s did not apply; retrying in %.1fs",
                            fresh.hash[:12],
                            self.retry_at - self.clock(),
                        )
            except ConfigRefused as exc:
                # The machine keeps the config it has; the server learns why.
                log.error("%s", exc.message)
                self.refusal = exc.message
                self.report()
                next_status = self.clock() + self.timing.status_interval
                if exc.served is not None:
                    known = exc.served  # wait for the server's next config, not this one
                else:
                    delay = self.backoff.next()
                    log.warning("asking again in %.1fs", delay)
                    stop.wait(delay)
            except DragoError as exc:
                delay = self.backoff.next()
                log.warning("%s; retrying in %.1fs", exc.message, delay)
                stop.wait(delay)
            if self.retry_at is not None and self.clock() >= self.retry_at and self.retry():
                next_status = self.clock() + self.timing.status_interval
            now = self.clock()
            if now >= next_drift:
                next_drift = now + self.timing.drift_interval
                if self.config is not None:
                    errors, peers = self.errors, self.peer_problems
                    outcome = self.apply(self.config)
                    if outcome.changes or outcome.errors != errors or outcome.peers != peers:
                        log.info("drift check: %d change(s)", len(outcome.changes))
                        self.report()
                        next_status = self.clock() + self.timing.status_interval
            if now >= next_status:
                next_status = now + self.timing.status_interval
                self.report()
