"""The sign hook: the payload handed to it, and the gpgsig header it fills."""

from __future__ import annotations

import subprocess
from pathlib import Path

from dulwich.objects import Commit

from drago.store import GitStore, Identity
from tests.store.conftest import ANN, Git


def test_the_signature_lands_in_gpgsig_over_the_unsigned_payload(
    seeded: tuple[GitStore, str],
) -> None:
    store, first = seeded
    payloads: list[bytes] = []
    armored = b"-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n"

    def sign(payload: bytes) -> bytes:
        payloads.append(payload)
        return armored

    signed = store.commit(
        {"nodes/a.toml": b"a"}, message="signed", author=ANN, base=first, sign=sign
    )
    commit = store.repo[signed.encode()]
    assert isinstance(commit, Commit)
    assert commit.gpgsig == armored.rstrip(b"\n")
    assert commit.raw_without_sig() == payloads[0]
    assert b"gpgsig" not in payloads[0]
    assert store.commit_info(signed).signature == armored.rstrip(b"\n")
    assert store.history(limit=1)[0].signature == armored.rstrip(b"\n")


def test_git_verifies_a_commit_signed_with_ssh_keygen(
    seeded: tuple[GitStore, str], git: Git, tmp_path: Path
) -> None:
    store, first = seeded
    key = tmp_path / "signer"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ann", "-f", str(key)], check=True
    )

    def sign(payload: bytes) -> bytes:
        result = subprocess.run(
            ["ssh-keygen", "-q", "-Y", "sign", "-n", "git", "-f", str(key)],
            input=payload,
            capture_output=True,
            check=True,
        )
        return result.stdout

    signer = Identity("Ann Example", "ann@example.net")
    signed = store.commit(
        {"nodes/a.toml": b"a"}, message="signed", author=signer, base=first, sign=sign
    )
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(f"ann@example.net {(key.with_suffix('.pub')).read_text().strip()}\n")
    out = git(
        "--git-dir",
        str(store.path),
        "-c",
        "gpg.format=ssh",
        "-c",
        f"gpg.ssh.allowedSignersFile={allowed}",
        "log",
        "-1",
        "--format=%G?",
        signed,
    )
    assert out.strip() == "G"
    git("--git-dir", str(store.path), "fsck", "--strict", "--no-dangling")
