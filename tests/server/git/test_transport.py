"""Clone, fetch and push over HTTP with tokens; gzip, chunked and oversized requests."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import httpx
import pytest

from drago.signing import ServerKey
from drago.store import Identity
from tests.server.git.conftest import GitServer
from tests.server.git.gitenv import GitUser

pytestmark = pytest.mark.e2e


def test_reader_clones_and_fetches_but_cannot_push(
    git_server: GitServer, alice: GitUser, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    alice.git("clone", "-q", git_server.url(git_server.reader), str(work))
    assert (work / "nodes" / "fra-1.toml").is_file()
    assert alice.git("rev-parse", "HEAD", cwd=work).out.strip() == git_server.ctx.store.head()
    alice.git("fetch", "-q", "origin", cwd=work)
    alice.git("commit", "-q", "--allow-empty", "-m", "x", cwd=work)
    result = alice.git("push", "origin", "HEAD:review/r", cwd=work, check=False)
    assert result.code != 0
    assert "403" in result.text


@pytest.mark.parametrize("who", ["none", "bad", "node"])
def test_clone_needs_a_reader_or_admin_token(
    git_server: GitServer, alice: GitUser, tmp_path: Path, who: str
) -> None:
    token = {"none": None, "bad": "drago_not-a-token", "node": git_server.node}[who]
    result = alice.git("clone", "-q", git_server.url(token), str(tmp_path / "w"), check=False)
    assert result.code != 0
    assert ("403" if who == "node" else "Authentication failed") in result.text or (
        who == "none" and "could not read Username" in result.text
    )


def test_info_refs_answers_401_with_a_basic_challenge(git_server: GitServer) -> None:
    url = f"{git_server.base}/repo.git/info/refs?service=git-upload-pack"
    response = httpx.get(url)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic ")
    ok = httpx.get(url, auth=("x", git_server.reader))
    assert ok.status_code == 200
    assert ok.headers["content-type"] == "application/x-git-upload-pack-advertisement"
    assert ok.content.startswith(b"001e# service=git-upload-pack\n0000")
    dumb = httpx.get(f"{git_server.base}/repo.git/info/refs", auth=("x", git_server.reader))
    assert dumb.status_code == 403


def pkt(line: bytes) -> bytes:
    return f"{len(line) + 4:04x}".encode() + line


def test_gzip_request_body_is_accepted(git_server: GitServer) -> None:
    head = git_server.ctx.store.head()
    assert head is not None
    body = (
        pkt(b"want " + head.encode() + b" side-band-64k thin-pack ofs-delta\n")
        + b"0000"
        + pkt(b"done\n")
    )
    response = httpx.post(
        f"{git_server.base}/repo.git/git-upload-pack",
        content=gzip.compress(body),
        headers={
            "content-type": "application/x-git-upload-pack-request",
            "content-encoding": "gzip",
        },
        auth=("x", git_server.reader),
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-git-upload-pack-result"
    assert b"PACK" in response.content


def test_chunked_push_over_one_mib(git_server: GitServer, alice: GitUser, tmp_path: Path) -> None:
    work = tmp_path / "work"
    alice.git("clone", "-q", git_server.url(git_server.admin), str(work))
    for index in range(4):  # 3.2 MiB in all, each under max_push_object
        (work / f"blob-{index}.bin").write_bytes(os.urandom(800 << 10))
    alice.git("add", ".", cwd=work)
    alice.git("commit", "-q", "-m", "large file", cwd=work)
    result = alice.git("-c", "http.postBuffer=65536", "push", "origin", "HEAD:review/big", cwd=work)
    assert "review/big" in result.text
    sha = alice.git("rev-parse", "HEAD", cwd=work).out.strip()
    assert git_server.ctx.store.branches()["review/big"] == sha


def test_push_over_the_limit_is_refused_with_a_clear_error(
    git_server: GitServer, alice: GitUser, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    alice.git("clone", "-q", git_server.url(git_server.admin), str(work))
    for index in range(12):  # 9.4 MiB; the fixture allows 8 MiB (each under max_push_object)
        (work / f"huge-{index}.bin").write_bytes(os.urandom(800 << 10))
    alice.git("add", ".", cwd=work)
    alice.git("commit", "-q", "-m", "too large", cwd=work)
    result = alice.git("push", "origin", "HEAD:review/huge", cwd=work, check=False)
    assert result.code != 0
    assert "[remote rejected] HEAD -> review/huge" in result.text
    assert "larger than 8388608 bytes" in result.text, result.text
    assert "review/huge" not in git_server.ctx.store.branches()
    assert not list((git_server.ctx.store.path / "objects").glob("incoming-*"))


def test_server_commits_pass_git_verify_commit(
    git_server: GitServer, alice: GitUser, tmp_path: Path
) -> None:
    key = git_server.ctx.server_key
    assert isinstance(key, ServerKey)
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(key.allowed_signers_line() + "\n")
    work = tmp_path / "work"
    alice.git("clone", "-q", git_server.url(git_server.reader), str(work))
    result = alice.git(
        "-c", f"gpg.ssh.allowedSignersFile={allowed}", "verify-commit", "HEAD", cwd=work
    )
    assert f'Good "git" signature for {key.principal}' in result.text


def test_a_fetch_that_races_a_write_still_gets_the_tip_it_was_shown(
    git_server: GitServer,
) -> None:
    """The ref moves between the advertisement and the wants (stateless HTTP): the
    client still gets the tip it was shown, as from git http-backend."""
    auth = ("x", git_server.reader)
    shown = httpx.get(f"{git_server.base}/repo.git/info/refs?service=git-upload-pack", auth=auth)
    assert shown.status_code == 200
    store = git_server.ctx.store
    old = store.head()
    assert old is not None and old.encode() in shown.content
    new = store.commit(
        {"notes.md": b"moved meanwhile\n"},
        message="a write between the two requests",
        author=Identity("api", "api@example.com"),
        base=old,
    )
    assert store.head() == new
    body = (
        pkt(b"want " + old.encode() + b" side-band-64k thin-pack ofs-delta\n")
        + b"0000"
        + pkt(b"done\n")
    )
    response = httpx.post(
        f"{git_server.base}/repo.git/git-upload-pack",
        content=body,
        headers={"content-type": "application/x-git-upload-pack-request"},
        auth=auth,
    )
    assert response.status_code == 200, response.text
    assert b"PACK" in response.content
    never_shown = "0" * 39 + "1"
    bad = (
        pkt(b"want " + never_shown.encode() + b" thin-pack ofs-delta\n") + b"0000" + pkt(b"done\n")
    )
    refused = httpx.post(
        f"{git_server.base}/repo.git/git-upload-pack",
        content=bad,
        headers={"content-type": "application/x-git-upload-pack-request"},
        auth=auth,
    )
    assert b"PACK" not in refused.content
