"""The agent's view of the server API: whoami, config long-poll, keys, status.

:class:`ServerClient` is the protocol the loop uses (tests inject a fake);
:class:`HttpClient` implements it over httpx. Connection failures and 5xx
answers raise :class:`~drago.errors.ServerUnavailable` (the loop retries with
backoff); 4xx answers raise the matching :mod:`drago.errors` class with the
server's message.

Deltas (``docs/architecture.md``, "Rendered node config"): a long-poll made
while holding the config with the known hash sends ``A-IM: drago-delta``; a
``226 IM Used`` answer carries only what changed, which is applied to the held
config and verified (:func:`drago.render.delta.apply_delta`: the result's hash
must be the delta's). A delta that does not parse, names another base than the
one held, or does not verify is never applied: the whole config is fetched
instead (and checked as always). Bodies may come gzip-compressed.
"""

from __future__ import annotations

import logging
import ssl
from typing import Any, Protocol

import httpx
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from drago import grammar
from drago.errors import (
    ConfigRefused,
    Conflict,
    DeltaMismatch,
    DragoError,
    Forbidden,
    InvalidRequest,
    NotFound,
    ServerUnavailable,
    Unauthorized,
)
from drago.render.config import NodeConfig
from drago.render.delta import DELTA_IM, ConfigDelta, apply_delta

log = logging.getLogger("drago.agent")

API = "/api/v1"
_ERRORS: dict[int, type[DragoError]] = {
    400: InvalidRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    422: InvalidRequest,
}


class ServerClient(Protocol):
    def whoami(self) -> str:
        """The node name the token belongs to."""
        ...

    def config(
        self, node: str, known_hash: str | None, wait: float, held: NodeConfig | None = None
    ) -> NodeConfig | None:
        """The node's config; None when it still has ``known_hash`` after ``wait`` seconds.

        ``held`` is the config the agent holds: when its hash is ``known_hash``,
        the server may send only what changed since (applied to it here)."""
        ...

    def register_key(self, node: str, network: str, public_key: str) -> None: ...

    def report_status(self, node: str, report: dict[str, Any]) -> None: ...

    def server_in_use(self) -> str | None:
        """The URL of the server the requests go to when the agent has several
        (the status report names it); None when it has one."""
        ...

    def close(self) -> None: ...


def _problem(error: ErrorDetails) -> str:
    where = ".".join(str(p) for p in error["loc"]) or "document"
    if error["type"] == "string_pattern_mismatch":
        shown = repr(error["input"])
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        return f"{where}: {shown} is outside the config grammar"
    return f"{where}: {error['msg']}"


def parse_config(body: bytes, served: str | None = None) -> NodeConfig:
    """A config as the server sent it, checked like anything from outside the node:
    intact (the hash matches the content) and every value within the config grammar.
    Raises :class:`ConfigRefused` naming the first problems; ``served`` is the hash
    the server announced for it (the ``ETag``), kept only when it is well-formed."""
    try:
        return NodeConfig.model_validate_json(body)
    except ValidationError as exc:
        problems = "; ".join(_problem(e) for e in exc.errors(include_url=False)[:3])
        more = exc.error_count() - 3
        suffix = f" (and {more} more)" if more > 0 else ""
        raise ConfigRefused(
            f"refused the config from the server: {problems}{suffix}",
            served=served if grammar.matches(grammar.CONFIG_HASH, served) else None,
        ) from None


def _delta_config(response: httpx.Response, base: NodeConfig | None) -> NodeConfig:
    """The config a ``226`` answer makes of ``base``; :class:`DeltaMismatch` (never
    applied) when it was not asked for, names another base than ``base``, does not
    parse within the config grammar, or does not verify."""
    if base is None:
        raise DeltaMismatch("the server sent a delta that was not asked for")
    im = response.headers.get("im", "")
    if im.strip().lower() != DELTA_IM:
        raise DeltaMismatch(f"the server sent a delta of another kind ({server_text(im)})")
    sent_base = response.headers.get("delta-base", "")
    if sent_base != f'"{base.hash}"':
        raise DeltaMismatch(
            f"the server sent a delta against {server_text(sent_base)}, not the config held"
            f" ({base.hash[:12]})"
        )
    try:
        delta = ConfigDelta.model_validate_json(response.content)
    except ValidationError as exc:
        problems = "; ".join(_problem(e) for e in exc.errors(include_url=False)[:3])
        raise DeltaMismatch(f"refused the delta from the server: {problems}") from None
    etag = response.headers.get("etag")
    if etag is not None and etag != f'"{delta.hash}"':
        raise DeltaMismatch(
            f"the delta's hash {delta.hash[:12]} is not its ETag {server_text(etag)}"
        )
    return apply_delta(base, delta)


