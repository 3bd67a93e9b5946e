"""The Git repository as drago's database, over dulwich."""

from drago.store.commit import Signer
from drago.store.records import CommitInfo, FileChange, Identity
from drago.store.repository import Store

__all__ = ["CommitInfo", "FileChange", "Identity", "Signer", "Store"]
