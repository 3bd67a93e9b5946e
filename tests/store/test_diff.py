from __future__ import annotations

from drago.store import FileChange, GitStore
from tests.store.conftest import ANN, NETWORK, NODE_A, NODE_B


def test_diff_lists_added_modified_and_deleted_files(seeded: tuple[GitStore, str]) -> None:
    store, first = seeded
    second = store.commit(
        {"nodes/fra-1.toml": NODE_B, "nodes/nyc-1.toml": None, "keys/fra-1.toml": b"k"},
        message="m",
        author=ANN,
        base=first,
    )
    blobs = {f.path: f.blob_id for f in store.files(first)} | {
        f.path: f.blob_id for f in store.files(second)
    }
    nyc = next(f.blob_id for f in store.files(first) if f.path == "nodes/nyc-1.toml")
    fra_old = next(f.blob_id for f in store.files(first) if f.path == "nodes/fra-1.toml")
    assert store.diff(first, second) == [
        FileChange("keys/fra-1.toml", "added", None, blobs["keys/fra-1.toml"]),
        FileChange("nodes/fra-1.toml", "modified", fra_old, blobs["nodes/fra-1.toml"]),
        FileChange("nodes/nyc-1.toml", "deleted", nyc, None),
    ]
    assert store.diff(first, first) == []
    reverse = store.diff(second, first)
    assert [(c.path, c.status) for c in reverse] == [
        ("keys/fra-1.toml", "deleted"),
        ("nodes/fra-1.toml", "modified"),
        ("nodes/nyc-1.toml", "added"),
    ]


def test_diff_from_nothing_lists_every_file(seeded: tuple[GitStore, str]) -> None:
    store, first = seeded
    changes = store.diff(None, first)
    assert [(c.path, c.status, c.old_blob) for c in changes] == [
        ("networks/backbone.toml", "added", None),
        ("nodes/fra-1.toml", "added", None),
        ("nodes/nyc-1.toml", "added", None),
    ]
    assert store.read_blob(changes[0].new_blob or "") == NETWORK


def test_a_file_replaced_by_a_folder_is_a_deletion_and_additions(
    seeded: tuple[GitStore, str],
) -> None:
    store, first = seeded
    second = store.commit({"networks/backbone.toml": None}, message="m", author=ANN, base=first)
    third = store.commit(
        {"networks/backbone.toml/a": b"a", "networks/backbone.toml/b": b"b"},
        message="m",
        author=ANN,
        base=second,
    )
    assert [(c.path, c.status) for c in store.diff(first, third)] == [
        ("networks/backbone.toml", "deleted"),
        ("networks/backbone.toml/a", "added"),
        ("networks/backbone.toml/b", "added"),
    ]


def test_unified_diff_of_one_file(seeded: tuple[GitStore, str]) -> None:
    store, first = seeded
    second = store.commit(
        {"nodes/fra-1.toml": NODE_A.replace(b"10.20.0.1", b"10.20.0.9"), "nodes/x": b"no newline"},
        message="m",
        author=ANN,
        base=first,
    )
    assert store.unified_diff(first, second, "nodes/fra-1.toml") == (
        "--- a/nodes/fra-1.toml\n"
        "+++ b/nodes/fra-1.toml\n"
        "@@ -1,2 +1,2 @@\n"
        " [interfaces.backbone]\n"
        '-address = "10.20.0.1"\n'
        '+address = "10.20.0.9"\n'
    )
    assert store.unified_diff(first, second, "nodes/x") == (
        "--- /dev/null\n+++ b/nodes/x\n@@ -0,0 +1 @@\n+no newline\n\\ No newline at end of file\n"
    )
    assert store.unified_diff(None, first, "nodes/nyc-1.toml").startswith("--- /dev/null\n")
    assert store.unified_diff(first, second, "nodes/nyc-1.toml") == ""
    third = store.commit({"nodes/bin": b"\xff\xfe"}, message="m", author=ANN, base=second)
    assert store.unified_diff(second, third, "nodes/bin") == (
        "Binary files a/nodes/bin and b/nodes/bin differ\n"
    )
