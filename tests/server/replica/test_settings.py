"""What a replica is told: --replica-of and its companions, refused when they cannot work."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from drago.errors import InvalidRequest
from drago.server.app import open_context
from drago.server.settings import Settings, load_settings


def test_replica_settings_come_from_flags_and_the_token_from_the_environment(
    tmp_path: Path,
) -> None:
    settings = load_settings(
        {"data": tmp_path, "replica_of": "http://127.0.0.1:8080/"},
        {"DRAGO_REPLICA_TOKEN": "drago_secret", "DRAGO_REPLICA_FETCH_INTERVAL": "2.5"},
    )
    assert settings.replica_of == "http://127.0.0.1:8080"
    assert settings.replica_fetch_interval == 2.5
    assert settings.replica_token is not None
    assert settings.replica_token.get_secret_value() == "drago_secret"
    assert "drago_secret" not in repr(settings)


def test_a_bad_primary_url_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequest, match=r"replica_of: .*must not hold credentials"):
        load_settings({"data": tmp_path, "replica_of": "http://x:pw@host"}, {})


def test_a_replica_without_a_shared_database_or_token_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequest, match="shares the primary's runtime database"):
        open_context(Settings(data=tmp_path / "data", replica_of="http://127.0.0.1:9"))
    assert not (tmp_path / "data").exists()


def test_a_replica_takes_no_init_from(tmp_path: Path, example_repo: Path) -> None:
    with pytest.raises(InvalidRequest, match="no --init-from"):
        open_context(
            Settings(
                data=tmp_path / "data",
                init_from=example_repo,
                replica_of="http://127.0.0.1:9",
                replica_token=SecretStr("drago_x"),
            )
        )
