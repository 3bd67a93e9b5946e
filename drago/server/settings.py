"""Server settings and where they come from.

Precedence, highest first: command-line flags, ``DRAGO_*`` environment
variables, the TOML file given with ``--config`` (or ``DRAGO_CONFIG``), then the
defaults below. Each setting has one name used in all three places: the flag
``--max-wait``, the variable ``DRAGO_MAX_WAIT`` and the TOML key ``max_wait``.
Nothing is read from the environment at import time: :func:`load_settings`
receives the environment it should use.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from drago.errors import InvalidRequest
from drago.server.replica.url import primary_url
from drago.server.runtime.url import check_url

ENV_PREFIX = "DRAGO_"
LogFormat = Literal["logfmt", "json"]


class Settings(BaseModel):
    """Everything ``drago server`` can be told; immutable once loaded."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    data: Path = Field(description="data directory (repository, runtime database, keys)")
    listen: str = Field("127.0.0.1:8080", description="HOST:PORT to listen on (port 0: any)")
    init_from: Path | None = Field(None, description="directory imported as the first commit")
    database: str | None = Field(
        None,
        description="PostgreSQL URL (postgresql://USER@HOST/DB) of the runtime database "
        "(tokens, node status, trusted signers) that servers share; default: DIR/runtime.sqlite",
    )
    branch: str = Field("main", description="the live branch")
    max_wait: float = Field(60.0, gt=0, description="upper bound of ?wait= for long-polls (s)")
    max_body: int = Field(1 << 20, gt=0, description="largest accepted API request body (bytes)")
    max_push: int = Field(256 << 20, gt=0, description="largest accepted git push body (bytes)")
    max_fetch: int = Field(
        4 << 20, gt=0, description="largest accepted clone/fetch request body (bytes)"
    )
    max_push_object: int = Field(
        1 << 20, gt=0, description="largest object a push may bring, inflated (bytes)"
    )
    max_push_inflated: int = Field(
        1 << 30, gt=0, description="most bytes a push's objects may inflate to in all"
    )
    max_topology: int = Field(
        5_000_000,
        gt=0,
        description="largest topology a dry run may bring (peer entries + selector matches)",
    )
    heavy_requests: int = Field(
        1, gt=0, description="expensive requests (validate, plans, merges) run at once"
    )
    heavy_queue: int = Field(
        8, ge=0, description="expensive requests that may wait for a turn; beyond: 503"
    )
    git_concurrency: int = Field(
        8, gt=0, description="git requests (clone, fetch, push) served at once, each a thread"
    )
    git_wait: float = Field(
        10.0, ge=0, description="how long a git request waits for a turn; then 503 (s)"
    )
    git_io_timeout: float = Field(
        30.0, gt=0, description="longest wait for a git client to send or take data (s)"
    )
    git_min_rate: float = Field(
        1024.0,
        ge=0,
        description=(
            "bytes per second a git client must move, averaged over the time the server"
            " waits on it, once that time passes git_io_timeout; 0 turns it off"
        ),
    )
    tls_cert: Path | None = Field(None, description="TLS certificate (PEM); needs tls_key")
    tls_key: Path | None = Field(None, description="TLS private key (PEM)")
    public_url: str | None = Field(None, description="URL people use to reach the server")
    log_format: LogFormat = Field("logfmt", description="request log lines: logfmt or json")
    shutdown_timeout: float = Field(3.0, ge=0, description="grace period on SIGTERM (s)")
    replica_of: str | None = Field(
        None, description="URL of the primary: serve as its replica (docs/scaling.md)"
    )
    replica_fetch_interval: float = Field(
        10.0, gt=0, description="a replica fetches from the primary at least this often (s)"
    )
    replica_token: SecretStr | None = Field(
        None,
        description="reader token for the primary (environment or file only; "
        "default: the replica's own, kept in DIR/replica-token)",
    )

    @field_validator("replica_of")
    @classmethod
    def _check_replica_of(cls, value: str | None) -> str | None:
        return None if value is None else primary_url(value)

    @field_validator("listen")
    @classmethod
    def _check_listen(cls, value: str) -> str:
        split_listen(value)
        return value

    @field_validator("database")
    @classmethod
    def _check_database(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return check_url(value)
        except InvalidRequest as exc:
            raise ValueError(exc.message) from None

    @property
    def host(self) -> str:
        return split_listen(self.listen)[0]

    @property
    def port(self) -> int:
        return split_listen(self.listen)[1]

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None

    def base_url(self, port: int | None = None) -> str:
        """The URL to print: ``public_url`` or one built from the listen address."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = self.host
        if host in ("0.0.0.0", ""):
            host = "127.0.0.1"
        elif ":" in host:
            host = f"[{host}]"
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{host}:{self.port if port is None else port}"


def split_listen(value: str) -> tuple[str, int]:
    """``"127.0.0.1:8080"`` -> ``("127.0.0.1", 8080)``; IPv6 as ``[::1]:8080``."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"{value!r} is not HOST:PORT (like 127.0.0.1:8080)")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host:
        raise ValueError(f"{value!r} has no host (like 127.0.0.1:8080)")
    return host, int(port)


def setting_names() -> list[str]:
    return list(Settings.model_fields)


def _from_env(env: Mapping[str, str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for name in setting_names():
        value = env.get(ENV_PREFIX + name.upper())
        if value is not None and value != "":
            found[name] = value
    return found


def _from_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            raw = tomllib.load(handle)
    except OSError as exc:
        raise InvalidRequest(f"{path}: cannot read config file: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidRequest(f"{path}: not valid TOML: {exc}") from None
    unknown = sorted(set(raw) - set(setting_names()))
    if unknown:
        raise InvalidRequest(
            f"{path}: unknown setting(s) {', '.join(unknown)}",
            details={"known": setting_names()},
        )
    base = path.parent
    for key in ("data", "init_from", "tls_cert", "tls_key"):
        value = raw.get(key)
        if isinstance(value, str) and not Path(value).is_absolute():
            raw[key] = str(base / value)  # relative to the config file
    return raw


def load_settings(
    flags: Mapping[str, Any],
    env: Mapping[str, str],
    config_file: Path | None = None,
) -> Settings:
    """Merge flags (None = not given) over ``DRAGO_*`` variables over the TOML file.

    ``config_file`` falls back to ``DRAGO_CONFIG`` when not given.
    """
    if config_file is None and env.get(ENV_PREFIX + "CONFIG"):
        config_file = Path(env[ENV_PREFIX + "CONFIG"])
    merged: dict[str, Any] = {}
    if config_file is not None:
        merged.update(_from_file(config_file))
    merged.update(_from_env(env))
    merged.update({k: v for k, v in flags.items() if v is not None})
    if "data" not in merged:
        raise InvalidRequest("no data directory: give --data DIR (or DRAGO_DATA)")
    try:
        settings = Settings.model_validate(merged)
    except ValidationError as exc:
        details = [
            {"field": ".".join(str(p) for p in err["loc"]), "message": err["msg"]}
            for err in exc.errors(include_url=False, include_input=False)
        ]
        raise InvalidRequest(
            "invalid settings: " + "; ".join(f"{d['field']}: {d['message']}" for d in details),
            details=details,
        ) from None
    if (settings.tls_cert is None) != (settings.tls_key is None):
        raise InvalidRequest("--tls-cert and --tls-key must be given together")
    return settings
