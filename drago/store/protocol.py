"""The store's contract: the one door to the repository (:class:`GitStore` implements it).

Everything the server and the CLI do with the desired state's history goes
through these operations; nobody outside :mod:`drago.store` reads Git objects
itself. A replica or a forge upstream can stand in by implementing them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from dulwich.object_store import BaseObjectStore

from drago.model.state import SourceFile
from drago.store.commit import SignPayload
from drago.store.records import CommitInfo, FileChange, Identity, SignedCommit
from drago.store.view import ObjectView

if TYPE_CHECKING:
    from drago.model.state import State
    from drago.model.validate import Bound, Validator


class Store(Protocol):
    #: The bare repository on disk (served by Git transport, watched for ref moves).
    path: Path
    #: The live branch.
    branch: str

    def close(self) -> None: ...

    # refs: every move is a compare-and-swap (Conflict when the branch moved)
    def head(self, branch: str | None = None) -> str | None: ...

    def branches(self) -> dict[str, str]: ...

    def set_branch(self, name: str, new: str, *, old: str | None) -> None: ...

    def delete_branch(self, name: str, *, old: str) -> None: ...

    # reading (NotFound for what is not there)
    def resolve(self, rev: str) -> str: ...

    def has_commit(self, sha: str) -> bool: ...

    def files(self, rev: str) -> list[SourceFile]: ...

    def read_blob(self, blob_id: str) -> bytes: ...

    def read_file(self, rev: str, path: str) -> bytes: ...

    def state(
        self, rev: str, *, view: Validator | None = None, bound: Bound | None = None
    ) -> State:
        """The validated state at ``rev`` (ConfigError when invalid); kept by tree
        for the last few revisions read without ``view`` (a dry validator view for
        revisions only looked at), refused by ``bound`` before its rules are checked."""
        ...

    def history(
        self,
        rev: str | None = None,
        *,
        path: str | None = None,
        limit: int = 100,
        skip: int = 0,
    ) -> list[CommitInfo]: ...

    def commit_info(self, rev: str) -> CommitInfo: ...

    def signed_commit(self, rev: str) -> SignedCommit:
        """What the commit's signature covers, and the signature (for :class:`Trust`)."""
        ...

    def diff(self, base: str | None, head: str) -> list[FileChange]: ...

    def unified_diff(self, base: str | None, head: str, path: str) -> str: ...

    def is_ancestor(self, ancestor: str, descendant: str) -> bool: ...

    def new_commits(self, new: str, *, exclude: Iterable[str]) -> list[str]: ...

    def have_ancestors(self, haves: Iterable[str], *, toward: Iterable[str]) -> set[str]:
        """The ancestors of ``haves`` (included) that a walk back from ``toward`` can
        meet: a fetch's negotiation without walking the whole history."""
        ...

    def view(self, objects: BaseObjectStore) -> ObjectView:
        """A read-only view of another object store whose alternate is this
        repository (a push's quarantine), sharing this store's caches."""
        ...

    # writing
    def commit(
        self,
        changes: Mapping[str, bytes | None],
        *,
        message: str,
        author: Identity,
        base: str | None,
        branch: str | None = None,
        committer: Identity | None = None,
        sign: SignPayload | None = None,
        parents: Sequence[str] | None = None,
        allow_empty: bool = False,
    ) -> str: ...
