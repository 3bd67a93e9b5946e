"""Inflated-size limits of a pushed pack, checked as the pack streams in.

A pack entry declares the size its object inflates to before the compressed
data; a delta declares the size of the object it builds in its first bytes.
dulwich inflates each entry in memory and refuses one that inflates past its
declared size, so refusing every declared size over the limit bounds what a
push can make the server inflate: 1 GB of zeros packs to about 1 MB, and
would otherwise be accepted under ``max_push`` and inflated whole.

:class:`PackSizeGuard` sits between the request body and dulwich's pack
reader and parses the same bytes as they pass: entry headers, delta headers,
and each entry's zlib stream (inflated here in small pieces and thrown away,
only to find where the entry ends and to hold it to its declared size). It
raises :class:`~drago.errors.PushRejected` as soon as an entry's header
declares too much, before dulwich reads the entry's data. Memory stays bounded
by one read and one piece of output, whatever the object sizes.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

from drago.errors import PushRejected

Read = Callable[[int], bytes]

#: Largest piece of output inflated at once while skipping an entry's data.
PIECE = 64 << 10
#: Pack object types (git's ``object_type``); 6 and 7 are deltas.
TYPES = {1: "commit", 2: "tree", 3: "blob", 4: "tag", 6: "delta", 7: "delta"}
OFS_DELTA, REF_DELTA = 6, 7
HASH_SIZE = 20


class PackSizeGuard:
    """Wraps the two read functions dulwich reads a pack with (see
    ``DiskObjectStore.add_thin_pack``) and checks the sizes in what they return."""

    def __init__(self, read_all: Read, read_some: Read, *, max_object: int, max_total: int) -> None:
        self._read_all = read_all
        self._read_some = read_some
        self.max_object = max_object
        self.max_total = max_total
        #: Bytes the pack's objects inflate to, as declared (deltas: what they build).
        self.total = 0
        self._pending = bytearray()  # bytes of a header not complete yet
        self._objects: int | None = None  # entries in the pack, once its header is read
        self._index = 0  # entries fully passed
        self._inflate: zlib._Decompress | None = None  # the current entry's data
        self._declared = 0  # its declared inflated size
        self._inflated = 0
        self._delta_head: bytearray | None = None  # a delta's first output bytes
        self._kind = ""

    # -- what dulwich calls ------------------------------------------------------------
    def read(self, size: int) -> bytes:
        data = self._read_all(size)
        self._feed(data)
        return data

    def recv(self, size: int) -> bytes:
        data = self._read_some(size)
        self._feed(data)
        return data

    # -- the parser --------------------------------------------------------------------
    def _feed(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            if self._objects is not None and self._index >= self._objects:
                return  # the trailer
            if self._inflate is not None:
                view = self._entry_data(view)
            else:
                view = self._header(view)

    def _header(self, view: memoryview) -> memoryview:
        """Collect a header byte by byte (headers are a few bytes); act when complete."""
        while view:
            self._pending.append(view[0])
            view = view[1:]
            if self._objects is None:
                if len(self._pending) == 12:
                    self._pack_header(bytes(self._pending))
                    self._pending.clear()
                    return view
            elif self._entry_header_complete():
                self._start_entry(bytes(self._pending))
                self._pending.clear()
                return view
        return view

    def _pack_header(self, head: bytes) -> None:
        if head[:4] != b"PACK":
            raise PushRejected("bad pack: no pack signature")
        self._objects = int.from_bytes(head[8:12], "big")

    def _entry_header_complete(self) -> bool:
        head = self._pending
        end = _varint_end(head, 0)
        if end is None:
            return False
        kind = (head[0] >> 4) & 7
        if kind == OFS_DELTA:
            return _varint_end(head, end) is not None
        if kind == REF_DELTA:
            return len(head) >= end + HASH_SIZE
        return True

    def _start_entry(self, head: bytes) -> None:
        kind = (head[0] >> 4) & 7
        if kind not in TYPES:
            raise PushRejected(f"bad pack: entry {self._index + 1} has unknown type {kind}")
        size, shift, i = head[0] & 15, 4, 0
        while head[i] & 0x80:
            i += 1
            size |= (head[i] & 0x7F) << shift
            shift += 7
        self._kind = TYPES[kind]
        self._declared, self._inflated = size, 0
        self._check(size)
        if self._kind != "delta":
            self._add(size)
            self._delta_head = None
        else:
            self._delta_head = bytearray()
        self._inflate = zlib.decompressobj()

    def _entry_data(self, view: memoryview) -> memoryview:
        inflate = self._inflate
        assert inflate is not None
        pending: bytes | memoryview = view
        while pending:
            try:
                out = inflate.decompress(pending, PIECE)
            except zlib.error as exc:
                raise PushRejected(f"bad pack: entry {self._index + 1}: {exc}") from None
            self._inflated += len(out)
            if self._inflated > self._declared:
                raise PushRejected(
                    f"bad pack: entry {self._index + 1} inflates past its declared size"
                )
            if self._delta_head is not None and len(self._delta_head) < 2 * 10:
                self._delta_head += out[: 20 - len(self._delta_head)]
                self._delta_target()
            if inflate.eof:
                rest = memoryview(inflate.unused_data)
                self._end_entry()
                return rest
            pending = inflate.unconsumed_tail
            if not out and not pending:
                break
        return memoryview(b"")

    def _delta_target(self) -> None:
        """Check what a delta builds once both sizes of its header are in."""
        head = self._delta_head
        assert head is not None
        source_end = _varint_end(head, 0)
        if source_end is None:
            return
        target_end = _varint_end(head, source_end)
        if target_end is None:
            return
        target = _varint(head, source_end)
        self._kind = "object built by a delta"
        self._check(target)
        self._add(target)
        self._delta_head = None

    def _end_entry(self) -> None:
        if self._delta_head is not None:
            raise PushRejected(f"bad pack: entry {self._index + 1} is a truncated delta")
        self._inflate = None
        self._index += 1

    def _check(self, size: int) -> None:
        if size > self.max_object:
            raise PushRejected(
                f"object {self._index + 1} of the push ({self._kind}) inflates to {size} bytes,"
                f" over the limit of {self.max_object} bytes per object (max_push_object)"
            )

    def _add(self, size: int) -> None:
        self.total += size
        if self.total > self.max_total:
            raise PushRejected(
                f"the push's objects inflate to more than {self.max_total} bytes in all"
                " (max_push_inflated)"
            )


def _varint_end(data: bytes | bytearray, start: int) -> int | None:
    """The index after a little-endian base-128 number starting at ``start``."""
    for i in range(start, len(data)):
        if not data[i] & 0x80:
            return i + 1
    return None


def _varint(data: bytes | bytearray, start: int) -> int:
    value, shift, i = 0, 0, start
    while True:
        value |= (data[i] & 0x7F) << shift
        shift += 7
        if not data[i] & 0x80:
            return value
        i += 1
