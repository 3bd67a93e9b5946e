"""Trusted signers in git's ``allowed_signers`` format, plus the server's own key.

Each line is ``PRINCIPALS [OPTIONS] KEYTYPE BASE64KEY [COMMENT]``: principals
are comma-separated (optionally quoted), options comma-separated
(``namespaces="git"``, ``valid-after=``, ``valid-before=``, ``cert-authority``).
The file is re-read whenever its modification time or size changes, so
``drago signers add`` takes effect without a restart.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from drago.errors import InvalidRequest, NotFound
from drago.signing.keys import PublicKey

log = logging.getLogger("drago.signing")

KEY_TYPE_PREFIXES = ("ssh-", "ecdsa-", "sk-ssh-", "sk-ecdsa-", "rsa-sha2-")


class HasPublicKey(Protocol):
    """What trusted signers need of the server key: ``TYPE BASE64 PRINCIPAL``."""

    def public_line(self) -> str: ...


@dataclass(frozen=True)
class AllowedSigner:
    """One trusted key and who it belongs to."""

    principals: tuple[str, ...]
    key: PublicKey
    namespaces: tuple[str, ...] | None = None
    valid_after: datetime | None = None
    valid_before: datetime | None = None
    server: bool = False

    @property
    def principal(self) -> str:
        return self.principals[0]

    def allows(self, namespace: str, when: datetime) -> bool:
        if self.namespaces is not None and namespace not in self.namespaces:
            return False
        if self.valid_after is not None and when < self.valid_after:
            return False
        return self.valid_before is None or when < self.valid_before

    def line(self) -> str:
        """This signer as an allowed_signers line."""
        options = []
        if self.namespaces is not None:
            options.append(f'namespaces="{",".join(self.namespaces)}"')
        if self.valid_after is not None:
            options.append(f"valid-after={self.valid_after:%Y%m%d%H%M%S}Z")
        if self.valid_before is not None:
            options.append(f"valid-before={self.valid_before:%Y%m%d%H%M%S}Z")
        fields = [",".join(self.principals), *([",".join(options)] if options else [])]
        return " ".join([*fields, self.key.line()])

    def as_dict(self) -> dict[str, object]:
        return {
            "principals": list(self.principals),
            "key_type": self.key.key_type,
            "public_key": self.key.line(),
            "fingerprint": self.key.fingerprint,
            "namespaces": list(self.namespaces) if self.namespaces is not None else None,
            "server": self.server,
        }


def split_fields(line: str, sep: str | None = None) -> list[str]:
    """Split on whitespace (or ``sep``) outside double quotes; quotes are kept."""
    fields: list[str] = []
    current = ""
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
            current += char
        elif not quoted and (char.isspace() if sep is None else char == sep):
            if current or sep is not None:
                fields.append(current)
            current = ""
        else:
            current += char
    if quoted:
        raise InvalidRequest("unterminated quote")
    if current or sep is not None:
        fields.append(current)
    return fields


def _unquote(text: str) -> str:
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def _timestamp(text: str) -> datetime:
    value = _unquote(text)
    utc = value.endswith(("Z", "z"))
    digits = value.rstrip("Zz")
    formats = {8: "%Y%m%d", 12: "%Y%m%d%H%M", 14: "%Y%m%d%H%M%S"}
    if len(digits) not in formats or not digits.isdigit():
        raise InvalidRequest(f"bad time {value!r} (YYYYMMDD[HHMM[SS]][Z])")
    parsed = datetime.strptime(digits, formats[len(digits)])
    return parsed.replace(tzinfo=UTC) if utc else parsed.astimezone(UTC)


def parse_line(line: str) -> AllowedSigner | None:
    """One allowed_signers line; None for blanks, comments and CA lines."""
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    fields = split_fields(text)
    if len(fields) < 3:
        raise InvalidRequest("expected PRINCIPALS [OPTIONS] KEYTYPE KEY")
    principals = tuple(p.strip() for p in _unquote(fields[0]).split(",") if p.strip())
    if not principals:
        raise InvalidRequest("no principal")
    rest = fields[1:]
    options: list[str] = []
    if not rest[0].startswith(KEY_TYPE_PREFIXES):
        options = split_fields(rest[0], ",")
        rest = rest[1:]
    if len(rest) < 2:
        raise InvalidRequest("expected a key type and key after the options")
    namespaces: tuple[str, ...] | None = None
    after = before = None
    for option in options:
        name, _, value = option.partition("=")
        match name.lower():
            case "namespaces":
                namespaces = tuple(n.strip() for n in _unquote(value).split(",") if n.strip())
            case "valid-after":
                after = _timestamp(value)
            case "valid-before":
                before = _timestamp(value)
            case "cert-authority":
                return None  # certificates are not supported: not a trusted key by itself
            case _:
                raise InvalidRequest(f"unknown option {name!r}")
    key = PublicKey.parse(rest[0], rest[1])
    return AllowedSigner(principals, key, namespaces, after, before)


def check_principal(principal: str) -> str:
    """``principal`` if it can stand in an allowed_signers line by itself, else InvalidRequest."""
    if not principal or any(c.isspace() or c in ',"' for c in principal):
        raise InvalidRequest(f"bad principal {principal!r}: no spaces, commas or quotes")
    return principal


class SignerSource(Protocol):
    """Where the trusted signers besides the server's own key are kept.

    The data directory's ``allowed_signers`` file (:class:`AllowedSignersFile`)
    by default; a database shared by several servers otherwise (the server
    provides that one: this package knows nothing of databases).
    """

    def entries(self) -> tuple[AllowedSigner, ...]:
        """The current list (each call sees changes made by others)."""
        ...

    def add(self, principal: str, key: PublicKey) -> AllowedSigner:
        """Trust ``key`` for ``principal`` in the git namespace (no-op if already)."""
        ...

    def remove(self, principal: str) -> int:
        """Stop trusting every key of ``principal``; how many; NotFound if none."""
        ...


class AllowedSignersFile:
    """:class:`SignerSource` over an allowed_signers file, re-read when it changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._entries: tuple[AllowedSigner, ...] = ()

    def _read(self) -> tuple[AllowedSigner, ...]:
        entries: list[AllowedSigner] = []
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return ()
        for number, line in enumerate(text.splitlines(), start=1):
            try:
                signer = parse_line(line)
            except InvalidRequest as exc:
                log.warning("%s:%d: ignoring line: %s", self.path, number, exc.message)
                continue
            if signer is not None:
                entries.append(signer)
        return tuple(entries)

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def entries(self) -> tuple[AllowedSigner, ...]:
        """The signers of the file, re-read when it changed since the last call."""
        with self._lock:
            stamp = self._stat()
            if stamp != self._stamp:
                self._entries = self._read() if stamp is not None else ()
                self._stamp = stamp
            return self._entries

    # Editing the file (the CLI): keep other lines and comments as they are.

    def add(self, principal: str, key: PublicKey) -> AllowedSigner:
        signer = AllowedSigner((check_principal(principal),), key, ("git",))
        for existing in self.entries():
            if existing.key.blob == key.blob and principal in existing.principals:
                return existing
        text = self.path.read_text(encoding="utf-8") if self.path.exists() else ""
        if text and not text.endswith("\n"):
            text += "\n"
        _write(self.path, text + signer.line() + "\n")
        return signer

    def remove(self, principal: str) -> int:
        text = self.path.read_text(encoding="utf-8") if self.path.exists() else ""
        kept: list[str] = []
        removed = 0
        for line in text.splitlines():
            try:
                signer = parse_line(line)
            except InvalidRequest:
                signer = None
            if signer is None or principal not in signer.principals:
                kept.append(line)
                continue
            removed += 1
            others = tuple(p for p in signer.principals if p != principal)
            if others:
                kept.append(_replace_principals(line, others))
        if not removed:
            raise NotFound(f"no trusted signer with principal {principal!r} in {self.path}")
        _write(self.path, "".join(f"{line}\n" for line in kept))
        return removed


