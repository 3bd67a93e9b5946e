"""SSH signatures (SSHSIG): verify commits against trusted signers, sign the server's commits.

Depends on nothing of drago but :mod:`drago.errors`.
"""

from drago.signing.keys import PublicKey
from drago.signing.server_key import ServerKey
from drago.signing.signers import (
    AllowedSigner,
    AllowedSignersFile,
    SignerSource,
    TrustedSigners,
)
from drago.signing.sshsig import SshSignature
from drago.signing.trust import Trust

__all__ = [
    "AllowedSigner",
    "AllowedSignersFile",
    "PublicKey",
    "ServerKey",
    "SignerSource",
    "SshSignature",
    "Trust",
    "TrustedSigners",
]
