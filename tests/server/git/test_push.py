"""Pushes to the live branch with the real git client: the push check end to end."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest

from drago.server.endpoint import Role
from tests.server.git.conftest import GitServer
from tests.server.git.gitenv import GitUser, run, with_signature, write_commit

pytestmark = pytest.mark.e2e

FRA = Path("nodes/fra-1.toml")


def clone(server: GitServer, user: GitUser, work: Path) -> Path:
    user.git("clone", "-q", server.url(server.admin), str(work))
    return work


def edit(work: Path, path: Path = FRA, text: str = "\n# edited\n") -> None:
    target = work / path
    target.write_text(target.read_text() + text)


def head(user: GitUser, work: Path, rev: str = "HEAD") -> str:
    return user.git("rev-parse", rev, cwd=work).out.strip()


def server_has(server: GitServer, sha: str) -> bool:
    repo = server.ctx.store.path
    proc = subprocess.run(
        ["git", f"--git-dir={repo}", "cat-file", "-e", sha], capture_output=True, timeout=30
    )
    return proc.returncode == 0


def no_quarantine_left(server: GitServer) -> bool:
    return not list((server.ctx.store.path / "objects").glob("incoming-*"))


def test_signed_push_is_accepted_and_live(
    git_server: GitServer, alice: GitUser, tmp_path: Path
) -> None:
    git_server.trust(alice)
    work = clone(git_server, alice, tmp_path / "work")
    edit(work)
    alice.git("commit", "-q", "-S", "-am", "first", cwd=work)
    edit(work, text="\n# again\n")
    alice.git("commit", "-q", "-S", "-am", "second", cwd=work)
    result = alice.git("push", "origin", "main", cwd=work)
    assert "main -> main" in result.text
    sha = head(alice, work)
    assert git_server.ctx.store.head("main") == sha
    assert git_server.ctx.live.revision == sha
    assert git_server.ctx.live.rendered_revision == sha  # the push answers once it is served
    assert no_quarantine_left(git_server)


def rejected_push(user: GitUser, work: Path, refspec: str = "HEAD:main") -> str:
    result = user.git("push", "origin", refspec, cwd=work, check=False)
    assert result.code != 0, result.text
    assert "[remote rejected]" in result.text, result.text
    return result.text


def test_unsigned_commit_is_rejected_and_leaves_nothing(
    git_server: GitServer, alice: GitUser, tmp_path: Path
) -> None:
    git_server.trust(alice)
    before = git_server.ctx.store.head("main")
    work = clone(git_server, alice, tmp_path / "work")
    edit(work)
    alice.git("commit", "-q", "-S", "-am", "signed", cwd=work)
    edit(work, text="\n# unsigned\n")
    alice.git("commit", "-q", "-am", "unsigned", cwd=work)
    text = rejected_push(alice, work)
    sha = head(alice, work)
    assert f"commit {sha[:7]}: unsigned commit" in text
    assert git_server.ctx.store.head("main") == before
    assert git_server.ctx.live.revision == before
    assert not server_has(git_server, sha)
    assert not server_has(git_server, head(alice, work, "HEAD~1"))
    assert no_quarantine_left(git_server)


def test_tampered_commit_is_rejected(git_server: GitServer, alice: GitUser, tmp_path: Path) -> None:
    git_server.trust(alice)
    work = clone(git_server, alice, tmp_path / "work")
    edit(work)
    alice.git("commit", "-q", "-S", "-am", "honest message", cwd=work)
    raw = run(["git", "cat-file", "commit", "HEAD"], cwd=work, env=alice.env()).out.encode()
    tampered = write_commit(alice, work, raw.replace(b"honest message", b"forged message"))
    text = rejected_push(alice, work, f"{tampered}:refs/heads/main")
    assert f"commit {tampered[:7]}: signature does not verify" in text


def unsigned_raw(user: GitUser, work: Path) -> bytes:
    edit(work)
    user.git("commit", "-q", "-am", "to be signed by hand", cwd=work)
    return run(["git", "cat-file", "commit", "HEAD"], cwd=work, env=user.env()).out.encode()


def test_wrong_namespace_is_rejected(git_server: GitServer, alice: GitUser, tmp_path: Path) -> None:
    git_server.trust(alice)
    work = clone(git_server, alice, tmp_path / "work")
    raw = unsigned_raw(alice, work)
    payload = tmp_path / "payload"
    payload.write_bytes(raw)
    run(["ssh-keygen", "-q", "-Y", "sign", "-f", str(alice.key), "-n", "file", str(payload)])
    signature = (tmp_path / "payload.sig").read_bytes()
    sha = write_commit(alice, work, with_signature(raw, signature))
    text = rejected_push(alice, work, f"{sha}:refs/heads/main")
    assert f"commit {sha[:7]}: signature namespace is 'file', expected 'git'" in text


def test_gpg_signature_is_rejected(git_server: GitServer, alice: GitUser, tmp_path: Path) -> None:
    work = clone(git_server, alice, tmp_path / "work")
    raw = unsigned_raw(alice, work)
    fake = b"-----BEGIN PGP SIGNATURE-----\n\niQEzBAABCAAdFiEE\n-----END PGP SIGNATURE-----\n"
    sha = write_commit(alice, work, with_signature(raw, fake))
    text = rejected_push(alice, work, f"{sha}:refs/heads/main")
    assert "signed with GPG, not an SSH key" in text


def test_untrusted_key_is_rejected(git_server: GitServer, alice: GitUser, tmp_path: Path) -> None:
    mallory = GitUser.create(tmp_path / "mallory", "mallory@example.com")
    git_server.trust(alice)
    work = clone(git_server, mallory, tmp_path / "work")
    edit(work)
    mallory.git("commit", "-q", "-S", "-am", "sneaky", cwd=work)
    text = rejected_push(mallory, work)
    assert "is not a trusted signer" in text
    assert "SHA256:" in text


def test_trusting_a_signer_takes_effect_without_restart(
    git_server: GitServer, alice: GitUser, tmp_path: Path
) -> None:
    work = clone(git_server, alice, tmp_path / "work")
    edit(work)
    alice.git("commit", "-q", "-S", "-am", "before trust", cwd=work)
    assert "is not a trusted signer" in rejected_push(alice, work)
    git_server.trust(alice)
    alice.git("push", "-q", "origin", "HEAD:main", cwd=work)
    assert git_server.ctx.store.head("main") == head(alice, work)


def test_invalid_tree_is_rejected_naming_file_and_key(
    git_server: GitServer, alice: GitUser, tmp_path: Path
) -> None:
    git_server.trust(alice)
    work = clone(git_server, alice, tmp_path / "work")
    target = work / FRA
    target.write_text(target.read_text().replace('"10.20.0.1/16"', '"not-an-address"'))
    alice.git("commit", "-q", "-S", "-am", "break it", cwd=work)
    text = rejected_push(alice, work)
    assert f"commit {head(alice, work)[:7]}: invalid: nodes/fra-1.toml" in text
    assert "interfaces.backbone.address" in text
    metrics = httpx.get(f"{git_server.base}/metrics").text
    assert 'drago_validation_failures_total{source="push"} 1.0' in metrics


def test_force_push_and_deleting_main_are_rejected(
    git_server: GitServer, alice: GitUser, tmp_path: Path
) -> None:
    git_server.trust(alice)
    work = clone(git_server, alice, tmp_path / "work")
    edit(work)
    alice.git("commit", "-q", "-S", "-am", "one", cwd=work)
    alice.git("push", "-q", "origin", "main", cwd=work)
    alice.git("reset", "-q", "--hard", "HEAD~1", cwd=work)
    edit(work, text="\n# rewritten\n")
    alice.git("commit", "-q", "-S", "-am", "rewrite", cwd=work)
    text = rejected_push(alice, work, "+HEAD:main")
    assert "non-fast-forward" in text
    text = rejected_push(alice, work, ":main")
    assert "the live branch main cannot be deleted" in text


def test_review_branch_takes_unsigned_commits_and_is_not_live(
    git_server: GitServer, alice: GitUser, tmp_path: Path
) -> None:
    live = git_server.ctx.live.revision
    work = clone(git_server, alice, tmp_path / "work")
    edit(work)
    alice.git("commit", "-q", "-am", "unsigned review", cwd=work)
    alice.git("push", "-q", "origin", "HEAD:review/x", cwd=work)
    assert git_server.ctx.store.branches()["review/x"] == head(alice, work)
    assert git_server.ctx.live.revision == live
    alice.git("push", "-q", "origin", ":review/x", cwd=work)
    assert "review/x" not in git_server.ctx.store.branches()


def test_atomic_push_is_all_or_nothing(
    git_server: GitServer, alice: GitUser, tmp_path: Path
) -> None:
    git_server.trust(alice)
    before = git_server.ctx.store.branches()
    work = clone(git_server, alice, tmp_path / "work")
    edit(work)
    alice.git("commit", "-q", "-am", "unsigned", cwd=work)
    alice.git("branch", "feature", cwd=work)
    for flags in (["--atomic"], []):
        result = alice.git(
            "push", *flags, "origin", "feature:feature", "HEAD:main", cwd=work, check=False
        )
        assert result.code != 0
        assert "unsigned commit" in result.text
        assert "all-or-nothing" in result.text or "atomic" in result.text
        assert git_server.ctx.store.branches() == before
    assert not server_has(git_server, head(alice, work))


def test_atomic_push_moves_all_refs(git_server: GitServer, alice: GitUser, tmp_path: Path) -> None:
    git_server.trust(alice)
    work = clone(git_server, alice, tmp_path / "work")
    edit(work)
    alice.git("commit", "-q", "-S", "-am", "signed", cwd=work)
    alice.git("push", "-q", "--atomic", "origin", "HEAD:main", "HEAD:review/a", cwd=work)
    branches = git_server.ctx.store.branches()
    assert branches["main"] == branches["review/a"] == head(alice, work)
    assert git_server.ctx.live.revision == head(alice, work)


def test_unsigned_commit_from_a_review_branch_cannot_reach_main(
    git_server: GitServer, alice: GitUser, tmp_path: Path
) -> None:
    git_server.trust(alice)
    work = clone(git_server, alice, tmp_path / "work")
    edit(work)
    alice.git("commit", "-q", "-am", "unsigned", cwd=work)
    alice.git("push", "-q", "origin", "HEAD:review/sneak", cwd=work)
    text = rejected_push(alice, work)
    assert f"commit {head(alice, work)[:7]}: unsigned commit" in text


def test_a_push_that_removes_a_node_revokes_its_tokens(
    git_server: GitServer, alice: GitUser, tmp_path: Path
) -> None:
    git_server.trust(alice)
    _, secret = git_server.ctx.tokens.create(Role.node, node="sgp-1")
    whoami = f"{git_server.base}/api/v1/whoami"
    bearer = {"Authorization": f"Bearer {secret}"}
    assert httpx.get(whoami, headers=bearer).status_code == 200
    work = clone(git_server, alice, tmp_path / "work")
    alice.git("rm", "-q", "nodes/sgp-1.toml", "keys/sgp-1.toml", cwd=work)
    alice.git("commit", "-q", "-S", "-m", "remove sgp-1", cwd=work)
    alice.git("push", "origin", "main", cwd=work)
    assert git_server.ctx.live.revision == head(alice, work)
    assert httpx.get(whoami, headers=bearer).status_code == 401
    node = {"Authorization": f"Bearer {git_server.node}"}  # fra-1 stays
    assert httpx.get(whoami, headers=node).status_code == 200
