"""Reconcile: read the machine, plan against the desired config, apply the plan.

The :class:`Reconciler` holds the backends, the key store, the ownership
record and the endpoint resolver. Interfaces the agent does not own are never
touched: a desired interface whose name is taken by someone else's link is
reported and skipped.

Problems come in two kinds. A node-level error (an interface that could not be
created or configured, a foreign interface) means the config is not applied.
A per-peer problem (:class:`~drago.agent.problems.PeerProblem`: an endpoint
that does not resolve, a peer the device refuses, a route of the peer's allowed
IPs that covers the drago server's address or a peer's endpoint) does not hold
back the rest: the peer is configured without its endpoint (keeping the one it
has), left out, or without that route, everything else is applied, the config counts as applied, and
:attr:`Outcome.retry_in` tells when to try that peer again (its own backoff).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace

from drago.agent.apply import apply_changes
from drago.agent.backends.base import LinkBackend, WireGuardBackend
from drago.agent.backoff import Backoff
from drago.agent.changes import AddPeer, CreateInterface, DeviceChange, PeerChange, RemovePeer
from drago.agent.desired import (
    DesiredInterface,
    Protected,
    ProtectedSet,
    desired_interface,
    endpoint_protection,
    guard_routes,
)
from drago.agent.device import InterfaceState, LinkState, split_endpoint
from drago.agent.devicediff import diff_device
from drago.agent.endpoints import Endpoints, join_endpoint, url_endpoint
from drago.agent.keys import KeyStore
from drago.agent.ownership import Ownership
from drago.agent.problems import ENDPOINT_UNRESOLVED, PEER_REFUSED, PeerProblem
from drago.errors import BackendError
from drago.render.config import InterfaceConfig, NodeConfig

#: (ifname, public key) of one peer on one interface.
PeerRef = tuple[str, str]


@dataclass(frozen=True)
class Outcome:
    """What one reconcile found and did."""

    changes: list[DeviceChange] = field(default_factory=list)
    #: Node-level errors: while there is one, the config is not applied.
    errors: list[str] = field(default_factory=list)
    #: True when the machine matched the config after this reconcile, except for
    #: what :attr:`peers` says about those peers.
    in_sync: bool = False
    #: Peers configured without their endpoint or left out; the rest is applied.
    peers: tuple[PeerProblem, ...] = ()
    #: Seconds until a peer of :attr:`peers` is due to be tried again (None: never).
    retry_in: float | None = None


def peer_of(change: DeviceChange) -> PeerRef | None:
    """The peer a change is about, or None for interface and link changes."""
    if isinstance(change, AddPeer):
        return (change.ifname, change.peer.public_key)
    if isinstance(change, PeerChange | RemovePeer):
        return (change.ifname, change.public_key)
    return None


@dataclass
class _Refusal:
    backoff: Backoff
    message: str = ""
    delay: float = 0.0


class Reconciler:
    def __init__(
        self,
        wireguard: WireGuardBackend,
        links: LinkBackend,
        keys: KeyStore,
        ownership: Ownership,
        endpoints: Endpoints | None = None,
        *,
        servers: Sequence[str] = (),
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.wireguard = wireguard
        self.links = links
        self.keys = keys
        self.ownership = ownership
        self.endpoints = endpoints if endpoints is not None else Endpoints()
        self.rng = rng
        #: The drago servers as host and port (from their URLs); no route may cover
        #: their addresses (the agent may fail over to any of them).
        self.servers = tuple(dict.fromkeys(url_endpoint(url) for url in servers))
        #: The servers' host names are resolved by the same resolver, on their own
        #: backoff (a server name that fails must not make peers be retried).
        self._server_lookup = Endpoints(
            self.endpoints.resolve,
            wait=self.endpoints.wait,
            clock=self.endpoints.clock,
            rng=self.endpoints.rng,
        )
        #: Each server's last resolved address, kept while its name does not resolve.
        self._server_addresses: dict[tuple[str, int], str] = {}
        self._names: dict[str, str] = {}
        #: Peers the device refused at the last apply, with their backoff.
        self._refused: dict[PeerRef, _Refusal] = {}

    def _unresolved(self, iface: InterfaceConfig, want: DesiredInterface) -> list[PeerProblem]:
        """The peers of ``iface`` whose endpoint did not resolve into ``want``."""
        specs = {p.public_key: p for p in want.peers}
        found: list[PeerProblem] = []
        for peer in iface.peers:
            if not peer.endpoint or specs[peer.public_key].endpoint is not None:
                continue
            try:
                reason = self.endpoints.failure(split_endpoint(peer.endpoint)[0])
            except ValueError as exc:
                reason = str(exc)
            found.append(
                PeerProblem(
                    iface.network,
                    iface.ifname,
                    peer.name,
                    peer.public_key,
                    f"{ENDPOINT_UNRESOLVED}: {peer.endpoint}: {reason or 'no address'}",
                )
            )
        return found

    def _server_protection(self) -> list[Protected]:
        """The servers' addresses (resolved now, else the last ones known) as protected."""
        self._server_lookup.prepare([join_endpoint(host, port) for host, port in self.servers])
        found: list[Protected] = []
        for server in self.servers:
            try:
                self._server_addresses[server] = self._server_lookup(*server)
            except (OSError, ValueError):
                pass  # keep the last address it resolved to
            address = self._server_addresses.get(server)
            if address is not None:
                found.append(Protected(address, f"the drago server {address}"))
        return found

    def _kept_endpoints(self, config: NodeConfig) -> list[Protected]:
        """The last addresses of endpoint names that did not resolve now: the device
        keeps a peer's endpoint while its new lookup fails."""
        found: list[Protected] = []
        for iface in config.interfaces:
            for peer in iface.peers:
                if not peer.endpoint:
                    continue
                try:
                    host = split_endpoint(peer.endpoint)[0]
                except ValueError:
                    continue
                address = self.endpoints.last_address(host)
                if address is not None:
                    found.append(Protected(address, f"the endpoint {address} of peer {peer.name}"))
        return found

    def _guarded(
        self, config: NodeConfig, desired: list[DesiredInterface]
    ) -> tuple[list[DesiredInterface], list[PeerProblem]]:
        """``desired`` without routes that cover the server or a peer's endpoint."""
        protected = ProtectedSet(
            self._server_protection(),
            endpoint_protection(desired),
            self._kept_endpoints(config),
        )
        guarded: list[DesiredInterface] = []
        problems: list[PeerProblem] = []
        for want in desired:
            want, left = guard_routes(want, protected)
            guarded.append(want)
            problems.extend(
                PeerProblem(want.network, want.ifname, o.peer.name, o.peer.public_key, o.message)
                for o in left
            )
        return guarded, problems

    def _desired(
        self, config: NodeConfig, generate: bool
    ) -> tuple[list[DesiredInterface], list[str], list[PeerProblem]]:
        desired, problems, peers = self._resolved(config, generate)
        desired, left = self._guarded(config, desired)
        return desired, problems, peers + left

    def _resolved(
        self, config: NodeConfig, generate: bool
    ) -> tuple[list[DesiredInterface], list[str], list[PeerProblem]]:
        desired: list[DesiredInterface] = []
        problems: list[str] = []
        peers: list[PeerProblem] = []
        self.endpoints.prepare(p.endpoint for i in config.interfaces for p in i.peers if p.endpoint)
        for iface in config.interfaces:
            pair = self.keys.ensure(iface.network) if generate else self.keys.get(iface.network)
            want, found = desired_interface(
                iface, pair.public_key if pair else None, self.endpoints
            )
            if not self.ownership.owns(want.ifname) and self.links.exists(want.ifname):
                problems.append(
                    f"{want.ifname}: an interface of this name exists and drago-agent does not "
                    "own it; not touched (remove it or choose another ifname)"
                )
                continue
            unresolved = self._unresolved(iface, want)
            # desired_interface words the same problems as text: they are per-peer here
            per_peer = tuple(f"{iface.ifname}: peer {p.name}: endpoint " for p in unresolved)
            problems.extend(f for f in found if not (per_peer and f.startswith(per_peer)))
            peers.extend(unresolved)
            desired.append(want)
            for peer in iface.peers:
                self._names[peer.public_key] = peer.name
        return desired, problems, peers

    def _read(self, ifnames: Iterable[str]) -> tuple[dict[str, InterfaceState], list[str]]:
        actual: dict[str, InterfaceState] = {}
        errors: list[str] = []
        for ifname in ifnames:
            if not self.wireguard.exists(ifname):
                continue
            try:
                device = self.wireguard.read(ifname)
            except BackendError as exc:
                errors.append(exc.message)
                continue
            actual[ifname] = InterfaceState(device, self.links.read(ifname) or LinkState())
        return actual, errors

    def plan(self, config: NodeConfig, *, generate: bool = True) -> Outcome:
        """The changes the machine needs, without applying them."""
        desired, problems, peers = self._desired(config, generate)
        return self._plan(config, desired, problems, peers, set())

    def _plan(
        self,
        config: NodeConfig,
        desired: list[DesiredInterface],
        problems: list[str],
        peers: list[PeerProblem],
        refused: Collection[PeerRef],
    ) -> Outcome:
        """The plan; in sync when nothing is left but changes of ``refused`` peers."""
        wanted = {d.ifname for d in desired}
        skipped = {i.ifname for i in config.interfaces} - wanted
        leaving = set(self.ownership.interfaces()) - wanted - skipped
        actual, errors = self._read([*sorted(wanted), *sorted(leaving)])
        changes = diff_device(desired, actual, leaving, self._names)
        errors = problems + errors
        left = [c for c in changes if peer_of(c) not in refused]
        return Outcome(changes, errors, in_sync=not left and not errors, peers=tuple(peers))

    def reconcile(self, config: NodeConfig) -> Outcome:
        """Plan and apply; then re-read the machine to tell whether it is in sync."""
        desired, problems, unresolved = self._desired(config, generate=True)
        planned = self._plan(config, desired, problems, unresolved, set())
        if not planned.changes:
            self._refused.clear()
            self._forget_vanished(config)
            return replace(planned, retry_in=self._retry_in())
        networks = {i.ifname: i.network for i in config.interfaces}
        for change in planned.changes:
            if isinstance(change, CreateInterface):
                self.ownership.add(change.ifname, networks[change.ifname])

        def private_key(network: str) -> str | None:
            pair = self.keys.get(network)
            return pair.private_key if pair else None

        applied = apply_changes(planned.changes, self.wireguard, self.links, private_key)
        self._note_refusals(applied.refused)
        self._forget_vanished(config)
        after = self._plan(config, desired, problems, unresolved, set(self._refused))
        return Outcome(
            planned.changes,
            sorted(set(planned.errors + applied.errors + after.errors)),
            in_sync=after.in_sync,
            peers=tuple(unresolved) + self._refusal_problems(config),
            retry_in=self._retry_in(),
        )

    def _note_refusals(self, refused: dict[PeerRef, str]) -> None:
        """Keep the peers refused this time, each with its backoff grown by one step."""
        kept: dict[PeerRef, _Refusal] = {}
        for ref, message in refused.items():
            refusal = self._refused.get(ref) or _Refusal(Backoff(rng=self.rng))
            prefix = f"{ref[0]}: "
            refusal.message = message.removeprefix(prefix)
            refusal.delay = refusal.backoff.next()
            kept[ref] = refusal
        self._refused = kept

    def _refusal_problems(self, config: NodeConfig) -> tuple[PeerProblem, ...]:
        found: list[PeerProblem] = []
        for iface in config.interfaces:
            for peer in iface.peers:
                refusal = self._refused.get((iface.ifname, peer.public_key))
                if refusal is not None:
                    message = f"{PEER_REFUSED}: {refusal.message}"
                    found.append(
                        PeerProblem(
                            iface.network, iface.ifname, peer.name, peer.public_key, message
                        )
                    )
        return tuple(found)

    def _retry_in(self) -> float | None:
        delays = [r.delay for r in self._refused.values()]
        endpoints = self.endpoints.next_retry()
        if endpoints is not None:
            delays.append(endpoints)
        return min(delays) if delays else None

    def _forget_vanished(self, config: NodeConfig) -> None:
        """Drop ownership of interfaces the node left that no longer exist.

        The key pair of a network goes with its interface unless the config
        still has the network (an interface that was only renamed keeps it).
        """
        desired = {i.ifname for i in config.interfaces}
        networks = {i.network for i in config.interfaces}
        for ifname, network in self.ownership.interfaces().items():
            if ifname not in desired and not self.links.exists(ifname):
                self.ownership.remove(ifname)
                if network not in networks:
                    self.keys.forget(network)
