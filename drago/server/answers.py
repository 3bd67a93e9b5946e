"""Config answer bodies: built once per hash, shared by every waiter.

When a commit changes a node's config, every agent (and UI) long-polling that
node is woken at once; they all get the same bytes. :class:`ConfigAnswers`
builds a body lazily, the first time one is asked for, and keeps it in a
:class:`BodyCache` (least recently used, bounded by bytes) under
``(node, base hash or None, hash, revision, gzip)``: a full config, or a delta
against a base (:meth:`drago.render.result.RenderResult.delta_document`), plain
or gzip-compressed. A delta that is not smaller than the full config is cached
as the full config under the delta's key, so the next waiter does not build it
again. A body carries its response head too (status and raw headers, encoded
once), so answering a waiter is two sends of prepared bytes. Nothing here
awaits: a body is built and cached before any other request handler runs, so
waiters never build the same body twice.
"""

from __future__ import annotations

import functools
import gzip
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Literal

from drago.errors import NotFound
from drago.render.delta import DELTA_IM, MEDIA_TYPE
from drago.render.result import RenderResult
from drago.server.metrics import Metrics
from drago.server.nosniff import NOSNIFF

#: Deltas at most this long are sent uncompressed (gzip would save next to nothing).
GZIP_DELTA_ABOVE = 1024
#: Cached bodies take at most this much memory by default.
DEFAULT_CACHE_BYTES = 64 << 20
#: What a cached body costs besides its data, per key: the body object, its
#: response head, the cache's key and entry (measured with tracemalloc: about
#: 910 bytes for a delta under one key, 700 for a full config; rounded up). A
#: bound on data alone let 64 MiB of 226-byte deltas take about 600 MiB.
ENTRY_COST = 1024
#: zlib level: on a 1,000-peer config (198 KB) level 1 gives 50.5 KB in 1.4 ms of
#: CPU, level 6 49 KB in 2.2 ms: the level that costs least per byte saved.
GZIP_LEVEL = 1

Kind = Literal["full", "delta"]
#: node, base hash (None: the full config), hash, revision, gzip
Key = tuple[str, str | None, str, str | None, bool]
#: Raw (lower-case name, value) header pairs of a response, as ASGI sends them.
Head = tuple[tuple[bytes, bytes], ...]
#: On every answer whose body depends on these request headers.
VARY = "A-IM, Accept-Encoding"


@dataclass(frozen=True, slots=True)
class Body:
    """One answer body as sent: ``data`` is gzip-compressed when ``encoding`` says so;
    ``status`` and ``head`` are its response's status and headers."""

    kind: Kind
    digest: str
    base: str | None
    data: bytes
    encoding: str | None = None
    status: int = field(init=False, repr=False, compare=False)
    head: Head = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", 226 if self.kind == "delta" else 200)
        object.__setattr__(self, "head", answer_head(self))

    @property
    def cost(self) -> int:
        """What keeping this body under one key costs the cache, in bytes."""
        return len(self.data) + ENTRY_COST


def etag(digest: str) -> str:
    return f'"{digest}"'


def answer_head(body: Body) -> Head:
    """The headers of ``body``'s answer: a 200 with the full config (``ETag`` its
    hash), or a 226 delta (``IM``, ``Delta-Base`` its base); ``nosniff`` too, as
    on every answer (:mod:`drago.server.nosniff`)."""
    media_type = MEDIA_TYPE if body.kind == "delta" else "application/json"
    headers = [
        _encoded("content-length", str(len(body.data))),
        _shared("content-type", media_type),
        _shared("cache-control", "no-cache"),
        _encoded("etag", etag(body.digest)),
        _shared("vary", VARY),
    ]
    if body.encoding is not None:
        headers.append(_shared("content-encoding", body.encoding))
    if body.kind == "delta":
        headers.append(_shared("im", DELTA_IM))
        headers.append(_encoded("delta-base", etag(body.base or "")))
    return (*headers, NOSNIFF)


def _encoded(name: str, value: str) -> tuple[bytes, bytes]:
    return name.encode(), value.encode("latin-1")


@functools.lru_cache(maxsize=32)
def _shared(name: str, value: str) -> tuple[bytes, bytes]:
    """A header that many bodies have: encoded once, shared by their heads."""
    return _encoded(name, value)


