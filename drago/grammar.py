"""The grammar of every value that reaches a WireGuard config line or UAPI stream.

One definition, three enforcers (defence in depth, each sufficient on its own):

- the repository validator (:mod:`drago.model.schema`) parses values with the
  ``parse_*``/``check_*`` functions below, which add semantic checks on top;
- the rendered config (:mod:`drago.render.config`) constrains its fields with the
  anchored patterns (``PATTERNS``), checked in pydantic-core for speed, so the
  agent re-validates what it receives with the same grammar;
- the writers (:mod:`drago.render.wgquick`, the agent's UAPI encoder) refuse any
  value outside its line grammar with :func:`require` before writing it.

Every pattern is a subset of ``[0-9A-Za-z.:/+=\\[\\]-]``: no whitespace, no control
character, no ``#`` and no ``=`` except the base64 padding of a key, so no value can
end a line or start another key. Patterns are written in the common subset of
Python's ``re`` and Rust's ``regex`` (no look-around) and are matched whole
(``fullmatch`` / ``^...$``; Rust's ``$`` never matches before a final newline).

Free text (``description``, comment lines) may hold spaces but no control, format or
separator character (:func:`check_text`). Commit messages may span lines and hold
tabs, but no other control character (:func:`check_message`).
"""

from __future__ import annotations

import base64
import ipaddress
import re
import unicodedata
from typing import Final

from drago.errors import UnsafeValue

_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
IPV4: Final = rf"{_OCTET}(?:\.{_OCTET}){{3}}"
_H = r"[0-9A-Fa-f]{1,4}"
#: RFC 4291 text forms, compressed or not, with an embedded IPv4 tail; no zone id.
IPV6: Final = (
    "(?:"
    rf"(?:{_H}:){{7}}{_H}"
    rf"|(?:{_H}:){{1,7}}:"
    rf"|(?:{_H}:){{1,6}}:{_H}"
    rf"|(?:{_H}:){{1,5}}(?::{_H}){{1,2}}"
    rf"|(?:{_H}:){{1,4}}(?::{_H}){{1,3}}"
    rf"|(?:{_H}:){{1,3}}(?::{_H}){{1,4}}"
    rf"|(?:{_H}:){{1,2}}(?::{_H}){{1,5}}"
    rf"|{_H}:(?::{_H}){{1,6}}"
    rf"|:(?:(?::{_H}){{1,7}}|:)"
    rf"|(?:{_H}:){{6}}{IPV4}"
    rf"|(?:{_H}:){{1,5}}:{IPV4}"
    rf"|(?:{_H}:){{1,4}}:(?:{_H}:){{1}}{IPV4}"
    rf"|(?:{_H}:){{1,3}}:(?:{_H}:){{1,2}}{IPV4}"
    rf"|(?:{_H}:){{1,2}}:(?:{_H}:){{1,3}}{IPV4}"
    rf"|{_H}::(?:{_H}:){{1,4}}{IPV4}"
    rf"|::(?:{_H}:){{0,5}}{IPV4}"
    ")"
)
IP: Final = rf"(?:{IPV4}|{IPV6})"
_PREFIX4 = r"(?:3[0-2]|[12]?[0-9])"
_PREFIX6 = r"(?:12[0-8]|1[01][0-9]|[1-9]?[0-9])"
#: An address or network with a prefix length (``10.0.0.1/24``, ``fd00::/64``).
CIDR: Final = rf"(?:{IPV4}/{_PREFIX4}|{IPV6}/{_PREFIX6})"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
#: RFC 1123 host name: dot-separated labels, no trailing dot (length checked apart).
HOST: Final = rf"{_LABEL}(?:\.{_LABEL})*"
PORT: Final = (
    r"(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})"
)
#: How peers reach a node: ``host:port``, ``1.2.3.4:port`` or ``[v6]:port``.
ENDPOINT: Final = rf"(?:{HOST}|\[{IPV6}\]):{PORT}"
#: What a UAPI ``endpoint=`` takes: a resolved address and a port.
IP_ENDPOINT: Final = rf"(?:{IPV4}|\[{IPV6}\]):{PORT}"
#: Canonical base64 of exactly 32 bytes (the last character carries 4 bits).
PUBLIC_KEY: Final = r"[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]="
HEX_KEY: Final = r"[0-9a-f]{64}"
NAME: Final = r"[a-z0-9][a-z0-9-]{0,62}"
IFNAME: Final = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}"
CONFIG_HASH: Final = r"[0-9a-f]{64}"
#: A revision label (a commit id in practice): a token that is safe on any line.
REVISION: Final = r"[0-9A-Za-z][0-9A-Za-z._-]{0,127}"

