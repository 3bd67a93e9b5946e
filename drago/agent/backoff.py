"""Exponential backoff with jitter for retries against the server."""

from __future__ import annotations

import random
from collections.abc import Callable


class Backoff:
    """Delays ``initial * factor**n`` capped at ``maximum``, each scaled into [d/2, d]."""

    def __init__(
        self,
        initial: float = 1.0,
        maximum: float = 60.0,
        factor: float = 2.0,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.initial = initial
        self.maximum = maximum
        self.factor = factor
        self.rng = rng
        self.failures = 0

    def next(self) -> float:
        """The delay before the next attempt; each call counts one more failure."""
        ceiling = min(self.maximum, self.initial * self.factor**self.failures)
        self.failures += 1
        return ceiling / 2 + self.rng() * ceiling / 2

    def reset(self) -> None:
        self.failures = 0