class BodyCache:
    """Bodies by key, least recently used first out, costing at most ``max_bytes``
    (a body's data and :data:`ENTRY_COST` per key)."""

    def __init__(self, max_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self._bodies: OrderedDict[Key, Body] = OrderedDict()
        self.size = 0
        self.hits = 0
        self.misses = 0
        self.evictions = 0

    def __len__(self) -> int:
        return len(self._bodies)

    def get(self, key: Key) -> Body | None:
        body = self._bodies.get(key)
        if body is None:
            self.misses += 1
            return None
        self.hits += 1
        self._bodies.move_to_end(key)
        return body

    def put(self, key: Key, body: Body) -> None:
        """Keep ``body`` (a body larger than the whole cache is not kept)."""
        old = self._bodies.pop(key, None)
        if old is not None:
            self.size -= old.cost
        if body.cost > self.max_bytes:
            return
        self._bodies[key] = body
        self.size += body.cost
        while self.size > self.max_bytes:
            _, evicted = self._bodies.popitem(last=False)
            self.size -= evicted.cost
            self.evictions += 1


class ConfigAnswers:
    """Full and delta bodies of node configs, from render results, cached."""

    def __init__(self, metrics: Metrics, *, max_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        self._metrics = metrics
        self.cache = BodyCache(max_bytes)
        # Counted on every answer: look the labelled children up once.
        self._answered = {
            (kind, encoding): metrics.config_answers.labels(kind, encoding)
            for kind in ("full", "delta")
            for encoding in ("identity", "gzip")
        }
        self._answered_bytes = {k: metrics.config_answer_bytes.labels(k) for k in ("full", "delta")}

    def answer(
        self,
        node: str,
        result: RenderResult,
        *,
        base: str | None = None,
        base_result: RenderResult | None = None,
        compress: bool = False,
    ) -> Body:
        """``node``'s config in ``result``: a delta from ``base`` (the node's hash in
        ``base_result``) when one is asked for, known and smaller, else the full
        config; gzip-compressed when ``compress`` (deltas only above
        :data:`GZIP_DELTA_ABOVE` bytes). NotFound for a node ``result`` lacks."""
        digest = result.hashes.get(node)
        if digest is None:
            raise NotFound(f"there is no node {node!r} at the live revision")
        if base is not None and base_result is None:
            self._metrics.delta_fallbacks.labels(reason="unknown_base").inc()
            base = None
        key: Key = (node, base, digest, result.revision, compress)
        body = self.cache.get(key)
        if body is None:
            body = self._build(key, result, base_result)
        elif body.kind == "full" and base is not None:
            self._metrics.delta_fallbacks.labels(reason="not_smaller").inc()
        self._answered[body.kind, body.encoding or "identity"].inc()
        self._answered_bytes[body.kind].inc(len(body.data))
        return body

    def _build(self, key: Key, result: RenderResult, base_result: RenderResult | None) -> Body:
        node, base, digest, revision, compress = key
        if compress:
            plain = self.cache.get((node, base, digest, revision, False))
            if plain is None:
                plain = self._build((node, base, digest, revision, False), result, base_result)
            if plain.kind == "delta" and len(plain.data) <= GZIP_DELTA_ABOVE:
                body = plain
            else:
                data = gzip.compress(plain.data, compresslevel=GZIP_LEVEL, mtime=0)
                body = Body(plain.kind, digest, plain.base, data, "gzip")
                self._metrics.config_bodies_built.labels(f"{plain.kind}-gzip").inc()
        elif base is not None and base_result is not None:
            data = result.delta_document(node, base_result)
            if len(data) < result.document_size(node):
                body = Body("delta", digest, base, data)
                self._metrics.config_bodies_built.labels("delta").inc()
            else:
                self._metrics.delta_fallbacks.labels(reason="not_smaller").inc()
                body = self.cache.get((node, None, digest, revision, False)) or self._build(
                    (node, None, digest, revision, False), result, None
                )
        else:
            body = Body("full", digest, None, result.document(node))
            self._metrics.config_bodies_built.labels("full").inc()
        self.cache.put(key, body)
        return body


__all__ = [
    "DEFAULT_CACHE_BYTES",
    "ENTRY_COST",
    "GZIP_DELTA_ABOVE",
    "VARY",
    "Body",
    "BodyCache",
    "ConfigAnswers",
    "Head",
    "answer_head",
    "etag",
]
