"""Reconcile: read the machine, plan against the desired config, apply the plan.

The :class:`Reconciler` holds the backends, the key store and the ownership
record. Interfaces the agent does not own are never touched: a desired
interface whose name is taken by someone else's link is reported and skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from drago.agent.apply import apply_changes
from drago.agent.backends.base import LinkBackend, WireGuardBackend
from drago.agent.changes import Change, CreateInterface
from drago.agent.desired import DesiredInterface, Resolver, desired_interface, system_resolver
from drago.agent.device import InterfaceState, LinkState
from drago.agent.keys import KeyStore
from drago.agent.ownership import Ownership
from drago.agent.plan import plan
from drago.errors import BackendError
from drago.render.config import NodeConfig


@dataclass(frozen=True)
class Outcome:
    """What one reconcile found and did."""

    changes: list[Change] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    #: True when the machine matched the config after this reconcile.
    in_sync: bool = False


class Reconciler:
    def __init__(
        self,
        wireguard: WireGuardBackend,
        links: LinkBackend,
        keys: KeyStore,
        ownership: Ownership,
        resolve: Resolver = system_resolver,
    ) -> None:
        self.wireguard = wireguard
        self.links = links
        self.keys = keys
        self.ownership = ownership
        self.resolve = resolve
        self._names: dict[str, str] = {}

    def _desired(
        self, config: NodeConfig, generate: bool
    ) -> tuple[list[DesiredInterface], list[str]]:
        desired: list[DesiredInterface] = []
        problems: list[str] = []
        for iface in config.interfaces:
            pair = self.keys.ensure(iface.network) if generate else self.keys.get(iface.network)
            want, found = desired_interface(iface, pair.public_key if pair else None, self.resolve)
            problems.extend(found)
            if not self.ownership.owns(want.ifname) and self.links.exists(want.ifname):
                problems.append(
                    f"{want.ifname}: an interface of this name exists and drago-agent does not "
                    "own it; not touched (remove it or choose another ifname)"
                )
                continue
            desired.append(want)
            for peer in iface.peers:
                self._names[peer.public_key] = peer.name
        return desired, problems

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
        desired, problems = self._desired(config, generate)
        return self._plan(config, desired, problems)

    def _plan(
        self, config: NodeConfig, desired: list[DesiredInterface], problems: list[str]
    ) -> Outcome:
        wanted = {d.ifname for d in desired}
        skipped = {i.ifname for i in config.interfaces} - wanted
        leaving = set(self.ownership.interfaces()) - wanted - skipped
        actual, errors = self._read([*sorted(wanted), *sorted(leaving)])
        changes = plan(desired, actual, leaving, self._names)
        return Outcome(changes, problems + errors, in_sync=not changes and not problems + errors)

    def reconcile(self, config: NodeConfig) -> Outcome:
        """Plan and apply; then re-read the machine to tell whether it is in sync."""
        desired, problems = self._desired(config, generate=True)
        planned = self._plan(config, desired, problems)
        if not planned.changes:
            self._forget_vanished(config)
            return planned
        networks = {i.ifname: i.network for i in config.interfaces}
        for change in planned.changes:
            if isinstance(change, CreateInterface):
                self.ownership.add(change.ifname, networks[change.ifname])

        def private_key(network: str) -> str | None:
            pair = self.keys.get(network)
            return pair.private_key if pair else None

        errors = apply_changes(planned.changes, self.wireguard, self.links, private_key)
        self._forget_vanished(config)
        after = self._plan(config, desired, problems)
        return Outcome(
            planned.changes,
            sorted(set(planned.errors + errors + after.errors)),
            in_sync=after.in_sync,
        )

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
