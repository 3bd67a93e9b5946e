"""Inflated-size limits of pushes: the guard on the pack stream, and a real git push."""

from __future__ import annotations

import hashlib
import resource
import time
import zlib
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

import pytest
from dulwich.object_store import MemoryObjectStore
from dulwich.objects import Blob
from dulwich.pack import write_pack_objects

from drago.errors import PushRejected
from drago.server.git.packsize import PackSizeGuard
from tests.server.git.conftest import GitServer
from tests.server.git.gitenv import GitUser

MiB = 1 << 20


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _entry_header(kind: int, size: int) -> bytes:
    out = bytearray([(kind << 4) | (size & 15)])
    size >>= 4
    while size:
        out[-1] |= 0x80
        out.append(size & 0x7F)
        size >>= 7
    return bytes(out)


def pack(*entries: tuple[int, bytes, bytes]) -> bytes:
    """A pack of (type, delta base or b"", data) entries, as git sends it."""
    body = b"PACK" + (2).to_bytes(4, "big") + len(entries).to_bytes(4, "big")
    for kind, base, data in entries:
        body += _entry_header(kind, len(data)) + base + zlib.compress(data, 9)
    return body + hashlib.sha1(body).digest()


def read_through(data: bytes, piece: int, **limits: int) -> PackSizeGuard:
    """Read ``data`` through a guard in pieces of ``piece`` bytes, as dulwich would."""
    stream = BytesIO(data)
    guard = PackSizeGuard(stream.read, stream.read, **limits)
    reads: list[Callable[[int], bytes]] = [guard.read, guard.recv]
    turn = 0
    while stream.tell() < len(data):
        reads[turn % 2](piece)
        turn += 1
    return guard


LIMITS = {"max_object": MiB, "max_total": 4 * MiB}


@pytest.mark.parametrize("piece", [1, 7, 4096, 1 << 20])
def test_small_objects_pass_in_any_pieces(piece: int) -> None:
    data = pack((3, b"", b"a = 1\n" * 1000), (3, b"", b"x" * (MiB - 10)), (2, b"", b"tree"))
    guard = read_through(data, piece, **LIMITS)
    assert guard.total == 6000 + MiB - 10 + 4


@pytest.mark.parametrize("piece", [1, 4096])
def test_a_large_blob_is_refused_at_its_header(piece: int) -> None:
    zeros = bytes(64 * MiB)
    data = pack((3, b"", b"ok"), (3, b"", zeros))
    assert len(data) < MiB  # compresses a thousandfold
    stream = BytesIO(data)
    guard = PackSizeGuard(stream.read, stream.read, **LIMITS)
    with pytest.raises(PushRejected) as caught:
        while stream.tell() < len(data):
            guard.recv(piece)
    assert caught.value.message == (
        f"object 2 of the push (blob) inflates to {64 * MiB} bytes, over the limit of"
        f" {MiB} bytes per object (max_push_object)"
    )
    # Refused right after the entry's header: none of its data was read.
    assert stream.tell() < len(data) // 2 + 64


def test_a_delta_building_a_large_object_is_refused() -> None:
    base = hashlib.sha1(b"base").digest()
    delta = _varint(10) + _varint(512 * MiB) + bytes([0x90, 0x0A])  # copy 10 bytes...
    data = pack((7, base, delta))
    with pytest.raises(PushRejected, match=r"\(object built by a delta\) inflates to 536870912"):
        read_through(data, 3, **LIMITS)


def test_the_total_is_limited_too() -> None:
    blob = b"y" * (MiB - 1)
    data = pack(*[(3, b"", blob)] * 5)
    with pytest.raises(PushRejected, match=r"more than 4194304 bytes in all \(max_push_inflated\)"):
        read_through(data, 4096, **LIMITS)


def test_an_entry_inflating_past_its_declared_size_is_refused() -> None:
    body = b"PACK" + (2).to_bytes(4, "big") + (1).to_bytes(4, "big")
    body += _entry_header(3, 10) + zlib.compress(bytes(10 * MiB))  # claims 10 bytes
    with pytest.raises(PushRejected, match="inflates past its declared size"):
        read_through(body + bytes(20), 4096, **LIMITS)


def test_dulwich_reads_what_the_guard_passes() -> None:
    # Similar blobs, so the pack has deltas as well as whole objects.
    text = b"".join(b"line %d\n" % i for i in range(2000))
    blobs = [Blob.from_string(text + b"n = %d\n" % i) for i in range(20)]
    source = BytesIO()

    def write(chunk: bytes) -> None:
        source.write(chunk)

    store = MemoryObjectStore()
    write_pack_objects(write, blobs, store.object_format, deltify=True)
    data = source.getvalue()
    stream = BytesIO(data)
    guard = PackSizeGuard(stream.read, stream.read, **LIMITS)
    store.add_thin_pack(guard.read, guard.recv)
    assert all(b.id in store for b in blobs)
    assert guard.total == sum(len(b.data) for b in blobs)
    assert len(data) < guard.total // 5  # deltas were read, and counted by what they build


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.e2e
def test_git_push_of_a_huge_compressible_blob_is_refused_quickly(
    git_server: GitServer, alice: GitUser, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    alice.git("clone", "-q", git_server.url(git_server.admin), str(work))
    (work / "zeros.bin").write_bytes(bytes(128 * MiB))
    alice.git("add", "zeros.bin", cwd=work)
    alice.git("commit", "-q", "-m", "a large blob", cwd=work)
    repo = git_server.ctx.store.path
    objects_before = sorted(p.name for p in (repo / "objects").rglob("*") if p.is_file())
    rss_before = _max_rss_mb()
    started = time.monotonic()
    # A review branch takes unsigned commits: only the size limit stands in the way.
    result = alice.git("push", "origin", "HEAD:refs/heads/big", cwd=work, check=False)
    took = time.monotonic() - started
    assert result.code != 0, result.text
    assert "over the limit of 1048576 bytes per object (max_push_object)" in result.text
    assert "[remote rejected]" in result.text, result.text
    assert "big" not in git_server.ctx.store.branches()
    objects_after = sorted(p.name for p in (repo / "objects").rglob("*") if p.is_file())
    assert objects_after == objects_before  # nothing written, no quarantine left
    assert _max_rss_mb() - rss_before < 64, "the blob was inflated in memory"
    assert took < 20, f"refusing took {took:.1f}s"