#: How much of a server's error text the agent keeps (it is logged and reported).
MAX_SERVER_TEXT = 500


def server_text(text: object) -> str:
    """Text the server sent, safe to log: printable text as it is, anything else
    (a line break, a terminal escape, an invisible character) as a quoted Python
    literal with those characters escaped; at most :data:`MAX_SERVER_TEXT` characters."""
    value = str(text)
    if len(value) > MAX_SERVER_TEXT:
        value = value[: MAX_SERVER_TEXT - 3] + "..."
    return value if value.isprintable() else repr(value)


def _error(response: httpx.Response) -> DragoError:
    message = f"server answered {response.status_code}"
    details: Any = None
    try:
        body = response.json()
        error = body["error"]
        message = f"{message}: {server_text(error['message'])}"
        details = error.get("details")
    except (ValueError, KeyError, TypeError):
        pass
    if response.status_code >= 500:
        return ServerUnavailable(message, details=details)
    return _ERRORS.get(response.status_code, InvalidRequest)(message, details=details)


class HttpClient:
    """:class:`ServerClient` over httpx, verifying TLS (``ca_file``) for https."""

    def __init__(
        self,
        server: str,
        token: str,
        *,
        ca_file: str | None = None,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        verify: ssl.SSLContext | bool = True
        if ca_file:
            verify = ssl.create_default_context(cafile=ca_file)
        self.timeout = timeout
        #: Configs received as deltas, and deltas refused (the whole config fetched).
        self.deltas = 0
        self.fallbacks = 0
        self._http = httpx.Client(
            base_url=server.rstrip("/"),
            headers={"Authorization": f"Bearer {token}", "User-Agent": "drago-agent"},
            verify=verify,
            timeout=timeout,
            transport=transport,
        )

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, API + path, **kwargs)
        except httpx.HTTPError as exc:
            raise ServerUnavailable(f"cannot reach the server: {server_text(exc)}") from None
        except httpx.InvalidURL as exc:  # a path from outside the grammar: never sent
            raise InvalidRequest(
                f"refusing to ask for {server_text(path)}: {server_text(exc)}"
            ) from None
        if response.status_code >= 400:
            raise _error(response)
        return response

    def whoami(self) -> str:
        try:
            body = self._request("GET", "/whoami").json()
        except ValueError:  # not JSON
            raise ServerUnavailable("the server's answer to whoami is not JSON") from None
        node = body.get("node") if isinstance(body, dict) else None
        if not isinstance(node, str) or not node:
            raise Forbidden("this token does not belong to a node (create one with --role node)")
        if not grammar.matches(grammar.NAME, node):
            # It goes into every URL path the agent asks for, and into its log.
            shown = node if len(node) <= 80 else node[:77] + "..."
            raise Forbidden(f"the server named this token's node {shown!r}: not a node name")
        return node

    def config(
        self, node: str, known_hash: str | None, wait: float, held: NodeConfig | None = None
    ) -> NodeConfig | None:
        headers = {"Accept-Encoding": "gzip"}
        params: dict[str, str] = {}
        base = held if held is not None and held.hash == known_hash else None
        if known_hash:
            headers["If-None-Match"] = f'"{known_hash}"'
            if wait > 0:
                params["wait"] = f"{wait:g}"
        if base is not None:
            headers["A-IM"] = DELTA_IM
        response = self._request(
            "GET",
            f"/nodes/{node}/config",
            headers=headers,
            params=params,
            timeout=self.timeout + wait,
        )
        if response.status_code == 304:
            return None
        if response.status_code == 226:
            try:
                config = _delta_config(response, base)
            except DeltaMismatch as exc:
                self.fallbacks += 1
                log.warning("%s; fetching the whole config", exc.message)
                return self.config(node, None, 0)
            self.deltas += 1
            log.debug("config %s from a delta of %d bytes", config.hash[:12], len(response.content))
            return config
        return parse_config(response.content, response.headers.get("etag", "").strip('"'))

    def register_key(self, node: str, network: str, public_key: str) -> None:
        self._request("PUT", f"/nodes/{node}/keys/{network}", json={"public_key": public_key})

    def report_status(self, node: str, report: dict[str, Any]) -> None:
        self._request("PUT", f"/nodes/{node}/status", json=report)

    def server_in_use(self) -> str | None:
        return None  # one server: nothing to choose

    def close(self) -> None:
        self._http.close()
