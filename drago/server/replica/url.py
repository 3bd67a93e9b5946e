"""The grammar of a primary's URL (``--replica-of``): the base URL of a drago server."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

#: A host name or IPv4 address, or an IPv6 address (urlsplit drops its brackets).
_HOST = re.compile(r"[A-Za-z0-9.-]{1,253}|[0-9A-Fa-f:.]{2,45}")
_PATH = re.compile(r"(/[A-Za-z0-9._~-]+)*")


def primary_url(value: str) -> str:
    """``value`` without a trailing slash, if it is ``http(s)://HOST[:PORT][/PATH]``.

    No user or password (credentials never go in a URL: they would reach logs and
    ``ps``), no query or fragment. ValueError says what is wrong.
    """
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"{value!r} is not an http:// or https:// URL")
    if "@" in parts.netloc:
        raise ValueError("the primary's URL must not hold credentials (see replica_token)")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        if parts.netloc.endswith(("]", parts.hostname or "")):  # no port given
            port = None
        else:
            raise ValueError(f"{value!r}: the port is not a number from 1 to 65535")
    if not _HOST.fullmatch(parts.hostname or ""):
        raise ValueError(f"{value!r}: {parts.netloc!r} is not HOST[:PORT]")
    path = parts.path.rstrip("/")
    if not _PATH.fullmatch(path):
        raise ValueError(f"{value!r}: the path {parts.path!r} is not plain")
    if parts.query or parts.fragment:
        raise ValueError(f"{value!r}: a primary's URL has no query or fragment")
    return f"{parts.scheme}://{parts.netloc}{path}"
