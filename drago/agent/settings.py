"""Agent settings: command line over ``DRAGO_AGENT_*`` environment over a TOML file.

Nothing is read at import time: :func:`load_settings` gets the parsed command
line values, the environment and the optional file explicitly.

``server`` is one URL or several, in order of preference (``--server`` given
again, a TOML list, or URLs separated by spaces in ``DRAGO_AGENT_SERVER``);
:mod:`drago.agent.failover` uses them.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import httpx
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from drago.errors import InvalidRequest

ENV_PREFIX = "DRAGO_AGENT_"
DEFAULT_STATE_DIR = Path("/var/lib/drago-agent")
MAX_SERVERS = 16
MAX_URL_LENGTH = 2000


def check_server_url(url: str) -> None:
    """A server's base URL: ``http(s)://host[:port][/path]``, printable ASCII without
    spaces, no user name or password (the token is the credential), no query or
    fragment. It goes into the log and the status report."""
    if len(url) > MAX_URL_LENGTH or not url.isascii() or not url.isprintable() or " " in url:
        raise ValueError(f"{url[:80]!r} is not a server URL")
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise ValueError(f"{url!r} is not a server URL: {exc}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(f"{url!r} is not a server URL (http:// or https:// and a host)")
    if parsed.userinfo or parsed.query or parsed.fragment or "#" in url:
        raise ValueError(f"{url!r}: a server URL has no user, password, query or fragment")


class AgentSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    server: tuple[str, ...] = Field(
        min_length=1,
        max_length=MAX_SERVERS,
        description="base URLs of the drago servers, in order of preference",
    )
    token: str = Field(default="", repr=False, description="node token")
    token_file: Path | None = Field(default=None, description="file holding the node token")
    state_dir: Path = DEFAULT_STATE_DIR
    backend: Literal["auto", "kernel", "userspace"] = "auto"
    wireguard_go: str = "wireguard-go"
    ca_file: Path | None = None
    #: Seconds between drift checks (no server request needed).
    drift_interval: float = Field(default=60.0, gt=0)
    #: Seconds between status reports when nothing changes.
    status_interval: float = Field(default=30.0, gt=0)
    #: Seconds a long-poll asks the server to hold the request.
    poll_wait: float = Field(default=25.0, ge=0)
    #: Upper bound of the retry delay when the server is unreachable.
    max_backoff: float = Field(default=60.0, gt=0)
    #: Seconds on another server before the first one is asked again.
    failback_after: float = Field(default=60.0, gt=0)

    @field_validator("server", mode="before")
    @classmethod
    def _split_servers(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(value.split())
        return value

    @field_validator("server")
    @classmethod
    def _check_servers(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for url in value:
            check_server_url(url)
        if len(set(value)) != len(value):
            raise ValueError("a server is listed twice")
        return value

    @model_validator(mode="after")
    def _read_token(self) -> AgentSettings:
        if not self.token and self.token_file is not None:
            try:
                token = self.token_file.read_text().strip()
            except OSError as exc:
                raise ValueError(f"token_file: {exc}") from None
            object.__setattr__(self, "token", token)
        if not self.token:
            raise ValueError(
                "a node token is required (--token, --token-file or DRAGO_AGENT_TOKEN)"
            )
        return self


FIELDS = tuple(AgentSettings.model_fields)


def load_settings(
    cli: Mapping[str, Any],
    environ: Mapping[str, str],
    config_file: Path | None = None,
) -> AgentSettings:
    """Merge the sources (command line wins, then environment, then file) and validate."""
    values: dict[str, Any] = {}
    if config_file is not None:
        try:
            values.update(tomllib.loads(config_file.read_text()))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise InvalidRequest(f"{config_file}: {exc}") from None
    for name in FIELDS:
        raw = environ.get(ENV_PREFIX + name.upper())
        if raw is not None:
            values[name] = raw
    values.update({k: v for k, v in cli.items() if v is not None and k in FIELDS})
    try:
        return AgentSettings.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        raise InvalidRequest(f"agent settings: {problems}") from None
