"""SSHSIG signing and verification agree with ssh-keygen byte for byte."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from drago.errors import SignatureError
from drago.signing import ServerKey, SshSignature
from drago.signing.armor import armor, dearmor
from tests.signing.conftest import keygen, ssh_sign

MESSAGE = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\nhello\n"


def test_server_signature_is_what_ssh_keygen_writes(tmp_path: Path) -> None:
    key = ServerKey.load_or_create(tmp_path / "server-key")
    message = tmp_path / "payload"
    message.write_bytes(MESSAGE)
    # ed25519 signatures are deterministic: the same key and data give the same bytes
    assert key.sign(MESSAGE) == ssh_sign(tmp_path / "server-key", message)


def test_ssh_keygen_verifies_our_signature(tmp_path: Path) -> None:
    key = ServerKey.load_or_create(tmp_path / "server-key", principal="srv@example.com")
    (tmp_path / "allowed").write_text(key.allowed_signers_line() + "\n")
    (tmp_path / "payload.sig").write_bytes(key.sign(MESSAGE))
    allowed, sig = str(tmp_path / "allowed"), str(tmp_path / "payload.sig")
    proc = subprocess.run(
        [
            "ssh-keygen",
            "-Y",
            "verify",
            "-f",
            allowed,
            "-I",
            "srv@example.com",
            "-n",
            "git",
            "-s",
            sig,
        ],
        input=MESSAGE,
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert b'Good "git" signature for srv@example.com' in proc.stdout


def test_we_verify_ssh_keygen_signatures(tmp_path: Path, user_key: Path) -> None:
    message = tmp_path / "payload"
    message.write_bytes(MESSAGE)
    signature = SshSignature.parse(ssh_sign(user_key, message))
    assert signature.namespace == "git"
    assert signature.hash_algorithm == "sha512"
    assert signature.key.line() == " ".join((tmp_path / "id_ed25519.pub").read_text().split()[:2])
    signature.verify(MESSAGE, namespace="git")
    with pytest.raises(SignatureError, match="does not verify"):
        signature.verify(MESSAGE + b"x", namespace="git")


def test_wrong_namespace(tmp_path: Path, user_key: Path) -> None:
    message = tmp_path / "payload"
    message.write_bytes(MESSAGE)
    signature = SshSignature.parse(ssh_sign(user_key, message, namespace="file"))
    with pytest.raises(SignatureError, match="namespace is 'file', expected 'git'"):
        signature.verify(MESSAGE, namespace="git")


def test_rsa_signatures_are_unsupported(tmp_path: Path) -> None:
    key = keygen(tmp_path / "id_rsa", key_type="rsa")
    message = tmp_path / "payload"
    message.write_bytes(MESSAGE)
    signature = SshSignature.parse(ssh_sign(key, message))
    with pytest.raises(SignatureError, match="unsupported key type ssh-rsa"):
        signature.verify(MESSAGE, namespace="git")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (b"-----BEGIN PGP SIGNATURE-----\n\nabc\n-----END PGP SIGNATURE-----\n", "GPG"),
        (b"garbage", "not an SSH signature"),
        (b"-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n", "does not end with"),
        (b"-----BEGIN SSH SIGNATURE-----\n!!!!\n-----END SSH SIGNATURE-----\n", "base64"),
        (armor("SSH SIGNATURE", b"SSHSIG\x00\x00\x00\x01\x00\x00"), "truncated"),
        (armor("SSH SIGNATURE", b"NOTSIG\x00\x00\x00\x01"), "magic"),
        (armor("SSH SIGNATURE", b"SSHSIG\x00\x00\x00\x02"), "version 2"),
    ],
)
def test_malformed_signatures_say_what_is_wrong(text: bytes, reason: str) -> None:
    with pytest.raises(SignatureError, match=reason):
        SshSignature.parse(text)


def test_unsupported_hash_is_rejected(tmp_path: Path) -> None:
    key = ServerKey.load_or_create(tmp_path / "k")
    blob = dearmor("SSH SIGNATURE", key.sign(MESSAGE)).replace(b"sha512", b"sha384")
    with pytest.raises(SignatureError, match="unsupported signature hash 'sha384'"):
        SshSignature.parse(armor("SSH SIGNATURE", blob)).verify(MESSAGE, namespace="git")
