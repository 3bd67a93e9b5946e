from __future__ import annotations

import stat
from pathlib import Path

import pytest

from drago.errors import ConfigError, InvalidRequest
from drago.server.app import open_context
from drago.server.context import ServerContext
from drago.server.endpoint import Role
from drago.server.settings import Settings


def close(ctx: ServerContext) -> None:
    """Close the database a context opened on a data directory always has."""
    assert ctx.database is not None
    ctx.database.close()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_first_start_creates_a_private_data_directory(tmp_path: Path, example_repo: Path) -> None:
    data = tmp_path / "data"
    opened = open_context(Settings(data=data, init_from=example_repo))
    try:
        assert opened.created and opened.imported is not None
        assert mode(data) == 0o700
        assert mode(data / "runtime.sqlite") == 0o600
        assert mode(data / "bootstrap-token") == 0o600
        assert mode(data / "server-key") == 0o600
        secret = (data / "bootstrap-token").read_text().strip()
        assert secret == opened.bootstrap_secret
        principal = opened.ctx.tokens.authenticate(secret)
        assert principal is not None and principal.role is Role.admin
        head = opened.ctx.store.head("main")
        assert head == opened.imported
        paths = {f.path for f in opened.ctx.store.files(head)}
        assert "nodes/fra-1.toml" in paths and "networks/backbone.toml" in paths
    finally:
        close(opened.ctx)


def test_restart_keeps_everything_and_ignores_init_from(tmp_path: Path, example_repo: Path) -> None:
    data = tmp_path / "data"
    first = open_context(Settings(data=data, init_from=example_repo))
    _, reader = first.ctx.tokens.create(Role.reader)
    head = first.ctx.store.head("main")
    close(first.ctx)
    again = open_context(Settings(data=data, init_from=example_repo))
    try:
        assert not again.created
        assert again.imported is None
        assert again.bootstrap_secret is None
        assert again.ctx.store.head("main") == head
        assert again.ctx.tokens.authenticate(reader) is not None
        assert again.ctx.server_key is not None and first.ctx.server_key is not None
        assert again.ctx.server_key.public_line() == first.ctx.server_key.public_line()
    finally:
        close(again.ctx)


def test_invalid_init_from_creates_nothing(tmp_path: Path, example_repo: Path) -> None:
    source = tmp_path / "repo"
    source.mkdir()
    for sub in ("networks", "nodes"):
        (source / sub).mkdir()
        for f in (example_repo / sub).iterdir():
            (source / sub / f.name).write_bytes(f.read_bytes())
    node = source / "nodes" / "fra-1.toml"
    node.write_text(node.read_text().replace("10.20.0.1/16", "10.99.0.1/16"))
    with pytest.raises(ConfigError):
        open_context(Settings(data=tmp_path / "data", init_from=source))
    assert not (tmp_path / "data").exists()


def test_refuses_a_foreign_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "important.txt").write_text("x")
    with pytest.raises(InvalidRequest, match="not a drago data directory"):
        open_context(Settings(data=tmp_path / "data"))


def test_start_without_init_from_serves_an_empty_repository(tmp_path: Path) -> None:
    opened = open_context(Settings(data=tmp_path / "data"))
    try:
        assert opened.ctx.store.head("main") is None
        assert opened.bootstrap_secret is not None
    finally:
        close(opened.ctx)


def test_the_servers_repository_syncs_objects_to_disk(tmp_path: Path) -> None:
    """A repository made before this setting existed gets it at the next start."""
    settings = Settings(data=tmp_path / "data")
    opened = open_context(settings)
    close(opened.ctx)
    config = settings.data / "repo.git" / "config"
    config.write_text(config.read_text().replace("fsyncObjectFiles = true", ""))
    again = open_context(settings)
    try:
        assert "fsyncObjectFiles = true" in config.read_text()
    finally:
        close(again.ctx)
