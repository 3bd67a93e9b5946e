"""A branch's upstream (``BRANCH@{u}``), found from the repository's config as git does.

``branch.NAME.remote`` and ``branch.NAME.merge`` name the remote and its branch;
the remote's ``fetch`` refspecs map that branch to the remote-tracking ref
(``refs/heads/main`` -> ``refs/remotes/origin/main``). A remote of ``.`` means
the upstream is a local branch.
"""

from __future__ import annotations

from dulwich.refs import Ref
from dulwich.repo import Repo

from drago.errors import InvalidRequest

_HEADS = "refs/heads/"


def upstream_ref(repo: Repo, branch: str) -> str:
    """The full ref name of ``branch``'s upstream ("" means the branch HEAD is on)."""
    if not branch:
        head = repo.refs.read_ref(Ref(b"HEAD"))
        if head is None or not head.startswith(b"ref: " + _HEADS.encode()):
            raise InvalidRequest("HEAD does not point to a branch, so it has no upstream")
        branch = head[len(b"ref: " + _HEADS.encode()) :].decode("utf-8", "surrogateescape")
    branch = branch.removeprefix(_HEADS)
    config = repo.get_config()
    section = (b"branch", branch.encode("utf-8", "surrogateescape"))
    try:
        remote = config.get(section, b"remote")
        merge = config.get(section, b"merge").decode("utf-8", "surrogateescape")
    except KeyError:
        raise InvalidRequest(f"no upstream configured for branch {branch!r}") from None
    if remote == b".":
        return merge
    for spec in config.get_multivar((b"remote", remote), b"fetch"):
        tracking = map_refspec(spec.decode("utf-8", "surrogateescape"), merge)
        if tracking is not None:
            return tracking
    raise InvalidRequest(
        f"the upstream of branch {branch!r} ({merge} of {remote.decode(errors='replace')}) "
        "is not stored as a remote-tracking branch"
    )


def map_refspec(spec: str, ref: str) -> str | None:
    """Where the fetch refspec ``spec`` stores the remote's ``ref``, or None."""
    if spec.startswith("^") or ":" not in spec:
        return None
    source, _, destination = spec.removeprefix("+").partition(":")
    if "*" not in source:
        return destination if source == ref and destination else None
    prefix, _, suffix = source.partition("*")
    if not ref.startswith(prefix) or not ref.endswith(suffix) or len(ref) < len(prefix + suffix):
        return None
    middle = ref[len(prefix) : len(ref) - len(suffix)]
    return destination.replace("*", middle, 1)
