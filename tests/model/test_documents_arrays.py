"""Arrays of tables (``[[connections]]``): the comment block above an element moves
with the element when elements are removed or reordered, and nothing else changes."""

from __future__ import annotations

import itertools
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drago.model import documents

HEADER = "[[connections]]"


def split_backbone(text: str) -> tuple[str, list[str], str]:
    """``text`` as the part before the array, one segment per element (the blank line
    and comments above its header, the header and its body) and the part after."""
    starts = []
    at = text.find(HEADER)
    while at != -1:
        starts.append(text.rfind("\n\n", 0, at) + 1)
        at = text.find(HEADER, at + 1)
    ends = [*starts[1:], len(text)]
    return text[: starts[0]], [text[a:b] for a, b in zip(starts, ends, strict=True)], ""


def own_comments(segment: str) -> list[str]:
    return [line for line in segment.splitlines() if line.startswith("#")]


# Each synthetic file: the part before the array, the element segments (comments above,
# header, body), the part after. SPACED has a file header, multi-line comments, a comment
# line directly under a value (it stays with its element), an element with a sub-table
# and a table after the array whose comment must stay above it. DENSE has no blank lines.
SPACED = (
    '# file header\n\nname = "x"\n',
    [
        '\n# first entry\n# (two lines)\n[[connections]]\nbetween = ["a", "b"]\n',
        '\n# second entry\n[[connections]]\nbetween = ["b", "c"]  # inline\n'
        'description = "two"\n# note under two\n',
        '\n# third entry\n[[connections]]\nbetween = ["c", "d"]\n\n'
        '[connections.allowed_ips]\nc = ["10.0.0.0/8"]  # the c side\n',
        '\n# fourth entry\n[[connections]]\nbetween = ["d", "e"]\n',
    ],
    '\n# the end\n[meta]\nowner = "me"\n',
)
DENSE = (
    'name = "x"\n',
    [
        '# first entry\n[[connections]]\nbetween = ["a", "b"]\n',
        '# second entry\n# (two lines)\n[[connections]]\nbetween = ["b", "c"]\n',
        '# third entry\n[[connections]]\nbetween = ["c", "d"]\n',
    ],
    "",
)


def example(name: str) -> tuple[str, list[str], str]:
    if name == "backbone":
        path = Path(__file__).parents[2] / "example-repo" / "networks" / "backbone.toml"
        return split_backbone(path.read_text())
    return SPACED if name == "spaced" else DENSE


FILES = ["backbone", "spaced", "dense"]
CASES = [(name, i) for name in FILES for i in range(len(example(name)[1]))]


def test_the_backbone_split_is_the_file() -> None:
    before, segments, after = example("backbone")
    assert len(segments) == 3
    assert all(len(own_comments(s)) == 1 for s in segments)
    assert (
        before + "".join(segments) + after
        == (Path(__file__).parents[2] / "example-repo" / "networks" / "backbone.toml").read_text()
    )


def assert_comments_attached(out: str, segments: list[str], gone: list[str]) -> None:
    """Each kept element's comments stand directly above its header; none of the
    removed elements' comments remain."""
    lines = out.splitlines()
    for segment in segments:
        comments = own_comments(segment.split(HEADER)[0])
        between = segment.split(HEADER)[1].splitlines()[1]
        header = next(
            i for i, line in enumerate(lines) if line == HEADER and lines[i + 1] == between
        )
        assert lines[header - len(comments) : header] == comments
    for segment in gone:
        for comment in own_comments(segment):
            assert comment not in out


@pytest.mark.parametrize(("name", "index"), CASES)
def test_removing_an_element_removes_exactly_its_segment(name: str, index: int) -> None:
    before, segments, after = example(name)
    text = before + "".join(segments) + after
    kept = segments[:index] + segments[index + 1 :]
    out = documents.remove_array_item("n.toml", text, "connections", index)
    assert out == before + "".join(kept) + after
    assert_comments_attached(out, kept, [segments[index]])
    data = tomllib.loads(text)
    del data["connections"][index]
    assert tomllib.loads(out) == data


