from __future__ import annotations

import pytest

from tests.support.netns import lab

__all__ = ["lab"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
