"""The values the store hands out: identities, commits and changed files."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from drago.errors import InvalidRequest

_IDENTITY_RE = re.compile(rb"\A(?P<name>[^<>]*?) ?<(?P<email>[^<>]*)>\Z")
_FORBIDDEN = ("<", ">", "\n", "\r", "\0")


@dataclass(frozen=True)
class SignedCommit:
    """What a commit's signature covers, and the signature (None: unsigned)."""

    id: str
    #: the commit object without its ``gpgsig`` header
    payload: bytes
    #: the ``gpgsig`` header's value
    signature: bytes | None


@dataclass(frozen=True)
class Identity:
    """A Git author or committer, written as ``Name <email>``."""

    name: str
    email: str

    def __post_init__(self) -> None:
        for label, value in (("name", self.name), ("email", self.email)):
            if any(c in value for c in _FORBIDDEN):
                raise InvalidRequest(f"identity {label} {value!r} contains <, > or a line break")
        if not self.name.strip():
            raise InvalidRequest("identity name is empty")

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    def to_git(self) -> bytes:
        return str(self).encode("utf-8")

    @classmethod
    def from_git(cls, raw: bytes) -> Identity:
        """Parse a Git identity; malformed ones keep the whole text as the name."""
        match = _IDENTITY_RE.match(raw)
        if match is None:
            return cls._unchecked(raw.decode("utf-8", "replace"), "")
        return cls._unchecked(
            match["name"].decode("utf-8", "replace"), match["email"].decode("utf-8", "replace")
        )

    @classmethod
    def _unchecked(cls, name: str, email: str) -> Identity:
        """Build an identity read from history, which may break today's rules."""
        identity = object.__new__(cls)
        object.__setattr__(identity, "name", name)
        object.__setattr__(identity, "email", email)
        return identity


@dataclass(frozen=True)
class CommitInfo:
    """One commit as the API, the CLI and the push check see it.

    ``message`` is the commit message as stored (usually ending with a newline);
    ``signature`` is the armored ``gpgsig`` header without its final newline;
    ``paths`` lists the paths changed against the first parent when asked for.
    """

    id: str
    parents: tuple[str, ...]
    author: Identity
    committer: Identity
    author_time: int
    message: str
    signature: bytes | None
    paths: tuple[str, ...] | None = None

    @property
    def summary(self) -> str:
        """The first line of the message."""
        return self.message.split("\n", 1)[0]


@dataclass(frozen=True)
class FileChange:
    """One file that differs between two revisions; blob ids are hex shas."""

    path: str
    status: Literal["added", "modified", "deleted"]
    old_blob: str | None
    new_blob: str | None
