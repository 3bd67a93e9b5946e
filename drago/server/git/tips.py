"""Tips recently advertised to git clients, so a fetch that races a write still works.

Smart HTTP is stateless: a client reads the ref advertisement
(``GET info/refs``), then sends its wants in a second request (``POST
git-upload-pack``). dulwich's upload-pack accepts only wants that are
current tips, so a branch that moved between the two requests (an API
commit, a push, a replica mirroring a busy primary) made the fetch fail with
"Client wants invalid object". git's own ``http-backend`` accepts any want
reachable from a ref in this mode.

:class:`RecentTips` remembers the tips each advertisement showed (bounded in
number and age); :class:`FetchRepo` is the repository view upload-pack reads
through: advertising, it records what it advertises; answering wants, it
also accepts a recently advertised tip that the object store still has. Every
tip ever advertised was readable by a reader at that time, and readers may
read the whole history, so accepting it reveals nothing new.

Finding what to send, :class:`FetchRepo` walks the history only as far back as
the wants can reach (:mod:`drago.server.git.ancestry`), through the store's
cached commit graph.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping

from dulwich.config import ConfigFile
from dulwich.object_store import GraphWalker, MissingObjectFinder
from dulwich.objects import ObjectID
from dulwich.refs import Ref
from dulwich.repo import Repo

from drago.server.git.ancestry import Ancestry, FetchObjects

#: Tips remembered, and for how long (seconds).
MAX_TIPS = 256
MAX_AGE = 600.0

_PREFIX = b"refs/drago-advertised/"


class RecentTips:
    """Commit ids recently advertised, newest last; thread-safe."""

    def __init__(
        self,
        *,
        limit: int = MAX_TIPS,
        max_age: float = MAX_AGE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limit = limit
        self._max_age = max_age
        self._clock = clock
        self._tips: OrderedDict[bytes, float] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, tips: Iterable[bytes]) -> None:
        now = self._clock()
        with self._lock:
            for tip in tips:
                self._tips[tip] = now
                self._tips.move_to_end(tip)
            while len(self._tips) > self._limit:
                self._tips.popitem(last=False)

    def recent(self) -> list[bytes]:
        """The tips advertised within ``max_age``, oldest first."""
        horizon = self._clock() - self._max_age
        with self._lock:
            while self._tips and next(iter(self._tips.values())) < horizon:
                self._tips.popitem(last=False)
            return list(self._tips)


class FetchRepo(Repo):
    """The repository as upload-pack sees it (see the module docstring)."""

    def __init__(
        self, root: str, tips: RecentTips, *, advertising: bool, ancestry: Ancestry
    ) -> None:
        """``ancestry``: the store's commit graph, for the walk over the history."""
        objects = FetchObjects.from_config(
            os.path.join(root, "objects"), ConfigFile.from_path(os.path.join(root, "config"))
        )
        assert isinstance(objects, FetchObjects)
        self._objects = objects
        super().__init__(root, object_store=objects)
        self._recent = tips
        self._advertising = advertising
        self._ancestry = ancestry
        self._extra: dict[Ref, ObjectID] = {}

    def find_missing_objects(
        self,
        determine_wants: Callable[[Mapping[Ref, ObjectID], int | None], list[ObjectID]],
        graph_walker: GraphWalker,
        progress: Callable[[bytes], None] | None,
        *,
        get_tagged: Callable[[], dict[ObjectID, ObjectID]] | None = None,
        depth: int | None = None,
    ) -> MissingObjectFinder | None:
        def wants(refs: Mapping[Ref, ObjectID], depth: int | None = None) -> list[ObjectID]:
            wanted = determine_wants(refs, depth)
            self._objects.bound(self._ancestry, wanted)
            return wanted

        return super().find_missing_objects(
            wants, graph_walker, progress, get_tagged=get_tagged, depth=depth
        )

    def get_refs(self) -> dict[Ref, ObjectID]:
        refs = super().get_refs()
        if self._advertising:
            self._recent.remember(refs.values())
            return refs
        current = set(refs.values())
        self._extra = {
            Ref(_PREFIX + str(index).encode()): ObjectID(tip)
            for index, tip in enumerate(self._recent.recent())
            if tip not in current and ObjectID(tip) in self.object_store
        }
        return {**refs, **self._extra}

    def get_peeled(self, ref: Ref) -> ObjectID:
        extra = self._extra.get(ref)
        if extra is not None:  # a remembered tip: a commit, its own peeled value
            return extra
        return super().get_peeled(ref)


__all__ = ["MAX_AGE", "MAX_TIPS", "FetchRepo", "RecentTips"]
