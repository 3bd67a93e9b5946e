"""Keep a small fetched pack as loose objects, like git's ``fetch.unpackLimit``.

A replica fetches after every commit of the primary, a handful of objects each
time. Kept as one pack per fetch, the packs pile up (86 after 30 s at 10
commits per second) and every object lookup probes every pack's index; git
itself explodes a fetched pack of fewer than ``unpackLimit`` (100) objects into
loose objects, whose lookup is one file name. A larger pack (the first fetch of
a new replica, a long outage) stays a pack.

The pack is thin (its deltas may name bases the repository already has): the
bases are read through the target store, whose alternate is the repository.
Every object's id is the hash of what was inflated, and the pack's trailing
checksum is verified before anything is written.
"""

from __future__ import annotations

import io
import struct
from typing import IO

from dulwich.object_store import DiskObjectStore
from dulwich.pack import PackData, PackInflater

#: Packs of fewer objects than this become loose objects (git's default unpackLimit)...
UNPACK_LIMIT = 100
#: ... when they are this small (bytes): the pack is read into memory to be inflated.
UNPACK_MAX_BYTES = 4 << 20
_HEADER = struct.Struct(">4sLL")


def pack_objects(head: bytes) -> int | None:
    """The number of objects a pack says it holds (None: not a pack header)."""
    if len(head) < _HEADER.size:
        return None
    signature, version, count = _HEADER.unpack_from(head)
    if signature != b"PACK" or version not in (2, 3):
        return None
    return int(count)


def store_pack(target: DiskObjectStore, pack: IO[bytes], size: int) -> int:
    """Add the pack read from ``pack`` (``size`` bytes, at its start) to ``target``:
    as loose objects when it holds fewer than :data:`UNPACK_LIMIT` in at most
    :data:`UNPACK_MAX_BYTES`, else as a pack. Returns how many objects were
    written loose (0: kept as a pack). A damaged pack raises before anything is
    written; objects are written one by one as they are inflated (``target`` is a
    quarantine: a failure part way leaves nothing in the repository)."""
    count = pack_objects(pack.read(_HEADER.size))
    pack.seek(0)
    if count is None or count >= UNPACK_LIMIT or size > UNPACK_MAX_BYTES:
        target.add_thin_pack(pack.read, None)
        return 0
    data = PackData.from_file(io.BytesIO(pack.read(size)), target.object_format, size=size)
    written = 0
    try:
        data.check()
        for obj in PackInflater.for_pack_data(data, resolve_ext_ref=target.get_raw):
            target.add_object(obj)
            written += 1
    finally:
        data.close()
    return written


__all__ = ["UNPACK_LIMIT", "UNPACK_MAX_BYTES", "pack_objects", "store_pack"]
