from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from nacl.public import PrivateKey

from drago.agent.keys import KeyPair, KeyStore, clamp
from drago.errors import DragoError


def test_generated_keys_are_clamped_and_match_their_public_key() -> None:
    for _ in range(20):
        pair = KeyPair.generate()
        raw = base64.b64decode(pair.private_key)
        assert raw == clamp(raw)
        assert raw[0] & 7 == 0 and raw[31] & 0x80 == 0 and raw[31] & 0x40
        public = base64.b64encode(bytes(PrivateKey(raw).public_key)).decode()
        assert public == pair.public_key
        assert pair.private_key not in repr(pair)


def test_store_writes_0600_and_reuses_the_key(tmp_path: Path) -> None:
    store = KeyStore(tmp_path)
    pair = store.ensure("backbone")
    path = tmp_path / "keys" / "backbone.key"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert oct((tmp_path / "keys").stat().st_mode & 0o777) == "0o700"
    assert store.ensure("backbone") == pair
    assert store.networks() == ["backbone"]
    store.check_permissions()


def test_readable_key_refuses_with_the_exact_fix(tmp_path: Path) -> None:
    store = KeyStore(tmp_path)
    store.ensure("backbone")
    path = tmp_path / "keys" / "backbone.key"
    os.chmod(path, 0o644)
    with pytest.raises(DragoError) as info:
        store.check_permissions()
    assert f"chmod 600 {path}" in info.value.message
    key = store.get("backbone")
    assert key is not None
    assert key.private_key not in info.value.message


def test_rotation_keeps_the_old_key_until_promoted(tmp_path: Path) -> None:
    store = KeyStore(tmp_path)
    old = store.ensure("backbone")
    new = store.rotate("backbone")
    assert store.get("backbone") == old
    assert store.pending("backbone") == new
    store.promote("backbone")
    assert store.get("backbone") == new
    assert store.pending("backbone") is None
