"""Receive a push into a temporary object directory; keep it only if the push is accepted.

Like git's own quarantine (``objects/incoming-*``), the pushed pack is written
to a separate object store whose alternate is the repository's, so the push
check can read old and new objects together while the repository itself is
untouched. :meth:`Quarantine.migrate` moves the objects in (packs before
their indexes); :meth:`Quarantine.discard` removes them: a rejected push
leaves nothing behind.
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from dulwich.object_store import DiskObjectStore


class Quarantine:
    def __init__(self, repository: DiskObjectStore) -> None:
        self._repository = repository
        self.path = Path(repository.path) / f"incoming-{secrets.token_hex(8)}"
        self.path.mkdir(mode=0o700)
        self.store = DiskObjectStore.init(str(self.path))
        # What arrives is synced to disk as the repository's own objects are
        # (core.fsyncObjectFiles): the ref that names it moves after migrate().
        self.store.fsync_object_files = repository.fsync_object_files
        self.store.add_alternate_path(str(Path(repository.path).resolve()))

    def __enter__(self) -> Quarantine:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.discard()

    def migrate(self) -> int:
        """Move every received object into the repository; returns how many files moved."""
        target = Path(self._repository.path)
        moved = 0
        pack_dir = self.path / "pack"
        if pack_dir.is_dir():
            # Data before indexes: a reader that finds an index finds its pack.
            names = sorted(pack_dir.iterdir(), key=lambda p: (p.suffix != ".pack", p.name))
            for source in names:
                if source.name.startswith("pack-"):
                    os.replace(source, target / "pack" / source.name)
                    moved += 1
        for fanout in self.path.iterdir():
            if len(fanout.name) == 2 and fanout.is_dir():
                (target / fanout.name).mkdir(exist_ok=True)
                for source in fanout.iterdir():
                    destination = target / fanout.name / source.name
                    if not destination.exists():
                        os.replace(source, destination)
                        moved += 1
        self.discard()
        return moved

    def discard(self) -> None:
        for alternate in self.store.alternates:
            alternate.close()
        self.store.close()
        shutil.rmtree(self.path, ignore_errors=True)


def sweep(
    repository: Path,
    *,
    older_than: float = 3600.0,
    report: Callable[[Path], None] | None = None,
) -> int:
    """Remove quarantine directories left by a crash; returns how many were removed.

    Only directories untouched for ``older_than`` seconds go, so a push in
    progress in another process keeps its own; the owner of the data
    directory sweeps with ``older_than=0`` before serving. ``report`` is
    told each directory removed.
    """
    removed = 0
    now = time.time()
    for path in (repository / "objects").glob("incoming-*"):
        try:
            if path.is_dir() and now - path.stat().st_mtime >= older_than:
                shutil.rmtree(path, ignore_errors=True)
                removed += 1
                if report is not None:
                    report(path)
        except FileNotFoundError:
            continue
    return removed
