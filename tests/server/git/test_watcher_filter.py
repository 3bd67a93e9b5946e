"""Which paths of the bare repository wake the watcher."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
import watchfiles

from drago.server.git import RefWatcher


async def nothing() -> None:
    pass


@pytest.mark.parametrize(
    ("relative", "relevant"),
    [
        ("refs/heads/main", True),
        ("packed-refs", True),
        ("HEAD", True),
        ("refs/heads/main.lock", False),
        ("packed-refs.lock", False),
        ("objects/ab/cdef", False),
        ("objects/incoming-1234/pack/pack-1.pack", False),
    ],
)
def test_relevant_paths(tmp_path: Path, relative: str, relevant: bool) -> None:
    watcher = RefWatcher(tmp_path, nothing)
    path = str(tmp_path.resolve() / relative)
    assert watcher.relevant(watchfiles.Change.modified, path) is relevant


def test_start_and_stop_call_back_on_ref_changes(tmp_path: Path) -> None:
    (tmp_path / "refs" / "heads").mkdir(parents=True)
    (tmp_path / "objects").mkdir()
    calls: list[int] = []

    async def changed() -> None:
        calls.append(1)

    async def scenario() -> None:
        watcher = RefWatcher(tmp_path, changed)
        await watcher.start()
        try:
            (tmp_path / "objects" / "ignored").write_text("x")
            await anyio.sleep(0.3)
            assert calls == []
            (tmp_path / "refs" / "heads" / "main").write_text("0" * 40 + "\n")
            with anyio.fail_after(2):
                while not calls:
                    await anyio.sleep(0.01)
        finally:
            await watcher.stop()

    anyio.run(scenario)
