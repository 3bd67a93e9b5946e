"""Checking again, in batches, that held requests' tokens were not revoked.

A long-poll is authorized when it arrives and may answer minutes later; by then
its token may be revoked (through the API or by ``drago token revoke`` in another
process), so the token is looked up again before the answer. One commit can
wake thousands of held requests at the same moment: they share one look-up in
one worker thread instead of taking one thread hop each.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Protocol

import anyio
import anyio.to_thread


class TokenLookup(Protocol):
    def existing(self, token_ids: Collection[str]) -> set[str]:
        """Which of ``token_ids`` are tokens (not revoked)."""
        ...


@dataclass
class _Batch:
    ids: set[str] = field(default_factory=set)
    done: anyio.Event = field(default_factory=anyio.Event)
    found: set[str] = field(default_factory=set)
    error: BaseException | None = None


class TokenRecheck:
    """``await recheck.valid(token_id)``: whether the token still exists.

    The first caller opens a batch, lets every request that woke in the same
    moment join it, and looks all of them up in one worker-thread call; callers
    arriving while that runs open the next batch.
    """

    def __init__(self, tokens: TokenLookup) -> None:
        self._tokens = tokens
        self._open: _Batch | None = None

    async def valid(self, token_id: str) -> bool:
        batch = self._open
        if batch is not None:
            batch.ids.add(token_id)
            await batch.done.wait()
        else:
            batch = self._open = _Batch({token_id})
            # Shielded: the requests that joined wait for this answer even when the
            # one that opened the batch goes away (its client hung up).
            with anyio.CancelScope(shield=True):
                await anyio.sleep(0)  # the others woken with this one join now
                self._open = None
                try:
                    batch.found = await anyio.to_thread.run_sync(
                        self._tokens.existing, frozenset(batch.ids)
                    )
                except Exception as exc:
                    batch.error = exc
                finally:
                    batch.done.set()
        if batch.error is not None:
            raise batch.error
        return token_id in batch.found
