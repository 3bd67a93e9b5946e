from __future__ import annotations

from pathlib import Path

import pytest

from drago.errors import InvalidRequest
from drago.server.settings import load_settings, split_listen


def test_defaults(tmp_path: Path) -> None:
    settings = load_settings({"data": tmp_path}, {})
    assert settings.listen == "127.0.0.1:8080"
    assert settings.max_wait == 60.0
    assert settings.base_url() == "http://127.0.0.1:8080"


def test_flags_beat_environment_beat_file(tmp_path: Path) -> None:
    config = tmp_path / "drago.toml"
    config.write_text('data = "d"\nmax_wait = 10\nlisten = "127.0.0.1:1"\nbranch = "live"\n')
    env = {"DRAGO_MAX_WAIT": "20", "DRAGO_LISTEN": "127.0.0.1:2"}
    settings = load_settings({"listen": "127.0.0.1:3", "max_wait": None}, env, config)
    assert settings.listen == "127.0.0.1:3"  # flag
    assert settings.max_wait == 20.0  # environment over file
    assert settings.branch == "live"  # file over default
    assert settings.data == tmp_path / "d"  # relative to the config file


def test_config_file_from_environment(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(f'data = "{tmp_path}"\nmax_body = 10\n')
    settings = load_settings({}, {"DRAGO_CONFIG": str(config)})
    assert settings.max_body == 10


@pytest.mark.parametrize(
    ("flags", "env", "text", "fragment"),
    [
        ({}, {}, None, "no data directory"),
        ({"data": "/x", "listen": "nope"}, {}, None, "listen"),
        ({"data": "/x"}, {"DRAGO_MAX_WAIT": "-1"}, None, "max_wait"),
        ({"data": "/x", "tls_cert": "/c"}, {}, None, "together"),
        ({"data": "/x"}, {}, "surprise = 1\n", "unknown setting"),
        ({"data": "/x"}, {}, "data = [", "not valid TOML"),
    ],
)
def test_bad_settings_are_reported(
    tmp_path: Path, flags: dict[str, object], env: dict[str, str], text: str | None, fragment: str
) -> None:
    config = None
    if text is not None:
        config = tmp_path / "c.toml"
        config.write_text(text)
    with pytest.raises(InvalidRequest, match=fragment):
        load_settings(flags, env, config)


def test_split_listen() -> None:
    assert split_listen("[::1]:80") == ("::1", 80)
    assert split_listen("0.0.0.0:0") == ("0.0.0.0", 0)
    for bad in ("8080", ":8080", "host:x", "h:70000"):
        with pytest.raises(ValueError):
            split_listen(bad)


@pytest.mark.parametrize("url", ["sqlite:///x.db", "db.example.org", "postgresql://"])
def test_the_database_must_be_a_postgresql_url(tmp_path: Path, url: str) -> None:
    with pytest.raises(InvalidRequest, match=r"database: .*postgresql://USER@HOST/DB"):
        load_settings({"data": tmp_path, "database": url}, {})


def test_a_refused_database_url_does_not_show_its_password(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequest) as raised:
        load_settings({"data": tmp_path}, {"DRAGO_DATABASE": "mysql://u:s3cret@h/db"})
    assert "s3cret" not in raised.value.message
    assert "s3cret" not in str(raised.value.details)
