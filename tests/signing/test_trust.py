"""Trust: verification of a commit's signature against the trusted signers."""

from __future__ import annotations

from pathlib import Path

import pytest

from drago.errors import SignatureError
from drago.signing import ServerKey, Trust
from tests.signing.test_signers import signed_commit


def test_verify_a_commit(tmp_path: Path) -> None:
    server = ServerKey.generate(principal="srv@x.org")
    stranger = ServerKey.generate()
    trust = Trust.load(tmp_path / "allowed", server)
    good = signed_commit(server)
    assert trust.verify(good.raw_without_sig(), good.gpgsig).server
    bad = signed_commit(stranger)
    with pytest.raises(SignatureError, match="is not a trusted signer"):
        trust.verify(bad.raw_without_sig(), bad.gpgsig)
    with pytest.raises(SignatureError, match="unsigned commit"):
        trust.verify(good.raw_without_sig(), None)
    tampered = good.raw_without_sig().replace(b"change", b"chang3")
    with pytest.raises(SignatureError, match="does not verify"):
        trust.verify(tampered, good.gpgsig)
