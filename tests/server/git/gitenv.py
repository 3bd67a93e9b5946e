"""Real ``git`` and ``ssh-keygen`` for the tests: an isolated HOME, a signing key, helpers."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass
class GitUser:
    """A person with a home, an ed25519 signing key and a git identity."""

    home: Path
    email: str

    @property
    def key(self) -> Path:
        return self.home / "id_ed25519"

    @property
    def pubkey(self) -> Path:
        return self.home / "id_ed25519.pub"

    @classmethod
    def create(cls, home: Path, email: str) -> GitUser:
        home.mkdir(parents=True, exist_ok=True)
        user = cls(home, email)
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", email, "-f", str(user.key)])
        (home / ".gitconfig").write_text(
            "[user]\n"
            f"  name = {email.split('@')[0]}\n"
            f"  email = {email}\n"
            f"  signingkey = {user.key}\n"
            "[gpg]\n  format = ssh\n"
            "[init]\n  defaultBranch = main\n"
            "[advice]\n  detachedHead = false\n"
        )
        return user

    def env(self) -> dict[str, str]:
        return {
            "PATH": os.environ["PATH"],
            "HOME": str(self.home),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_TERMINAL_PROMPT": "0",
            "LANG": "C",
        }

    def git(self, *args: str, cwd: Path | None = None, check: bool = True) -> Result:
        return run(["git", *args], cwd=cwd, env=self.env(), check=check)


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def run(
    argv: list[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    check: bool = True,
) -> Result:
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
    result = Result(proc.returncode, proc.stdout, proc.stderr)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} failed ({proc.returncode}):\n{result.text}")
    return result


def with_signature(raw: bytes, signature: bytes) -> bytes:
    """A raw commit object with ``signature`` as its gpgsig header (after the committer)."""
    header, _, message = raw.partition(b"\n\n")
    lines = [line for line in header.split(b"\n") if not line.startswith(b"gpgsig")]
    sig_lines = signature.rstrip(b"\n").split(b"\n")
    gpgsig = b"gpgsig " + b"\n ".join(sig_lines)
    index = next(i for i, line in enumerate(lines) if line.startswith(b"committer ")) + 1
    lines.insert(index, gpgsig)
    return b"\n".join(lines) + b"\n\n" + message


def write_commit(user: GitUser, work: Path, raw: bytes) -> str:
    """Store a raw commit object in ``work``'s repository; returns its id."""
    proc = subprocess.run(
        ["git", "hash-object", "-t", "commit", "-w", "--stdin", "--literally"],
        input=raw,
        cwd=work,
        env=user.env(),
        capture_output=True,
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.decode().strip()