#: The all-zero key: valid base64, but no peer can hold it (it disables a device key).
ZERO_KEY: Final = base64.b64encode(bytes(32)).decode()
MAX_HOST = 253
MAX_TEXT = 1000


def anchored(pattern: str) -> str:
    """``pattern`` for an engine that searches (pydantic-core): ``^(?:...)$``."""
    return f"^(?:{pattern})$"


def matches(pattern: str, value: object) -> bool:
    """Whether ``value`` is a string that ``pattern`` matches whole."""
    return isinstance(value, str) and re.fullmatch(pattern, value) is not None


def require(what: str, pattern: str, value: object) -> str:
    """``value`` when it matches ``pattern`` whole; raise :class:`UnsafeValue` otherwise.

    Writers call this for every value they put on a line, so a gap in the validator
    can never become an extra line.
    """
    if not matches(pattern, value):
        raise UnsafeValue(f"refusing to write {what} {value!r}: it is not a valid {what}")
    assert isinstance(value, str)
    return value


def require_int(what: str, value: object, low: int, high: int) -> int:
    """``value`` when it is an int (not a bool) in ``[low, high]``."""
    if type(value) is not int or not low <= value <= high:
        raise UnsafeValue(f"refusing to write {what} {value!r}: expected {low}..{high}")
    return value


def is_safe_text(value: str) -> bool:
    """No control, format (bidi overrides, zero width), separator or private-use
    character, and no surrogate: text that stays on its line wherever it is shown."""
    return not any(unicodedata.category(ch)[0] == "C" or ch in "\u2028\u2029" for ch in value)


def check_text(value: str, max_length: int = MAX_TEXT) -> str:
    """Free text (a description): any printable characters, spaces included."""
    if len(value) > max_length:
        raise ValueError(f"at most {max_length} characters, got {len(value)}")
    if not is_safe_text(value):
        bad = next(ch for ch in value if not is_safe_text(ch))
        raise ValueError(
            f"control or invisible character {bad!r} is not allowed"
            " (write the text on one line, without tabs)"
        )
    return value


#: Characters a commit message may not hold: control characters (C0 but newline and
#: tab, DEL, C1: terminal escapes among them), line and paragraph separators and the
#: bidirectional controls (text that reads differently from what it is).
_MESSAGE_REFUSED: Final = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]"
)


def message_problem(value: str) -> str | None:
    """Why ``value`` cannot be a commit message's text, or None."""
    bad = _MESSAGE_REFUSED.search(value)
    if bad is None:
        return None
    return (
        f"character {bad[0]!r} is not allowed in a commit message: no control,"
        " line separator or bidirectional control characters (newline and tab are fine)"
    )


def check_message(value: str) -> str:
    """A commit message (pydantic's form: ValueError with the reason)."""
    problem = message_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def escape_message_text(value: str) -> str:
    """``value`` with every character :func:`message_problem` refuses written as its
    escape (``\\x1b``): for quoting text from elsewhere (a pushed commit's summary)."""
    return _MESSAGE_REFUSED.sub(lambda m: ascii(m[0])[1:-1], value)


def require_text(what: str, value: object) -> str:
    """Writers' form of :func:`check_text` (comment lines)."""
    if not isinstance(value, str) or len(value) > MAX_TEXT or not is_safe_text(value):
        raise UnsafeValue(f"refusing to write {what} {value!r}: it must be one line of text")
    return value


