"""Property: any sequence of change sets gives the files a plain dict model predicts."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drago.errors import InvalidRequest, NotFound
from drago.store import GitStore
from tests.store.conftest import ANN

_paths = st.sampled_from(
    ["a", "b", "d/x", "d/y", "d/e/z", "networks/n.toml", "nodes/a.toml", "nodes/b.toml"]
)
_changes = st.dictionaries(_paths, st.one_of(st.none(), st.binary(max_size=20)), max_size=4)


def _apply(model: dict[str, bytes], changes: dict[str, bytes | None]) -> dict[str, bytes]:
    result = dict(model)
    for path, content in changes.items():
        if content is None:
            if path not in result:
                raise NotFound(path)
            del result[path]
        else:
            result[path] = content
    folders = {"/".join(p.split("/")[:i]) for p in result for i in range(1, p.count("/") + 1)}
    if folders & set(result):
        raise InvalidRequest("file/folder clash")
    return result


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_changes, min_size=1, max_size=5))
def test_files_match_a_dict_model(steps: list[dict[str, bytes | None]]) -> None:
    with tempfile.TemporaryDirectory() as tmp, GitStore.init(Path(tmp) / "r.git") as store:
        model: dict[str, bytes] = {}
        head: str | None = None
        for changes in steps:
            try:
                expected = _apply(model, changes)
            except (NotFound, InvalidRequest) as error:
                try:
                    store.commit(changes, message="m", author=ANN, base=head)
                except (NotFound, InvalidRequest) as raised:
                    assert type(raised) is type(error)
                else:
                    raise AssertionError(f"{changes} should fail like {error!r}")
                assert store.head() == head
                continue
            new = store.commit(changes, message="m", author=ANN, base=head, allow_empty=True)
            assert {f.path: f.data for f in store.files(new)} == expected
            changed = {c.path for c in store.diff(head, new)}
            assert changed == {
                p for p in expected.keys() | model.keys() if expected.get(p) != model.get(p)
            }
            model, head = expected, new
