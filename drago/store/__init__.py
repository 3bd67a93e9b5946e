"""The Git repository as drago's database, over dulwich: the :class:`Store` protocol
and its implementation :class:`GitStore`."""

from drago.store.commit import SignPayload
from drago.store.protocol import Store
from drago.store.records import CommitInfo, FileChange, Identity, SignedCommit
from drago.store.repository import GitStore

__all__ = [
    "CommitInfo",
    "FileChange",
    "GitStore",
    "Identity",
    "SignPayload",
    "SignedCommit",
    "Store",
]
