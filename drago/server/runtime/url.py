"""The ``--database`` URL: its grammar, and its form for logs (without the password).

Kept apart from :mod:`.postgres` so settings can check a URL without the driver.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from drago.errors import InvalidRequest

#: URL schemes libpq accepts for a connection URI.
SCHEMES = ("postgresql", "postgres")


def check_url(url: str) -> str:
    """``url`` if it is a PostgreSQL connection URI, else InvalidRequest."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES or not (parts.netloc or parts.query):
        raise InvalidRequest(
            "the database must be a PostgreSQL URL like postgresql://USER@HOST/DB "
            f"(got {redacted(url)!r})"
        )
    return url


def redacted(url: str) -> str:
    """``url`` without its password, fit for logs and messages."""
    parts = urlsplit(url)
    if parts.password is not None:
        host = parts.netloc.rpartition("@")[2]
        parts = parts._replace(netloc=f"{parts.username or ''}:***@{host}")
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(name == "password" for name, _ in query):
        hidden = [(name, "***" if name == "password" else value) for name, value in query]
        parts = parts._replace(query=urlencode(hidden, safe="*/"))
    return urlunsplit(parts)
