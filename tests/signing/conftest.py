from __future__ import annotations

import subprocess
from pathlib import Path

import pytest


def keygen(path: Path, *, key_type: str = "ed25519", comment: str = "someone@example.com") -> Path:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", key_type, "-N", "", "-C", comment, "-f", str(path)],
        check=True,
        timeout=60,
    )
    return path


def ssh_sign(key: Path, message: Path, namespace: str = "git") -> bytes:
    subprocess.run(
        ["ssh-keygen", "-q", "-Y", "sign", "-f", str(key), "-n", namespace, str(message)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return message.with_name(message.name + ".sig").read_bytes()


@pytest.fixture
def user_key(tmp_path: Path) -> Path:
    return keygen(tmp_path / "id_ed25519")
