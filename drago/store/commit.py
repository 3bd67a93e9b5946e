"""Building one commit object: identities, time, message and signature."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from dulwich.objects import Commit, ObjectID

from drago.errors import InvalidRequest, SignatureError
from drago.grammar import message_problem
from drago.store.records import Identity

#: Makes the armored signature of a commit payload (the commit without gpgsig).
SignPayload = Callable[[bytes], bytes]


def build_commit(
    *,
    tree: str,
    parents: Sequence[str],
    message: str,
    author: Identity,
    committer: Identity,
    timestamp: int,
    sign: SignPayload | None = None,
) -> Commit:
    """A commit object; with ``sign``, its payload signed into the gpgsig header."""
    if not message.strip():
        raise InvalidRequest("the commit message is empty")
    problem = message_problem(message)  # a NUL byte too
    if problem is not None:
        raise InvalidRequest(problem)
    commit = Commit()
    commit.tree = ObjectID(tree.encode("ascii"))
    commit.parents = [ObjectID(p.encode("ascii")) for p in parents]
    commit.author = author.to_git()
    commit.committer = committer.to_git()
    commit.author_time = commit.commit_time = timestamp
    commit.author_timezone = commit.commit_timezone = 0
    commit.message = (message if message.endswith("\n") else message + "\n").encode("utf-8")
    if sign is not None:
        signature = sign(commit.as_raw_string())
        if not isinstance(signature, bytes) or not signature.strip():
            raise SignatureError("the signer returned no signature")
        # Git stores the armored text without its final newline.
        commit.gpgsig = signature.rstrip(b"\n")
    return commit
