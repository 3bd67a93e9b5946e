"""PEM-like armor of OpenSSH: ``-----BEGIN <LABEL>-----``, base64 wrapped at 70 columns."""

from __future__ import annotations

import base64
import binascii

from drago.errors import SignatureError

WIDTH = 70


def armor(label: str, data: bytes) -> bytes:
    text = base64.b64encode(data).decode("ascii")
    lines = [text[i : i + WIDTH] for i in range(0, len(text), WIDTH)]
    body = "\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----"])
    return (body + "\n").encode("ascii")


def dearmor(label: str, text: bytes) -> bytes:
    """The payload of an armored block; SignatureError naming what is wrong."""
    begin = f"-----BEGIN {label}-----".encode()
    end = f"-----END {label}-----".encode()
    lines = [line.strip() for line in text.strip().splitlines()]
    if not lines or lines[0] != begin:
        raise SignatureError(f"bad armor: does not start with {begin.decode()}")
    if lines[-1] != end:
        raise SignatureError(f"bad armor: does not end with {end.decode()}")
    try:
        return base64.b64decode(b"".join(lines[1:-1]), validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError("bad armor: the body is not valid base64") from None
