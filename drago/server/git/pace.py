"""A git client's pace: too slow for too long ends its request.

``git_io_timeout`` bounds each wait on a client, but a client that sends (or
takes) one byte just before every deadline would hold one of git's few turns
for as long as it likes. :class:`ClientPace` adds the second bound: the time
the server spends waiting on one request's client is summed, and once it
exceeds ``grace`` seconds the client must have moved at least ``min_rate``
bytes per second of that waiting, on average. The server's own work (packing
objects, checking a push) is not counted, so a slow server never blames the
client. With the defaults (30 s grace, 1 KiB/s) a trickling client is cut off
after about a minute; an honest client on a slow link (well above 1 KiB/s)
is never.
"""

from __future__ import annotations

import threading


class ClientPace:
    """Bytes moved and seconds waited for one request's client (thread-safe)."""

    def __init__(self, *, min_rate: float, grace: float) -> None:
        self.min_rate = min_rate
        self.grace = grace
        self._waited = 0.0
        self._moved = 0
        self._lock = threading.Lock()

    def record(self, seconds: float, nbytes: int) -> bool:
        """Count one wait on the client that moved ``nbytes``; False when the
        client is now too slow (its request should end)."""
        with self._lock:
            self._waited += max(seconds, 0.0)
            self._moved += nbytes
            return self._waited <= self.grace or self._moved >= self.min_rate * self._waited

    @property
    def waited(self) -> float:
        return self._waited

    @property
    def moved(self) -> int:
        return self._moved

    def describe(self) -> str:
        return (
            f"{self._moved} bytes in {self._waited:.0f} s of waiting,"
            f" slower than {self.min_rate:g} bytes/s (git_min_rate)"
        )


__all__ = ["ClientPace"]
