"""Canonical formatting keeps comments and data."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

from drago.errors import ConfigError
from drago.model.format import dump_keys_file, format_directory, format_text
from drago.model.schema import KeyEntry, KeysFile

KEY_A = "v/4GQk7c6xGmG93rIbzARy+d0lnpH8HktralhV/cc3I="
KEY_B = "emaUGBvWr0CNaXQVq2egq/K0jN8MstSNuTpcYQh3/g4="

ROUTES = "[" + ",".join(f'"10.10{i}.0.0/24"' for i in range(1, 7)) + "]"
MESSY_NODE = """\
# Frankfurt gateway
# owner: netops

# routes first, address later: the formatter sorts them
labels.role = 'hub'
labels.cloud = "hetzner"
endpoint    =   "fra-1.example.net"   # public name
description = "Frankfurt"
dns = [ "10.0.0.1",   # primary
  "10.0.0.2" ]
custom = 1



# the backbone
[interfaces.backbone]
routes = ROUTES
address = "10.20.0.1/16"
# about the site interface

[interfaces.site]  # second network
listen_port = 51821
address = "10.30.0.1/16"
# the end
""".replace("ROUTES", ROUTES)

CANONICAL_NODE = """\
# Frankfurt gateway
# owner: netops

description = "Frankfurt"
endpoint = "fra-1.example.net"  # public name
# routes first, address later: the formatter sorts them
labels = { role = "hub", cloud = "hetzner" }
dns = [ "10.0.0.1",   # primary
  "10.0.0.2" ]
custom = 1

# the backbone
[interfaces.backbone]
address = "10.20.0.1/16"
routes = [
    "10.101.0.0/24",
    "10.102.0.0/24",
    "10.103.0.0/24",
    "10.104.0.0/24",
    "10.105.0.0/24",
    "10.106.0.0/24",
]

# about the site interface

[interfaces.site]  # second network
address = "10.30.0.1/16"
listen_port = 51821

# the end
"""


def test_node_file_is_canonical_and_keeps_comments() -> None:
    assert format_text("nodes/fra-1.toml", MESSY_NODE) == CANONICAL_NODE


def test_formatting_is_idempotent_and_keeps_data() -> None:
    once = format_text("nodes/fra-1.toml", MESSY_NODE)
    assert format_text("nodes/fra-1.toml", once) == once
    assert tomllib.loads(once) == tomllib.loads(MESSY_NODE)


def test_network_file_orders_connection_keys() -> None:
    text = (
        "[[connections]]\n"
        'allowed_ips = {"role=hub"=["10.30.0.0/16"]}\n'
        "between = ['a','b']\n"
        "address_range = 1\n"
    )
    source = 'address_range = "10.30.0.0/16"\ndescription = "site"\n\n' + text
    assert format_text("networks/site.toml", source) == (
        'description = "site"\n'
        'address_range = "10.30.0.0/16"\n'
        "\n"
        "[[connections]]\n"
        'between = ["a", "b"]\n'
        'allowed_ips = { "role=hub" = ["10.30.0.0/16"] }\n'
        "address_range = 1\n"
    )


def test_example_repo_is_canonical(example_repo: Path) -> None:
    assert format_directory(example_repo, check=True) == []


def test_invalid_toml_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        format_text("nodes/a.toml", "a = = 1\n")
    assert str(caught.value).startswith("nodes/a.toml: invalid TOML: ")


def test_format_directory_check_and_write(tmp_path: Path, example_repo: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(example_repo, repo)
    messy = repo / "nodes" / "fra-1.toml"
    messy.write_text(MESSY_NODE)
    messy.chmod(0o640)
    (repo / "README.md").write_text("not   toml = = \n")
    assert format_directory(repo, check=True) == ["nodes/fra-1.toml"]
    assert messy.read_text() == MESSY_NODE
    assert format_directory(repo, check=False) == ["nodes/fra-1.toml"]
    assert messy.read_text() == CANONICAL_NODE
    assert messy.stat().st_mode & 0o777 == 0o640
    assert format_directory(repo, check=False) == []
    assert sorted(p.name for p in (repo / "nodes").iterdir()) == sorted(
        p.name for p in (example_repo / "nodes").iterdir()
    )


def test_format_directory_writes_nothing_when_a_file_is_broken(tmp_path: Path) -> None:
    (tmp_path / "nodes").mkdir()
    (tmp_path / "nodes" / "a.toml").write_text("description    = 'a'\n")
    (tmp_path / "nodes" / "b.toml").write_text("x = [\n")
    with pytest.raises(ConfigError) as caught:
        format_directory(tmp_path, check=False)
    assert [p.path for p in caught.value.problems] == ["nodes/b.toml"]
    assert (tmp_path / "nodes" / "a.toml").read_text() == "description    = 'a'\n"


def test_dump_keys_file_is_canonical_and_sorted() -> None:
    keys = KeysFile(
        interfaces={"site": KeyEntry(public_key=KEY_B), "backbone": KeyEntry(public_key=KEY_A)}
    )
    text = dump_keys_file(keys)
    assert text == (
        f'[interfaces.backbone]\npublic_key = "{KEY_A}"\n\n'
        f'[interfaces.site]\npublic_key = "{KEY_B}"\n'
    )
    assert format_text("keys/fra-1.toml", text) == text
    assert KeysFile.model_validate(tomllib.loads(text)) == keys
    assert dump_keys_file(KeysFile()) == ""


def test_multi_line_strings_stay_readable() -> None:
    text = 'address_range = "10.0.0.0/8"\ndescription = """\nOffices.\nAnd laptops."""\n'
    assert format_text("networks/x.toml", text) == (
        'description = """\nOffices.\nAnd laptops."""\naddress_range = "10.0.0.0/8"\n'
    )
    one_line = "description = '''just one'''\n"
    assert format_text("networks/x.toml", one_line) == 'description = "just one"\n'