class NoSigners:
    """:class:`SignerSource` of nobody: only the server's own key is trusted."""

    def entries(self) -> tuple[AllowedSigner, ...]:
        return ()

    def add(self, principal: str, key: PublicKey) -> AllowedSigner:
        raise InvalidRequest("no allowed_signers file configured")

    def remove(self, principal: str) -> int:
        raise InvalidRequest("no allowed_signers file configured")


class TrustedSigners:
    """The trusted signers: the server's own key, then those of a :class:`SignerSource`.

    ``source`` may be a path (an :class:`AllowedSignersFile`) or None (nobody
    else). A source shared by several servers holds their keys too (each adds
    its own at first start); the own key is listed once, first.
    """

    def __init__(self, source: SignerSource | Path | None, server_key: HasPublicKey | None) -> None:
        if isinstance(source, Path):
            source = AllowedSignersFile(source)
        self.source: SignerSource = NoSigners() if source is None else source
        self.server_key = server_key

    @classmethod
    def load(cls, source: SignerSource | Path, server_key: HasPublicKey | None) -> TrustedSigners:
        signers = cls(source, server_key)
        signers.entries()
        return signers

    def server_entry(self) -> AllowedSigner | None:
        """The server's own key as a signer (principal: its committer email)."""
        if self.server_key is None:
            return None
        key, principal = PublicKey.from_line(self.server_key.public_line())
        return AllowedSigner((principal or "drago-server",), key, ("git",), server=True)

    def entries(self) -> list[AllowedSigner]:
        """Every trusted signer: the server's key first, then the source's."""
        own = self.server_entry()
        if own is None:
            return list(self.source.entries())
        others = [
            s
            for s in self.source.entries()
            if not (s.key.blob == own.key.blob and s.principals == own.principals)
        ]
        return [own, *others]

    def find(
        self, key: PublicKey, *, namespace: str = "git", when: datetime | None = None
    ) -> AllowedSigner | None:
        moment = when or datetime.now(UTC)
        for signer in self.entries():
            if signer.key.blob == key.blob and signer.allows(namespace, moment):
                return signer
        return None

    def lines(self) -> list[str]:
        return [signer.line() for signer in self.entries()]

    def add(self, principal: str, key: PublicKey) -> AllowedSigner:
        """Trust ``key`` for ``principal`` in the git namespace."""
        return self.source.add(check_principal(principal), key)

    def remove(self, principal: str) -> int:
        """Stop trusting every key of ``principal``; returns how many keys; NotFound if none."""
        return self.source.remove(principal)


def _replace_principals(line: str, principals: Sequence[str]) -> str:
    fields = split_fields(line.strip())
    return " ".join([",".join(principals), *fields[1:]])


def _write(path: Path, text: str) -> None:
    """Replace the file atomically so a concurrent reader sees old or new, never half."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
