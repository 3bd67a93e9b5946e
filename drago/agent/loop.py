"""The agent's sync loop: long-poll by hash, register keys, reconcile, report.

One thread, no busy waiting: each long-poll asks the server to hold the request
until the next periodic duty (drift check, status report) is due. At boot the
cached config is re-applied before the server is asked anything, so a node
whose server is down keeps (or regains) its tunnels.
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
from drago.agent.reconcile import Outcome, Reconciler
from drago.agent.status import build_status
from drago.errors import DragoError, ServerUnavailable
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
    ) -> None:
        self.client = client
        self.reconciler = reconciler
        self.keys = keys
        self.cache = cache
        self.timing = timing
        self.clock = clock
        self.backoff = backoff or Backoff(maximum=timing.max_backoff)
        self.node: str | None = None
        #: The config the machine was last reconciled towards.
        self.config: NodeConfig | None = None
        #: The last config that applied cleanly: the only one reported as applied.
        self.applied: NodeConfig | None = None
        self.errors: list[str] = []
        #: Key registration errors of :attr:`config`.
        self.key_errors: list[str] = []

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

        The errors of the result include the key registration errors of
        ``config``. A failed apply of the config last reported as applied
        withdraws it: the machine no longer matches it.
        """
        outcome = self.reconciler.reconcile(config)
        for change in outcome.changes:
            log.info("%s", change)
        for error in outcome.errors:
            log.warning("%s", error)
        self.config = config
        self.errors = self.key_errors + outcome.errors
        clean = outcome.in_sync and not self.errors
        if clean:
            self.applied = config
        elif self.applied is not None and self.applied.hash == config.hash:
            self.applied = None
        return Outcome(outcome.changes, self.errors, clean)

    def report(self) -> None:
        if self.node is None:
            return
        report = build_status(self.config, self.applied, self.errors, self.reconciler.wireguard)
        try:
            self.client.report_status(self.node, report)
        except DragoError as exc:
            log.debug("status report failed: %s", exc.message)

    def sync(self, config: NodeConfig) -> Outcome:
        """A new config from the server: keys, reconcile, cache, report.

        ``in_sync`` of the result tells whether it applied cleanly.
        """
        self.key_errors = self.register_keys(config)
        outcome = self.apply(config)
        self.cache.save(config)
        self.report()
        return outcome

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
        known: str | None = None  # the hash of the last config that applied cleanly
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
                    due = min(next_drift, next_status) - self.clock()
                    wait = max(0.0, min(self.timing.poll_wait, due))
                fresh = self.client.config(self.node, known, wait)
                if fresh is None or fresh.hash == known:
                    self.backoff.reset()
                else:
                    log.info("new config %s (revision %s)", fresh.hash[:12], fresh.revision)
                    synced = self.sync(fresh)
                    next_status = self.clock() + self.timing.status_interval
                    if synced.in_sync:
                        known = fresh.hash  # only once applied cleanly: a failed sync is retried
                        self.backoff.reset()
                    else:
                        delay = self.backoff.next()
                        log.warning(
                            "config %s did not apply; retrying in %.1fs", fresh.hash[:12], delay
                        )
                        stop.wait(delay)
            except DragoError as exc:
                delay = self.backoff.next()
                log.warning("%s; retrying in %.1fs", exc.message, delay)
                stop.wait(delay)
            now = self.clock()
            if now >= next_drift:
                next_drift = now + self.timing.drift_interval
                if self.config is not None:
                    errors = self.errors
                    outcome = self.apply(self.config)
                    if outcome.changes or outcome.errors != errors:
                        log.info("drift check: %d change(s)", len(outcome.changes))
                        self.report()
                        next_status = self.clock() + self.timing.status_interval
            if now >= next_status:
                next_status = now + self.timing.status_interval
                self.report()
