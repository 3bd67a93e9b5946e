"""The SSH wire encoding (RFC 4251): length-prefixed strings and 32-bit integers."""

from __future__ import annotations

import struct

from drago.errors import SignatureError


def string(data: bytes) -> bytes:
    """An SSH ``string``: a big-endian 32-bit length, then the bytes."""
    return struct.pack(">I", len(data)) + data


def uint32(value: int) -> bytes:
    return struct.pack(">I", value)


class Reader:
    """Reads SSH wire values from a buffer; a short buffer is a SignatureError."""

    def __init__(self, data: bytes, what: str) -> None:
        self._data = data
        self._pos = 0
        self._what = what

    def raw(self, size: int) -> bytes:
        end = self._pos + size
        if end > len(self._data):
            raise SignatureError(f"{self._what} is truncated")
        chunk = self._data[self._pos : end]
        self._pos = end
        return chunk

    def uint32(self) -> int:
        value: int = struct.unpack(">I", self.raw(4))[0]
        return value

    def string(self) -> bytes:
        return self.raw(self.uint32())

    def rest(self) -> bytes:
        chunk = self._data[self._pos :]
        self._pos = len(self._data)
        return chunk

    @property
    def done(self) -> bool:
        return self._pos == len(self._data)
