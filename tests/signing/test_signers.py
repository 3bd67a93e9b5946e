"""allowed_signers parsing, trust decisions, editing, and re-reading on change."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from dulwich.objects import Commit

from drago.errors import NotFound
from drago.signing import PublicKey, ServerKey, TrustedSigners
from drago.signing.signers import parse_line

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL65/5eZIJNtQAzfSZcuHB1pUhqvw9hyLeyysEpbdRBd"


def test_parse_lines_in_git_format() -> None:
    plain = parse_line(f"alice@example.com {KEY} laptop")
    assert plain is not None
    assert plain.principals == ("alice@example.com",)
    assert plain.namespaces is None
    both = parse_line(f'"a@x.org,b@x.org" namespaces="git,file" {KEY}')
    assert both is not None
    assert both.principals == ("a@x.org", "b@x.org")
    assert both.namespaces == ("git", "file")
    assert parse_line("# a comment") is None
    assert parse_line("   ") is None
    assert parse_line(f"ca@x.org cert-authority {KEY}") is None


def test_validity_window_and_namespaces_limit_trust(tmp_path: Path) -> None:
    key = ServerKey.generate()
    allowed = tmp_path / "allowed"
    line = key.public_key.line()
    allowed.write_text(
        f'old@x.org valid-before="20200101" {line}\nfile@x.org namespaces="file" {line}\n'
    )
    assert TrustedSigners.load(allowed, None).find(key.public_key) is None
    allowed.write_text(f"now@x.org valid-after=20200101Z {line}\n")
    found = TrustedSigners.load(allowed, None).find(key.public_key)
    assert found is not None and found.principal == "now@x.org"


def test_malformed_lines_are_skipped(tmp_path: Path) -> None:
    allowed = tmp_path / "allowed"
    allowed.write_text(f"broken\nbad@x.org ssh-ed25519 !!!\nok@x.org {KEY}\n")
    entries = TrustedSigners.load(allowed, None).entries()
    assert [e.principal for e in entries] == ["ok@x.org"]


def test_the_server_key_is_always_trusted(tmp_path: Path) -> None:
    key = ServerKey.generate(principal="srv@x.org")
    signers = TrustedSigners.load(tmp_path / "missing", key)
    [entry] = signers.entries()
    assert entry.server and entry.principal == "srv@x.org"
    assert signers.lines() == [key.allowed_signers_line()]


def test_file_changes_take_effect_without_reloading(tmp_path: Path) -> None:
    allowed = tmp_path / "allowed"
    signers = TrustedSigners.load(allowed, None)
    key = ServerKey.generate()
    assert signers.find(key.public_key) is None
    allowed.write_text(f"late@x.org {key.public_key.line()}\n")
    os.utime(allowed, ns=(1, 1))  # a different mtime even on coarse clocks
    assert signers.find(key.public_key) is not None


def test_add_and_remove_keep_other_lines(tmp_path: Path) -> None:
    allowed = tmp_path / "allowed"
    allowed.write_text(f'# team keys\n"a@x.org,b@x.org" {KEY}\n')
    signers = TrustedSigners.load(allowed, None)
    new = ServerKey.generate().public_key
    signers.add("c@x.org", new)
    signers.add("c@x.org", new)  # idempotent
    assert allowed.read_text().count("c@x.org") == 1
    assert signers.remove("a@x.org") == 1
    text = allowed.read_text()
    assert text.startswith("# team keys\n")
    assert f"b@x.org {KEY}" in text and "a@x.org" not in text
    assert signers.remove("c@x.org") == 1
    with pytest.raises(NotFound):
        signers.remove("c@x.org")
    assert [e.principal for e in signers.entries()] == ["b@x.org"]


def signed_commit(key: ServerKey, message: bytes = b"change\n") -> Commit:
    commit = Commit()
    commit.tree = b"4b825dc642cb6eb9a060e54bf8d69288fbee4904"
    commit.author = commit.committer = b"A <a@x.org>"
    commit.author_time = commit.commit_time = 1_700_000_000
    commit.author_timezone = commit.commit_timezone = 0
    commit.message = message
    commit.gpgsig = key.sign(commit.as_raw_string()).rstrip(b"\n")
    return commit


def test_public_key_lines() -> None:
    key, comment = PublicKey.from_line(f"{KEY} me@x.org\n")
    assert comment == "me@x.org"
    assert key.fingerprint.startswith("SHA256:")
    assert len(key.ed25519_raw()) == 32
