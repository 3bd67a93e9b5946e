"""Trusted signers of a runtime: the data directory's allowed_signers file (SQLite
runtime) or the shared database (PostgreSQL); the same contract for both."""

from __future__ import annotations

import pytest

from drago.errors import InvalidRequest, NotFound
from drago.server.runtime.stores import open_runtime
from drago.signing import ServerKey, TrustedSigners
from tests.server.runtime.conftest import Backend


def test_add_list_and_remove(backend: Backend) -> None:
    signers = backend.open().signers
    alice, bob = ServerKey.generate().public_key, ServerKey.generate().public_key
    assert signers.entries() == ()
    added = signers.add("alice@example.org", alice)
    assert (added.principals, added.key, added.namespaces) == (
        ("alice@example.org",),
        alice,
        ("git",),
    )
    signers.add("alice@example.org", alice)  # again: no duplicate
    signers.add("bob@example.org", bob)
    assert [(s.principal, s.key) for s in signers.entries()] == [
        ("alice@example.org", alice),
        ("bob@example.org", bob),
    ]
    assert signers.remove("alice@example.org") == 1
    assert [s.principal for s in signers.entries()] == ["bob@example.org"]
    with pytest.raises(NotFound):
        signers.remove("alice@example.org")


def test_changes_are_seen_by_an_open_list_without_reopening(backend: Backend) -> None:
    reader, writer = backend.open().signers, backend.open().signers
    key = ServerKey.generate().public_key
    assert reader.entries() == ()
    writer.add("carol@example.org", key)
    assert [s.key for s in reader.entries()] == [key]
    writer.remove("carol@example.org")
    assert reader.entries() == ()


@pytest.mark.parametrize("principal", ["", "a b", "a,b", 'a"b'])
def test_principals_that_cannot_stand_in_a_line_are_refused(
    backend: Backend, principal: str
) -> None:
    trusted = TrustedSigners(backend.open().signers, None)
    with pytest.raises(InvalidRequest):
        trusted.add(principal, ServerKey.generate().public_key)


def test_trust_decisions_follow_the_list(backend: Backend) -> None:
    own = ServerKey.generate(principal="srv@x.org")
    stranger = ServerKey.generate().public_key
    trusted = TrustedSigners(backend.open().signers, own)
    assert trusted.find(stranger) is None
    trusted.add("dan@example.org", stranger)
    found = trusted.find(stranger)
    assert found is not None and found.principal == "dan@example.org"
    found_own = trusted.find(own.public_key)
    assert found_own is not None and found_own.server


def test_shared_signers_hold_every_servers_key(backend: Backend) -> None:
    """With a shared database each server adds its own key at start; the file
    runtime keeps the server key out of allowed_signers, as always."""
    first, second = ServerKey.generate(), ServerKey.generate()
    open_runtime(backend.datadir, backend.url, server_key=first).close()
    runtime = open_runtime(backend.datadir, backend.url, server_key=second)
    try:
        trusted = TrustedSigners(runtime.signers, second)
        entries = trusted.entries()
        assert entries[0].key == second.public_key and entries[0].server
        keys = [s.key for s in entries]
        assert len(keys) == len(set(keys))  # its own key once, though the database has it too
        if runtime.shared:
            assert set(keys) == {first.public_key, second.public_key}
            assert all(s.server for s in entries)
            assert trusted.find(first.public_key) is not None
        else:
            assert keys == [second.public_key]
            assert not backend.datadir.allowed_signers.exists()
    finally:
        runtime.close()


def test_a_left_over_allowed_signers_file_is_named_not_used(
    backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    key = ServerKey.generate().public_key
    backend.datadir.allowed_signers.write_text(f"erin@example.org {key.line()}\n")
    runtime = backend.open()
    if runtime.shared:
        assert runtime.signers.entries() == ()
        assert str(backend.datadir.allowed_signers) in caplog.text
        assert "not used with --database" in caplog.text
    else:
        assert [s.principal for s in runtime.signers.entries()] == ["erin@example.org"]
