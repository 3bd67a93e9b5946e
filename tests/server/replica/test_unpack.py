"""A fetched pack: fewer than unpackLimit objects become loose objects, more stay a pack."""

from __future__ import annotations

import io
import random
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from dulwich.errors import ChecksumMismatch
from dulwich.object_store import DiskObjectStore
from dulwich.objects import ObjectID

from drago.server.replica.unpack import UNPACK_LIMIT, UNPACK_MAX_BYTES, pack_objects, store_pack

pytestmark = pytest.mark.e2e  # the real git makes the packs


def git(cwd: Path, *args: str, data: bytes | None = None) -> bytes:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "HOME": str(cwd),
        "PATH": "/usr/bin:/bin",
    }
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, input=data, capture_output=True, check=True
    ).stdout


def history(tmp_path: Path, commits: int, files: int) -> Path:
    """A work tree of ``commits`` commits, each rewriting ``files`` similar files
    (so the packs carry deltas)."""
    work = tmp_path / "work"
    work.mkdir()
    git(work, "init", "-q")
    for c in range(commits):
        for f in range(files):
            text = "".join(f"line {n} of file {f}\n" for n in range(200)) + f"commit {c}\n"
            (work / f"f{f}.txt").write_text(text)
        git(work, "add", ".")
        git(work, "commit", "-qm", f"c{c}")
    return work


def thin_pack(work: Path, new: str, old: str) -> bytes:
    return git(
        work, "pack-objects", "--thin", "--stdout", "--revs", data=f"{new}\n^{old}\n".encode()
    )


def objects_of(work: Path, new: str, old: str) -> set[str]:
    out = git(work, "rev-list", "--objects", new, f"^{old}").decode()
    return {line.split()[0] for line in out.splitlines()}


@contextmanager
def target(tmp_path: Path, work: Path, old: str) -> Iterator[DiskObjectStore]:
    """An empty object store whose alternate holds ``old``'s history (as a quarantine)."""
    base = tmp_path / "base.git"
    git(tmp_path, "clone", "-q", "--bare", "--no-local", str(work), str(base))
    git(base, "update-ref", "refs/heads/master", old)
    git(base, "reflog", "expire", "--expire=now", "--all")
    git(base, "gc", "-q", "--prune=now")
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    store = DiskObjectStore.init(str(incoming))
    store.add_alternate_path(str(base / "objects"))
    try:
        yield store
    finally:
        for alternate in store.alternates:
            alternate.close()
        store.close()


def test_a_small_thin_pack_becomes_loose_objects_with_bases_from_the_alternate(
    tmp_path: Path,
) -> None:
    work = history(tmp_path, 3, 5)
    new, old = git(work, "rev-parse", "HEAD", "HEAD~1").decode().split()
    pack = thin_pack(work, new, old)
    with target(tmp_path, work, old) as store:
        count = pack_objects(pack)
        assert count is not None and count < UNPACK_LIMIT
        written = store_pack(store, io.BytesIO(pack), len(pack))
        wanted = objects_of(work, new, old)
        assert written == len(wanted)
        assert list((tmp_path / "incoming" / "pack").glob("*.pack")) == []
        for sha in wanted:
            assert store.contains_loose(ObjectID(sha.encode()))
            assert store[ObjectID(sha.encode())].id == sha.encode()


def test_a_large_pack_stays_a_pack(tmp_path: Path) -> None:
    work = history(tmp_path, 2, UNPACK_LIMIT)
    new, old = git(work, "rev-parse", "HEAD", "HEAD~1").decode().split()
    pack = thin_pack(work, new, old)
    with target(tmp_path, work, old) as store:
        assert store_pack(store, io.BytesIO(pack), len(pack)) == 0
        assert len(list((tmp_path / "incoming" / "pack").glob("*.pack"))) == 1
        for sha in objects_of(work, new, old):
            assert not store.contains_loose(ObjectID(sha.encode()))
            assert ObjectID(sha.encode()) in store


def test_a_pack_of_few_but_large_objects_stays_a_pack(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    git(work, "init", "-q")
    (work / "a.md").write_text("a\n")
    git(work, "add", ".")
    git(work, "commit", "-qm", "a")
    (work / "big.bin").write_bytes(random.Random(5).randbytes(UNPACK_MAX_BYTES + 1))
    git(work, "add", ".")
    git(work, "commit", "-qm", "big")
    new, old = git(work, "rev-parse", "HEAD", "HEAD~1").decode().split()
    pack = thin_pack(work, new, old)
    count = pack_objects(pack)
    assert count is not None and count < UNPACK_LIMIT and len(pack) > UNPACK_MAX_BYTES
    with target(tmp_path, work, old) as store:
        assert store_pack(store, io.BytesIO(pack), len(pack)) == 0
        assert len(list((tmp_path / "incoming" / "pack").glob("*.pack"))) == 1
        assert ObjectID(new.encode()) in store


def test_a_damaged_small_pack_writes_nothing(tmp_path: Path) -> None:
    work = history(tmp_path, 3, 5)
    new, old = git(work, "rev-parse", "HEAD", "HEAD~1").decode().split()
    pack = bytearray(thin_pack(work, new, old))
    pack[-1] ^= 0xFF  # the trailing checksum
    with target(tmp_path, work, old) as store:
        with pytest.raises(ChecksumMismatch):
            store_pack(store, io.BytesIO(bytes(pack)), len(pack))
        assert not [p for p in (tmp_path / "incoming").iterdir() if len(p.name) == 2]


def test_pack_objects_reads_the_header() -> None:
    assert pack_objects(b"PACK\x00\x00\x00\x02\x00\x00\x00\x07") == 7
    assert pack_objects(b"PACK\x00\x00\x00\x09\x00\x00\x00\x07") is None
    assert pack_objects(b"JUNK\x00\x00\x00\x02\x00\x00\x00\x07") is None
    assert pack_objects(b"PACK") is None
