"""Fetch the primary's branches over Git smart HTTP, check them like a push, move refs.

The replica's repository is its own (no shared disk): dulwich's HTTP client
fetches what the primary's branches have that this repository lacks into a
:class:`~drago.server.git.quarantine.Quarantine` (telling the primary only its
branch heads, :class:`Haves`; a small pack kept as loose objects,
:mod:`~drago.server.replica.unpack`), and the primary's ref
changes go through the same :class:`~drago.server.git.check.PushCheck` as a
push to the primary (the live branch only moves forward, its new tip carries a
signature of a trusted signer and passes the validator) before any ref moves
here. Only the tip's signature is verified (``tip_only``): the primary checked
every commit as it came in, the tip's signature covers the whole history by
hash, and a commit signed by a key that was trusted then and removed since must
not keep a new replica from joining. Like a push, a sync is all-or-nothing: one refused
ref update moves no ref and keeps no object. The live branch's new tip comes
back with its validated state, for :meth:`LiveState.advance`.

Blocking (dulwich's client and the repository): run it in a thread, one at a time.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from tempfile import SpooledTemporaryFile
from typing import IO

from dulwich.client import HttpGitClient
from dulwich.object_store import DiskObjectStore
from dulwich.objects import ObjectID
from dulwich.refs import Ref
from dulwich.repo import Repo

from drago.errors import Conflict, NotFound, PayloadTooLarge, PushRejected
from drago.model.state import State
from drago.model.validate import Validator
from drago.server.git.check import PushCheck, RefUpdate, Verdict
from drago.server.git.quarantine import Quarantine
from drago.server.replica.unpack import store_pack
from drago.signing import Trust
from drago.store import Store

log = logging.getLogger("drago.server.replica")

HEADS = "refs/heads/"
ZERO = b"0" * 40
#: Fetched pack data kept in memory up to this size, then in a file in the quarantine.
SPOOL_IN_MEMORY = 4 << 20


@dataclass(frozen=True)
class Synced:
    """What one sync did."""

    #: The primary's live branch head (None: the primary has no such branch).
    primary_head: str | None
    #: Ref updates applied here.
    moved: list[RefUpdate] = field(default_factory=list)
    #: The live branch's new head and its validated state, when it moved.
    live: tuple[str, State] | None = None
    #: Commits the live branch moved by.
    commits: int = 0


class Haves:
    """The "have"s a fetch sends: this repository's branch heads, nothing older.

    dulwich's own walker sends every head and then up to 256 of their ancestors,
    read one by one from disk, in every fetch, and the primary looks each one up.
    The primary almost always has the heads themselves (it made them), so one
    round settles the negotiation; when it has none of them (a history rewritten
    behind this replica's back) it sends everything, which is still correct."""

    def __init__(self, heads: Iterable[ObjectID]) -> None:
        self._heads = list(heads)

    def __next__(self) -> ObjectID | None:
        return self._heads.pop(0) if self._heads else None

    def ack(self, sha: ObjectID, /) -> None:
        pass

    def nak(self) -> None:
        pass


class Mirror:
    def __init__(
        self,
        store: Store,
        trust: Trust,
        *,
        url: str,
        token: str,
        branch: str,
        validator: Validator,
        timeout: float,
        max_bytes: int,
    ) -> None:
        """``url``: the primary's base URL; ``token``: a reader token there;
        ``max_bytes``: the largest pack one sync may bring."""
        self._store = store
        self._trust = trust
        self._url = url
        self._token = token
        self._branch = branch
        self._validator = validator
        self._timeout = timeout
        self._max_bytes = max_bytes

    def _client(self) -> HttpGitClient:
        # The token goes in the Authorization header, never in the URL (logs, errors).
        return HttpGitClient(
            self._url + "/repo.git/",
            username="replica",
            password=self._token,
            timeout=self._timeout,
            quiet=True,
        )

    def sync(self) -> Synced:
        """Fetch, check, move refs. PushRejected (nothing moved) when the check
        refuses an update; OSError and dulwich's errors when the primary is not
        reachable or answers nonsense."""
        repo = Repo(str(self._store.path))
        try:
            objects = repo.object_store
            assert isinstance(objects, DiskObjectStore)
            local = self._store.branches()
            with Quarantine(objects) as quarantine:
                remote = self._fetch(repo, quarantine, local)
                updates = [
                    RefUpdate(HEADS + name, local.get(name), remote.get(name))
                    for name in sorted(local.keys() | remote.keys())
                    if local.get(name) != remote.get(name)
                ]
                synced = Synced(remote.get(self._branch))
                if not updates:
                    return synced
                check = PushCheck(
                    self._store.view(quarantine.store),
                    self._trust,
                    live_branch=self._branch,
                    validator=self._validator,
                    tip_only=True,
                )
                verdicts = check.check_all(updates)
                refused = [v for v in verdicts if not v.ok]
                if refused:
                    raise PushRejected(
                        "; ".join(f"{v.update.ref}: {v.reason}" for v in refused),
                        details=[{"ref": v.update.ref, "reason": v.reason} for v in refused],
                    )
                commits = self._live_commits(check, verdicts)
                quarantine.migrate()
                return self._move(verdicts, synced.primary_head, commits)
        finally:
            repo.close()

    def _fetch(
        self, repo: Repo, quarantine: Quarantine, local: Mapping[str, str]
    ) -> dict[str, str]:
        """The primary's branches; their objects this repository lacks go to ``quarantine``."""
        remote: dict[str, str] = {}
        objects = repo.object_store
        assert isinstance(objects, DiskObjectStore)

        def wants(refs: Mapping[Ref, ObjectID], depth: int | None = None) -> list[ObjectID]:
            for ref, sha in refs.items():
                name = ref.decode("utf-8", "surrogateescape")
                if name.startswith(HEADS) and sha != ZERO:
                    remote[name[len(HEADS) :]] = sha.decode("ascii")
            shas = [ObjectID(s.encode()) for s in sorted(set(remote.values()))]
            return [sha for sha in shas if sha not in objects]

        spool: IO[bytes] = SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY, dir=str(quarantine.path))
        with spool:
            received = 0

            def write(data: bytes) -> int:
                nonlocal received
                received += len(data)
                if received > self._max_bytes:
                    raise PayloadTooLarge(
                        f"the primary sent more than {self._max_bytes} bytes in one fetch"
                    )
                return spool.write(data)

            haves = Haves(ObjectID(sha.encode()) for sha in sorted(set(local.values())))
            self._client().fetch_pack(b"", wants, haves, write)
            if received:
                spool.seek(0)
                store_pack(quarantine.store, spool, received)
        return remote

    def _live_commits(self, check: PushCheck, verdicts: list[Verdict]) -> int:
        for verdict in verdicts:
            update = verdict.update
            if update.branch == self._branch and update.new is not None:
                return len(check.new_commits(update.new, update.old)[0])
        return 0

    def _move(self, verdicts: list[Verdict], primary_head: str | None, commits: int) -> Synced:
        moved: list[RefUpdate] = []
        live: tuple[str, State] | None = None
        for verdict in verdicts:
            update = verdict.update
            branch = update.branch
            assert branch is not None  # the check accepts branches only
            try:
                if update.new is None:
                    self._store.delete_branch(branch, old=update.old or "")
                else:
                    self._store.set_branch(branch, update.new, old=update.old)
            except (Conflict, NotFound) as exc:
                # Only the mirror moves refs here; whoever raced us will fetch again.
                log.warning("mirror: %s moved meanwhile, left as is: %s", update.ref, exc)
                continue
            moved.append(update)
            if verdict.state is not None and update.new is not None:
                live = (update.new, verdict.state)
            log.info("mirror: %s %s -> %s", update.ref, update.old, update.new)
        return Synced(primary_head, moved, live, commits if live is not None else 0)
