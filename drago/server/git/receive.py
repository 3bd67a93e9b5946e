"""``git-receive-pack`` with the push check: quarantine, decide every ref, then move refs.

dulwich's :class:`ReceivePackHandler` reads the commands and the pack and
reports the status; :meth:`CheckedReceivePackHandler._apply_pack` is its one
step we replace, so that:

- the pack goes to a :class:`Quarantine`, not into the repository, through a
  :class:`PackSizeGuard` that refuses an object inflating past ``max_push_object``
  (or a push past ``max_push_inflated``) before it is inflated;
- every ref update is checked (:class:`PushCheck`) before any ref moves;
- a push is all-or-nothing (``--atomic`` or not): one rejected ref rejects
  the whole push, and a rejected push leaves no objects behind;
- refs move by compare-and-swap through the store, so a push racing an API
  commit on the same branch loses with "non-fast-forward" instead of
  overwriting it (and refs already moved by this push are put back).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from dulwich.object_store import DiskObjectStore, PackInputTooLarge
from dulwich.objects import ObjectID
from dulwich.protocol import Protocol
from dulwich.refs import Ref
from dulwich.server import Backend, ReceivePackHandler

from drago.errors import Conflict, DragoError, NotFound
from drago.model.state import State
from drago.model.validate import Bound, Validator
from drago.server.git.check import PushCheck, RefUpdate, Verdict
from drago.server.git.packsize import PackSizeGuard
from drago.server.git.quarantine import Quarantine
from drago.signing import Trust
from drago.store import Store

log = logging.getLogger("drago.server.git")

ZERO = b"0" * 40


@dataclass
class PushPolicy:
    """What a receive-pack needs besides the protocol: the store and the rules."""

    store: Store
    trust: Trust
    live_branch: str
    max_input: int
    #: Largest object a push may bring, and most bytes all of them may inflate to.
    max_object: int
    max_inflated: int
    #: Ref updates that were applied, for the caller to act on after the response.
    applied: list[RefUpdate] = field(default_factory=list)
    #: The live branch's new revision and its validated state, when the push moved it.
    live: tuple[str, State] | None = None
    #: Verdicts of refused ref updates (for metrics).
    refused: list[Verdict] = field(default_factory=list)
    validator: Validator = field(default_factory=Validator)
    #: The topology-size bound of a pushed tip (see :class:`PushCheck`), or None.
    size: Callable[[str], Bound] | None = None


def _update(old: bytes, new: bytes, ref: bytes) -> RefUpdate:
    return RefUpdate(
        ref.decode("utf-8", "replace"),
        None if old == ZERO else old.decode("ascii"),
        None if new == ZERO else new.decode("ascii"),
    )


class CheckedReceivePackHandler(ReceivePackHandler):
    def __init__(
        self,
        backend: Backend,
        args: Sequence[str],
        proto: Protocol,
        *,
        policy: PushPolicy,
        stateless_rpc: bool = True,
        advertise_refs: bool = False,
    ) -> None:
        super().__init__(
            backend, args, proto, stateless_rpc=stateless_rpc, advertise_refs=advertise_refs
        )
        self.policy = policy

    def _apply_pack(
        self, refs: list[tuple[ObjectID, ObjectID, Ref]]
    ) -> Iterator[tuple[bytes, bytes]]:
        updates = [_update(old, new, ref) for old, new, ref in refs]
        names = [ref for _, _, ref in refs]
        objects = self.repo.object_store
        assert isinstance(objects, DiskObjectStore)
        with Quarantine(objects) as quarantine:
            if any(u.new is not None for u in updates):
                problem = self._receive(quarantine)
                if problem is not None:
                    yield (b"unpack", problem.encode())
                    yield from ((name, problem.encode()) for name in names)
                    return
            yield (b"unpack", b"ok")
            statuses = self._decide(quarantine, updates)
            yield from zip(names, (s.encode("utf-8", "replace") for s in statuses), strict=True)

    def _receive(self, quarantine: Quarantine) -> str | None:
        recv: Callable[[int], bytes] = getattr(self.proto, "recv", self.proto.read)
        guard = PackSizeGuard(
            self.proto.read,
            recv,
            max_object=self.policy.max_object,
            max_total=self.policy.max_inflated,
        )
        try:
            quarantine.store.add_thin_pack(
                guard.read, guard.recv, max_input_size=self.policy.max_input
            )
        except PackInputTooLarge:
            return f"push larger than the limit of {self.policy.max_input} bytes (max_push)"
        except DragoError as exc:
            return exc.message
        except (OSError, ValueError, AssertionError) as exc:
            return f"bad pack: {exc}".replace("\n", " ")
        return None

    def _decide(self, quarantine: Quarantine, updates: list[RefUpdate]) -> list[str]:
        policy = self.policy
        check = PushCheck(
            policy.store.view(quarantine.store),
            policy.trust,
            live_branch=policy.live_branch,
            validator=policy.validator,
            size=policy.size,
        )
        verdicts = check.check_all(updates)
        rejected = [v for v in verdicts if not v.ok]
        policy.refused.extend(rejected)
        for verdict in rejected:
            log.info("push rejected: %s: %s", verdict.update.ref, verdict.reason)
        if rejected:
            first = rejected[0].update.ref
            return [
                v.reason or f"not applied: {first} was rejected (pushes are all-or-nothing)"
                for v in verdicts
            ]
        quarantine.migrate()
        return self._move(verdicts)

    def _move(self, verdicts: list[Verdict]) -> list[str]:
        """Move every ref by compare-and-swap; on a lost race put back the moved ones."""
        store = self.policy.store
        moved: list[RefUpdate] = []
        for verdict in verdicts:
            update = verdict.update
            branch = update.branch
            assert branch is not None  # the check accepts branches only
            try:
                if update.new is None:
                    store.delete_branch(branch, old=update.old or "")
                else:
                    store.set_branch(branch, update.new, old=update.old)
            except (Conflict, NotFound):
                self._undo(moved)
                lost = (
                    f"non-fast-forward: {branch} moved while this push was checked "
                    "(fetch and try again)"
                )
                return [
                    lost if v.update is update else f"not applied: {update.ref} moved meanwhile"
                    for v in verdicts
                ]
            moved.append(update)
        self.policy.applied.extend(moved)
        for verdict in verdicts:
            if verdict.state is not None and verdict.update.new is not None:
                self.policy.live = (verdict.update.new, verdict.state)
        for update in moved:
            log.info("push: %s %s -> %s", update.ref, update.old, update.new)
        return ["ok"] * len(verdicts)

    def _undo(self, moved: list[RefUpdate]) -> None:
        store = self.policy.store
        for update in reversed(moved):
            branch = update.branch
            assert branch is not None
            try:
                if update.new is None:
                    assert update.old is not None
                    store.set_branch(branch, update.old, old=None)
                elif update.old is None:
                    store.delete_branch(branch, old=update.new)
                else:
                    store.set_branch(branch, update.old, old=update.new)
            except DragoError as exc:
                log.error("could not put back %s after a lost race: %s", update.ref, exc)