@pytest.mark.parametrize(("name", "index"), CASES)
def test_a_put_without_an_element_removes_exactly_its_segment(name: str, index: int) -> None:
    before, segments, after = example(name)
    text = before + "".join(segments) + after
    data = tomllib.loads(text)
    del data["connections"][index]
    out = documents.update("n.toml", text, data)
    kept = segments[:index] + segments[index + 1 :]
    assert out == before + "".join(kept) + after
    assert_comments_attached(out, kept, [segments[index]])


@pytest.mark.parametrize("name", FILES)
def test_removing_every_element_one_by_one_leaves_the_rest(name: str) -> None:
    before, segments, after = example(name)
    text = before + "".join(segments) + after
    for _ in segments:
        text = documents.remove_array_item("n.toml", text, "connections", 0)
    assert text == before + after
    assert "connections" not in tomllib.loads(text)


@pytest.mark.parametrize("name", FILES)
def test_every_reorder_moves_the_segments(name: str) -> None:
    before, segments, after = example(name)
    text = before + "".join(segments) + after
    elements = tomllib.loads(text)["connections"]
    for order in itertools.permutations(range(len(segments))):
        data = tomllib.loads(text)
        data["connections"] = [elements[i] for i in order]
        out = documents.update("n.toml", text, data)
        assert out == before + "".join(segments[i] for i in order) + after, order
        assert_comments_attached(out, [segments[i] for i in order], [])


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(FILES), data=st.data())
def test_any_subset_in_any_order_keeps_each_segment_whole(name: str, data: st.DataObject) -> None:
    before, segments, after = example(name)
    text = before + "".join(segments) + after
    indices = st.integers(min_value=0, max_value=len(segments) - 1)
    order = data.draw(st.lists(indices, unique=True, min_size=1))
    new = tomllib.loads(text)
    new["connections"] = [new["connections"][i] for i in order]
    out = documents.update("n.toml", text, new)
    assert out == before + "".join(segments[i] for i in order) + after
    gone = [s for i, s in enumerate(segments) if i not in order]
    assert_comments_attached(out, [segments[i] for i in order], gone)


def test_an_edited_element_keeps_its_comments_and_place() -> None:
    before, segments, after = SPACED
    text = before + "".join(segments) + after
    data = tomllib.loads(text)
    data["connections"][1]["description"] = "changed"
    data["connections"][0], data["connections"][3] = data["connections"][3], data["connections"][0]
    out = documents.update("n.toml", text, data)
    edited = segments[1].replace('"two"', '"changed"')
    assert out == before + segments[3] + edited + segments[2] + segments[0] + after


def test_an_edited_and_moved_element_takes_its_comments_along() -> None:
    before, segments, after = SPACED
    text = before + "".join(segments) + after
    data = tomllib.loads(text)
    third = data["connections"].pop(2)
    third["allowed_ips"]["c"] = ["10.9.0.0/16"]
    data["connections"].insert(0, third)
    del data["connections"][1]
    out = documents.update("n.toml", text, data)
    moved = segments[2].replace("10.0.0.0/8", "10.9.0.0/16")
    assert out == before + moved + segments[1] + segments[3] + after


def test_a_new_element_gets_a_blank_line_and_the_end_stays_at_the_end() -> None:
    before, segments, after = SPACED
    text = before + "".join(segments) + after
    data = tomllib.loads(text)
    data["connections"].append({"between": ["e", "f"]})
    out = documents.update("n.toml", text, data)
    added = '\n[[connections]]\nbetween = ["e", "f"]\n'
    assert out == before + "".join(segments) + added + after
    assert tomllib.loads(out) == data


def test_a_file_ending_without_newline_keeps_valid_toml_when_its_last_element_moves() -> None:
    text = "[[c]]\na = 1\n\n# two\n[[c]]\na = 2"
    out = documents.update("n.toml", text, {"c": [{"a": 2}, {"a": 1}]})
    assert out == "\n# two\n[[c]]\na = 2\n[[c]]\na = 1\n"
    assert tomllib.loads(out) == {"c": [{"a": 2}, {"a": 1}]}
