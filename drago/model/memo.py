"""Results derived from parsed models, remembered across revisions.

Parsed models are immutable and shared between revisions by the parse cache
(an unchanged file is the same object in every revision), so what is derived
from them can be keyed by their identity. Each entry keeps its source objects
alive and is checked with ``is``, so a recycled ``id()`` never matches.

A memo belongs to its owner (:class:`drago.model.validate.Validator`); work on
content that will not be seen again (a dry run of request-supplied files) reads
it with ``remember=False``, so the request's state is released when it ends.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class IdentityMemo(Generic[V]):
    """``get_or_compute(sources, extra, compute)``: the value for these source
    objects (by identity) and ``extra`` (by equality); forgets everything when
    full (the next validation refills it)."""

    def __init__(self, size: int = 100_000) -> None:
        self.size = size
        self._items: dict[Hashable, tuple[tuple[object, ...], V]] = {}
        self._lock = threading.Lock()

    def get_or_compute(
        self,
        sources: tuple[object, ...],
        extra: Hashable,
        compute: Callable[[], V],
        *,
        remember: bool = True,
    ) -> V:
        key = (tuple(id(s) for s in sources), extra)
        entry = self._items.get(key)
        if entry is not None and all(a is b for a, b in zip(entry[0], sources, strict=True)):
            return entry[1]
        value = compute()
        if not remember:
            return value
        with self._lock:
            if len(self._items) >= self.size:
                self._items.clear()
            self._items[key] = (sources, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
