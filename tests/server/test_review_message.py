"""The squash merge's message quotes pushed summaries so the store accepts it."""

from __future__ import annotations

from drago.grammar import message_problem
from drago.server.review import BranchCommit, squash_message
from drago.store import Identity
from drago.store.records import CommitInfo

EVE = Identity("Eve", "eve@example.org")


def test_pushed_summaries_with_control_characters_are_escaped() -> None:
    info = CommitInfo("ab" * 20, (), EVE, EVE, 0, "evil\x1b[2K\x9b subject\n\nbody\n", None)
    message = squash_message("review", [BranchCommit(info, None, None)])
    assert message_problem(message) is None
    assert "- abababa evil\\x1b[2K\\x9b subject (" in message