def _shown(value: str) -> str:
    return repr(value) if len(value) <= 80 else repr(value[:77] + "...")


def parse_ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """An IP address, without a zone id (``%eth0``) or anything around it."""
    if not matches(IP, value):
        if "%" in value:
            raise ValueError(f"{_shown(value)}: IPv6 zone ids (%...) are not allowed")
        raise ValueError(f"{_shown(value)} is not a valid IP address")
    return ipaddress.ip_address(value)


def parse_cidr_text(value: str) -> str:
    """The shape check shared by networks and interface addresses."""
    if matches(CIDR, value):
        return value
    if "%" in value:
        raise ValueError(f"{_shown(value)}: IPv6 zone ids (%...) are not allowed")
    if "/" not in value and matches(IP, value):
        raise ValueError(f"{_shown(value)} needs a prefix length (like 10.20.0.1/16)")
    raise ValueError(f"{_shown(value)} is not a valid CIDR (like 10.20.0.0/16)")


def check_host(value: str) -> str:
    """An RFC 1123 host name: labels of letters, digits and inner hyphens, at most 253
    characters, no trailing dot, and a last label that is not all digits (so it can
    never be read as an IPv4 address in a short form like ``10.1``)."""
    if len(value) > MAX_HOST:
        raise ValueError(f"host name is longer than {MAX_HOST} characters")
    if value.endswith("."):
        raise ValueError(f"{_shown(value)}: write the host name without the trailing dot")
    if not matches(HOST, value):
        raise ValueError(
            f"{_shown(value)} is not a host name or IP address (host names are labels of"
            " letters, digits and inner hyphens joined by dots; give the port as"
            " listen_port or endpoint_port)"
        )
    if value.rsplit(".", 1)[-1].isdigit():
        raise ValueError(f"{_shown(value)} is neither an IPv4 address nor a host name")
    return value


def check_endpoint_host(value: str) -> str:
    """A node's ``endpoint``: an IP address (IPv6 optionally in brackets) or a host name."""
    bare = value[1:-1] if value.startswith("[") and value.endswith("]") else value
    if matches(IP, bare):
        return str(ipaddress.ip_address(bare))
    if "%" in value:
        raise ValueError(f"{_shown(value)}: IPv6 zone ids (%...) are not allowed")
    if ":" in value:
        raise ValueError(
            f"{_shown(value)} is not a host name or IP address"
            " (give the port as listen_port or endpoint_port)"
        )
    return check_host(value)


def check_public_key(value: str) -> str:
    """A WireGuard public key: canonical base64 of 32 bytes, not all zero."""
    if matches(PUBLIC_KEY, value):
        if value == ZERO_KEY:
            raise ValueError("the all-zero key is not a public key")
        return value
    try:
        raw = base64.b64decode(value, validate=True)
    except ValueError:
        raise ValueError("public key is not valid base64") from None
    if len(raw) != 32:
        raise ValueError(
            f"public key must be 32 bytes of base64 (44 characters), got {len(raw)} bytes"
        )
    canonical = base64.b64encode(raw).decode()
    raise ValueError(f"public key is not in canonical base64 (did you mean {canonical}?)")


def key_bytes(value: str) -> bytes:
    """The 32 bytes of a public key (for comparing keys, never their spelling)."""
    return base64.b64decode(value, validate=True)


__all__ = [
    "CIDR",
    "CONFIG_HASH",
    "ENDPOINT",
    "HEX_KEY",
    "HOST",
    "IFNAME",
    "IP",
    "IPV4",
    "IPV6",
    "IP_ENDPOINT",
    "NAME",
    "PORT",
    "PUBLIC_KEY",
    "REVISION",
    "ZERO_KEY",
    "anchored",
    "check_endpoint_host",
    "check_host",
    "check_message",
    "check_public_key",
    "check_text",
    "escape_message_text",
    "is_safe_text",
    "key_bytes",
    "matches",
    "message_problem",
    "parse_cidr_text",
    "parse_ip",
    "require",
    "require_int",
    "require_text",
]
