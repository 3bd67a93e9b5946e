"""SSH signatures (SSHSIG): verify commits against trusted signers, sign the server's commits."""

from drago.signing.keys import PublicKey
from drago.signing.server_key import ServerKey
from drago.signing.signers import Signer, TrustedSigners
from drago.signing.sshsig import SshSignature
from drago.signing.verify import verify_commit

__all__ = ["PublicKey", "ServerKey", "Signer", "SshSignature", "TrustedSigners", "verify_commit"]
