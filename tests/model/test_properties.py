"""Property tests: whatever the input, the only error is a ConfigError, and
formatting never changes data."""

from __future__ import annotations

import datetime
import tomllib
from typing import Any

import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drago.errors import ConfigError
from drago.model.format import format_text
from drago.model.load import ParseCache, load_file
from drago.model.state import SourceFile
from drago.model.validate import Validator
from tests.model.repo import example_files

EXAMPLE = example_files()
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FOLDERS = st.sampled_from(["networks", "nodes", "keys"])
NAMES = st.sampled_from(["fra-1", "nyc-1", "backbone", "site", "x"])

#: Keys of every schema table, so generated documents reach the validators.
KEYS = [
    "description", "address_range", "listen_port", "persistent_keepalive", "mtu", "dns",
    "connections", "between", "allowed_ips", "endpoint", "labels", "interfaces", "address",
    "endpoint_port", "ifname", "routes", "public_key", "backbone", "site", "role=hub", "*",
]  # fmt: skip
SCALARS = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(
        [
            "10.20.0.0/16", "10.20.0.1/16", "10.20.0.1", "::1/128", "fd00::/8", "*",
            "role=hub", "fra-1", "backbone", "a,b", "0.0.0.0/0", 51820, 25, 1420,
            "v/4GQk7c6xGmG93rIbzARy+d0lnpH8HktralhV/cc3I=",
        ]
    ),
    st.datetimes(timezones=st.just(datetime.UTC)),
    st.dates(),
)  # fmt: skip


def documents(keys: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, Any]]:
    values = st.recursive(
        SCALARS,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
        max_leaves=12,
    )
    return st.dictionaries(keys, values, max_size=6)


SCHEMA_DOCS = documents(st.sampled_from(KEYS))
ANY_DOCS = documents(st.text(min_size=1, max_size=8))


def check(files: list[SourceFile]) -> None:
    try:
        Validator().validate_files(files)
    except ConfigError as exc:
        assert exc.problems
        assert all(p.path and p.message for p in exc.problems)


@SETTINGS
@given(folder=FOLDERS, name=NAMES, data=st.binary(max_size=200))
def test_arbitrary_bytes_give_only_config_errors(folder: str, name: str, data: bytes) -> None:
    check([*EXAMPLE, SourceFile(f"{folder}/{name}.toml", data)])


@SETTINGS
@given(folder=FOLDERS, name=NAMES, document=SCHEMA_DOCS)
def test_schema_like_documents_give_only_config_errors(
    folder: str, name: str, document: dict[str, Any]
) -> None:
    data = tomli_w.dumps(document).encode()
    check([*EXAMPLE, SourceFile(f"{folder}/{name}.toml", data)])
    loaded = load_file(SourceFile(f"{folder}/{name}.toml", data), ParseCache())
    assert (loaded.model is None) == bool(loaded.problems)


@SETTINGS
@given(
    path=st.text(min_size=1, max_size=30),
    mode=st.sampled_from([0o100644, 0o100755, 0o120000, 0o160000]),
)
def test_arbitrary_paths_give_only_problems(path: str, mode: int) -> None:
    check([SourceFile(path, b"", mode)])


@SETTINGS
@given(document=ANY_DOCS | SCHEMA_DOCS, folder=FOLDERS)
def test_format_keeps_data_and_is_idempotent(document: dict[str, Any], folder: str) -> None:
    text = tomli_w.dumps(document)
    once = format_text(f"{folder}/x.toml", text)
    assert tomllib.loads(once) == tomllib.loads(text)
    assert format_text(f"{folder}/x.toml", once) == once


@SETTINGS
@given(
    comment=st.text(
        alphabet=st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\x7f"),
        max_size=20,
    )
)
def test_format_keeps_any_comment(comment: str) -> None:
    text = f'# {comment}\naddress_range = "10.0.0.0/8"  # {comment}\n'
    out = format_text("networks/x.toml", text)
    assert out.count(f"# {comment}".rstrip()) >= 2 or comment.strip() == ""


@SETTINGS
@given(document=SCHEMA_DOCS | ANY_DOCS, folder=FOLDERS, data=st.data())
def test_format_keeps_every_comment_line(
    document: dict[str, Any], folder: str, data: st.DataObject
) -> None:
    lines = tomli_w.dumps(document).split("\n")
    spots = data.draw(st.lists(st.integers(0, len(lines)), max_size=6))
    for number, spot in enumerate(sorted(spots, reverse=True)):
        lines.insert(spot, f"# c{number}")
    text = "\n".join(lines) + "\n"
    out = format_text(f"{folder}/x.toml", text)
    assert tomllib.loads(out) == tomllib.loads(text)
    for number in range(len(spots)):
        assert f"# c{number}" in out
    assert format_text(f"{folder}/x.toml", out) == out
