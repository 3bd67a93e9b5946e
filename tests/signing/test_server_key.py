"""The server key file: created 0600 on first start, readable by ssh-keygen, reloaded."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import pytest

from drago.errors import DragoError
from drago.signing import ServerKey


def test_created_once_0600_and_reloaded(tmp_path: Path) -> None:
    path = tmp_path / "server-key"
    first = ServerKey.load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = ServerKey.load_or_create(path)
    assert again.public_line() == first.public_line()
    assert first.public_line().endswith(" drago-server@localhost")
    assert first.principal == "drago-server@localhost"


def test_ssh_keygen_reads_the_key_file(tmp_path: Path) -> None:
    path = tmp_path / "server-key"
    key = ServerKey.load_or_create(path)
    derived = subprocess.run(
        ["ssh-keygen", "-y", "-f", str(path)], capture_output=True, text=True, timeout=60
    )
    assert derived.returncode == 0, derived.stderr
    assert derived.stdout.split()[:2] == key.public_line().split()[:2]


def test_reads_keys_made_by_ssh_keygen(tmp_path: Path, user_key: Path) -> None:
    key = ServerKey.load_or_create(user_key)
    assert key.public_line().split()[:2] == user_key.with_suffix(".pub").read_text().split()[:2]


def test_encrypted_and_corrupt_files_are_refused(tmp_path: Path) -> None:
    encrypted = tmp_path / "enc"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "secret", "-f", str(encrypted)],
        check=True,
        timeout=60,
    )
    with pytest.raises(DragoError, match="encrypted"):
        ServerKey.load_or_create(encrypted)
    corrupt = tmp_path / "corrupt"
    corrupt.write_text("not a key\n")
    with pytest.raises(DragoError, match="cannot read the server key"):
        ServerKey.load_or_create(corrupt)
