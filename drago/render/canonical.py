"""The one canonical JSON encoding and the digests built on it.

Everything the server hashes or serves is encoded here: sorted keys, no
spaces, UTF-8 (no ``\\u`` escapes beyond what JSON requires). It is a module of
its own so that both :mod:`drago.render.config` and
:mod:`drago.render.digestform` (which the config models use to keep their hash
resumable) can import it without importing each other.

This module is imported by the agent: keep it free of server-side imports.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

#: What ``json.dumps(value, sort_keys=True, separators=(",", ":"),
#: ensure_ascii=False)`` builds on every call; immutable once made.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(value: Any) -> bytes:
    """``value`` as sorted-keys compact JSON, UTF-8: the one canonical encoding."""
    return _ENCODER.encode(value).encode()


def canonical_object(members: Mapping[str, bytes]) -> bytes:
    """The canonical JSON of an object given each member's canonical JSON value:
    what :func:`canonical_json` writes for the decoded object (keys sorted the
    same way, the same separators), built without decoding or encoding the values.
    """
    return b"{" + b",".join([canonical_json(k) + b":" + members[k] for k in sorted(members)]) + b"}"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def peer_digest(canonical_peer: bytes) -> str:
    """The digest of one peer: SHA-256 hex of its canonical JSON."""
    return hashlib.sha256(canonical_peer).hexdigest()


def quoted(digest: str) -> bytes:
    """A digest as its canonical JSON (a quoted hex string), ready to join."""
    return b'"' + digest.encode() + b'"'


__all__ = ["canonical_json", "canonical_object", "peer_digest", "quoted", "sha256_hex"]
