"""The runtime stores under test: every test here runs against SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drago.server.datadir import DataDir
from drago.server.runtime.stores import Runtime, open_runtime


class Backend:
    """Where a test's runtime state lives; :meth:`open` opens it (again)."""

    def __init__(self, name: str, datadir: DataDir, url: str | None) -> None:
        self.name = name
        self.datadir = datadir
        self.url = url
        self.opened: list[Runtime] = []

    def open(self) -> Runtime:
        runtime = open_runtime(self.datadir, self.url)
        self.opened.append(runtime)
        return runtime

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Rows of ``sql`` read directly from the database (what is really stored)."""
        database = self.open().database
        assert hasattr(database, "query")  # both Database and PostgresDatabase have it
        rows: list[tuple[Any, ...]] = database.query(sql)
        return rows

    def close(self) -> None:
        for runtime in self.opened:
            runtime.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    datadir = DataDir(tmp_path / "data")
    datadir.ensure_root()
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    store = Backend(request.param, datadir, url)
    yield store
    store.close()


@pytest.fixture
def runtime(backend: Backend) -> Runtime:
    return backend.open()
