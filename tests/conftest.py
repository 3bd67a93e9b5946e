from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_REPO = ROOT / "example-repo"


@pytest.fixture
def example_repo() -> Path:
    """The bundled example repository (read it, never write to it)."""
    return EXAMPLE_REPO
