"""The body of ``POST /api/v1/branches/{name}/merge``: read strictly, or nothing is merged."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.server.git.conftest import GitServer
from tests.server.git.gitenv import GitUser
from tests.server.git.test_branches_api import ENDPOINT, push_branch

pytestmark = pytest.mark.e2e


def post_merge(server: GitServer, branch: str, content: bytes) -> httpx.Response:
    headers = {"authorization": f"Bearer {server.admin}", "content-type": "application/json"}
    url = f"{server.base}/api/v1/branches/{branch}/merge"
    return httpx.post(url, headers=headers, content=content, timeout=30)


def test_malformed_or_stale_bodies_merge_nothing(
    git_server: GitServer, alice: GitUser, tmp_path: Path
) -> None:
    git_server.trust(alice)
    tip = push_branch(
        git_server, alice, tmp_path / "w", "review/b", sign=True, old=ENDPOINT, new='"b.example"'
    )
    before = git_server.ctx.store.head("main")
    assert before is not None
    for raw, status in [
        (b"{", 400),
        (b'{"head": "' + tip.encode() + b'",}', 400),
        (b"[]", 400),
        (b'{"hed": "x"}', 422),
        (b'{"head": 5}', 422),
        (b'{"head": "' + tip[:12].encode() + b'"}', 422),
        (b'{"head": "' + before.encode() + b'"}', 409),
    ]:
        refused = post_merge(git_server, "review/b", raw)
        assert refused.status_code == status, (raw, refused.text)
        assert git_server.ctx.store.head("main") == before
        assert git_server.ctx.live.revision == before
    merged = post_merge(git_server, "review/b", b'{"head": "' + tip.encode() + b'"}')
    assert merged.status_code == 200, merged.text
    assert merged.json() == {"mode": "fast-forward", "revision": tip, "commits": [tip]}
    assert git_server.ctx.store.head("main") == tip
