"""A push and an API commit racing on the live branch: compare-and-swap, no lost update."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import anyio
import pytest

from drago.errors import Conflict
from drago.server.endpoint import Principal, Role
from drago.signing import AllowedSigner, PublicKey, Trust, TrustedSigners
from drago.store import Identity
from tests.server.git.conftest import GitServer
from tests.server.git.gitenv import GitUser

pytestmark = pytest.mark.e2e


def test_push_loses_to_an_api_commit_made_while_it_is_checked(
    git_server: GitServer, alice: GitUser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git_server.trust(alice)
    store = git_server.ctx.store
    api_commits: list[str] = []

    class RacingSigners(TrustedSigners):
        """Trusted signers whose lookup lets an API commit land mid-check."""

        def find(
            self, key: PublicKey, *, namespace: str = "git", when: datetime | None = None
        ) -> AllowedSigner | None:
            if not api_commits:
                base = store.head("main")
                api_commits.append(
                    store.commit(
                        {"notes.md": b"written through the API\n"},
                        message="api write",
                        author=Identity("api", "api@example.com"),
                        base=base,
                    )
                )
            return super().find(key, namespace=namespace, when=when)

    ctx = git_server.ctx
    racing = RacingSigners.load(ctx.datadir.allowed_signers, ctx.server_key)
    monkeypatch.setattr(ctx, "trust", Trust(racing))
    work = tmp_path / "work"
    alice.git("clone", "-q", git_server.url(git_server.admin), str(work))
    target = work / "nodes" / "fra-1.toml"
    target.write_text(target.read_text() + "\n# racing\n")
    alice.git("commit", "-q", "-S", "-am", "push", cwd=work)
    result = alice.git("push", "origin", "main", cwd=work, check=False)
    assert result.code != 0
    assert "non-fast-forward: main moved while this push was checked" in result.text
    assert store.head("main") == api_commits[0]
    assert store.read_file("main", "notes.md") == b"written through the API\n"


def test_api_commit_on_a_stale_base_after_a_push_is_a_conflict(
    git_server: GitServer, alice: GitUser, tmp_path: Path
) -> None:
    git_server.trust(alice)
    ctx = git_server.ctx
    stale = ctx.store.head("main")
    work = tmp_path / "work"
    alice.git("clone", "-q", git_server.url(git_server.admin), str(work))
    alice.git("commit", "-q", "-S", "--allow-empty", "-m", "pushed first", cwd=work)
    alice.git("push", "-q", "origin", "main", cwd=work)
    principal = Principal("t1", "admin", "admin@example.com", Role.admin)

    async def api_write() -> None:
        await ctx.commit({"notes.md": b"late\n"}, message="late", principal=principal, base=stale)

    with pytest.raises(Conflict):
        anyio.run(api_write)
    assert ctx.store.head("main") == alice.git("rev-parse", "HEAD", cwd=work).out.strip()
