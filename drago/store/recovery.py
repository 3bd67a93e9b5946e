"""Clear what a killed writer leaves in a bare repository, so the next writer can write.

Git and dulwich write every ref, loose object and pack index through a lock
file (``NAME.lock``, created exclusively, renamed over ``NAME`` when done).
A process killed between the two leaves the lock file, and every later write
of the same name fails until it is removed: for ``refs/heads/main.lock`` that
is every commit and every push. Packs are first written to temporary files
and only count once their index exists, so an interrupted pack write leaves a
temporary or an index-less pack that nothing reads.

None of these files belongs to a finished write (a ref or object is only
there once it was renamed into place), so removing them loses nothing, but
only while no other process is writing: call :func:`remove_leftovers` only
with the repository's owner lock held (``DataDir.own``).
"""

from __future__ import annotations

import os
from pathlib import Path

from dulwich.repo import Repo

LOCK_SUFFIX = ".lock"


def stale_locks(repository: Path) -> list[Path]:
    """Every ``*.lock`` file in the repository, sorted (refs, objects, HEAD, config, ...)."""
    found: list[Path] = []
    for directory, _, names in os.walk(repository):
        found.extend(Path(directory, name) for name in names if name.endswith(LOCK_SUFFIX))
    return sorted(found)


def remove_leftovers(repository: Path) -> list[Path]:
    """Remove stale lock files, then temporary and index-less packs; returns what went."""
    removed: list[Path] = []
    for lock in stale_locks(repository):
        lock.unlink(missing_ok=True)
        removed.append(lock)
    before = _pack_files(repository)
    repo = Repo(str(repository))
    try:
        repo.object_store.prune(grace_period=0)  # tmp_pack_*, packs without their .idx
    finally:
        repo.close()
    removed.extend(sorted(before - _pack_files(repository)))
    return removed


def _pack_files(repository: Path) -> set[Path]:
    objects = repository / "objects"
    return {*objects.glob("tmp_pack_*"), *(objects / "pack").glob("*.pack")}


__all__ = ["remove_leftovers", "stale_locks"]
