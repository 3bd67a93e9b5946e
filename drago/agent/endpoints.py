"""Peer endpoints resolved in the background, each host name with its own backoff.

A rendered config gives endpoints as ``host:port``; the device needs an IP
address. A host name that does not resolve (a typo, ``*.invalid``, a DNS
outage) must never hold back the rest of a node's config, and a slow DNS must
never hold back the agent's loop. So :class:`Endpoints`:

- looks names up on a few daemon threads and waits at most ``wait`` seconds
  per reconcile for all of them together (lookups of one config are started
  at once by :meth:`Endpoints.prepare`);
- remembers a failure with a backoff per name (``initial`` doubling up to
  ``maximum``, with jitter); until it is due again a lookup fails at once with
  the remembered reason, without asking DNS;
- answers a name whose lookup is still running with the last address it
  resolved to, or fails with "still resolving" when it never resolved;
- resolves a good name again at each reconcile, so endpoints follow DNS.

An instance is a :data:`~drago.agent.desired.Resolver`; :meth:`next_retry`
tells the loop when the next failed name is due again.
"""

from __future__ import annotations

import contextlib
import ipaddress
import queue
import random
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field

import httpx

from drago.agent.backoff import Backoff
from drago.agent.desired import Resolver, system_resolver
from drago.agent.device import split_endpoint


class EndpointUnresolved(OSError):
    """A host name that did not resolve (the message is the reason)."""


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def url_endpoint(url: str) -> tuple[str, int]:
    """The host (IPv6 without brackets) and port of a URL; the scheme's port when it names none."""
    parsed = httpx.URL(url)
    return parsed.host, parsed.port or (443 if parsed.scheme == "https" else 80)


def join_endpoint(host: str, port: int) -> str:
    """``host:port``, an IPv6 host in brackets (the form :meth:`Endpoints.prepare` takes)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@dataclass
class _Name:
    backoff: Backoff
    #: The last address the name resolved to.
    address: str | None = None
    #: Why the last lookup failed (None after a success).
    error: str | None = None
    #: No new lookup before this time (after a failure).
    retry_at: float = 0.0
    job: Future[str] | None = None
    started: float = 0.0


@dataclass
class _Pool:
    """A few daemon threads running lookups; they never delay the process's exit."""

    workers: int
    jobs: queue.SimpleQueue[tuple[Future[str], Callable[[], str]]] = field(
        default_factory=queue.SimpleQueue
    )
    threads: list[threading.Thread] = field(default_factory=list)

    def submit(self, work: Callable[[], str]) -> Future[str]:
        future: Future[str] = Future()
        self.jobs.put((future, work))
        if len(self.threads) < self.workers:
            thread = threading.Thread(target=self._work, name="drago-resolve", daemon=True)
            thread.start()
            self.threads.append(thread)
        return future

    def _work(self) -> None:
        while True:
            future, work = self.jobs.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(work())
            except BaseException as exc:
                future.set_exception(exc)


class Endpoints:
    """Resolves endpoint host names without blocking on bad ones (see the module doc)."""

    def __init__(
        self,
        resolve: Resolver = system_resolver,
        *,
        wait: float = 1.0,
        initial: float = 1.0,
        maximum: float = 60.0,
        workers: int = 4,
        clock: Callable[[], float] = time.monotonic,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.resolve = resolve
        self.wait = wait
        self.initial = initial
        self.maximum = maximum
        self.clock = clock
        self.rng = rng
        self._pool = _Pool(workers)
        self._names: dict[str, _Name] = {}

    def prepare(self, endpoints: Iterable[str]) -> None:
        """Start the due lookups of the host names in ``endpoints`` (``host:port``);
        forget every name not among them."""
        wanted: dict[str, int] = {}
        for endpoint in endpoints:
            try:
                host, port = split_endpoint(endpoint)
            except ValueError:
                continue
            if not is_ip_literal(host):
                wanted[host] = port
        for host in set(self._names) - set(wanted):
            del self._names[host]
        now = self.clock()
        for host, port in wanted.items():
            self._start_if_due(host, port, now)

    def _start_if_due(self, host: str, port: int, now: float) -> _Name:
        name = self._names.get(host)
        if name is None:
            name = self._names[host] = _Name(Backoff(self.initial, self.maximum, rng=self.rng))
        if name.job is None and now >= name.retry_at:
            resolve = self.resolve
            name.job = self._pool.submit(lambda: resolve(host, port))
            name.started = now
        return name

    def _settle(self, name: _Name) -> None:
        """Take the result of a finished lookup."""
        job = name.job
        assert job is not None and job.done()
        name.job = None
        try:
            name.address = job.result()
        except Exception as exc:
            name.error = str(exc) or type(exc).__name__
            name.retry_at = self.clock() + name.backoff.next()
        else:
            name.error = None
            name.retry_at = 0.0
            name.backoff.reset()

    def __call__(self, host: str, port: int) -> str:
        """The address of ``host``; raises :class:`EndpointUnresolved` with the reason."""
        if is_ip_literal(host):
            return str(ipaddress.ip_address(host))
        name = self._start_if_due(host, port, self.clock())
        if name.job is not None:
            left = name.started + self.wait - self.clock()
            with contextlib.suppress(Exception):  # a failure is taken by _settle
                name.job.result(timeout=max(0.0, left))
            if name.job.done():
                self._settle(name)
        if name.job is not None:
            if name.address is not None:
                return name.address
            raise EndpointUnresolved(f"still resolving after {self.wait:g}s")
        if name.error is not None:
            raise EndpointUnresolved(name.error)
        assert name.address is not None
        return name.address

    def last_address(self, host: str) -> str | None:
        """The address ``host`` last resolved to (also while a new lookup fails)."""
        name = self._names.get(host)
        return name.address if name is not None else None

    def failure(self, host: str) -> str | None:
        """Why ``host`` did not resolve at its last lookup (None when it did or is unknown)."""
        name = self._names.get(host)
        if name is None:
            return None
        if name.job is not None and name.address is None:
            return f"still resolving after {self.wait:g}s"
        return name.error

    def next_retry(self) -> float | None:
        """Seconds until a failed or unfinished name should be looked at again; None: none."""
        now = self.clock()
        delays = [
            self.wait if name.job is not None else max(0.0, name.retry_at - now)
            for name in self._names.values()
            if name.job is not None or name.error is not None
        ]
        return min(delays) if delays else None
