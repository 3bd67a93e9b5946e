"""Editing TOML files in place: comments and the order of untouched keys survive."""

from __future__ import annotations

import tomllib

import pytest

from drago.errors import ConfigError
from drago.model import documents

NODE = """\
# Frankfurt gateway, owned by netops
description = "Frankfurt gateway"   # shown in the UI
endpoint = "fra-1.example.net"      # public DNS name
labels = { role = "core", cloud = "hetzner" }

# backbone membership
[interfaces.backbone]
address = "10.20.0.1/16"            # first host
listen_port = 51820
routes = ["10.100.0.0/16"]          # Hetzner private network

[interfaces.site]
address = "10.30.0.2/16"
"""


def test_unchanged_data_keeps_the_text_byte_for_byte() -> None:
    data = tomllib.loads(NODE)
    assert documents.update("nodes/fra-1.toml", NODE, data) == NODE


def test_changed_value_keeps_comments_and_order() -> None:
    data = tomllib.loads(NODE)
    data["endpoint"] = "fra-2.example.net"
    data["interfaces"]["backbone"]["listen_port"] = 51830
    out = documents.update("nodes/fra-1.toml", NODE, data)
    assert 'endpoint = "fra-2.example.net"      # public DNS name' in out
    assert "listen_port = 51830" in out
    assert out.replace("fra-2", "fra-1").replace("51830", "51820") == NODE


def test_removed_keys_disappear_and_new_keys_go_to_the_end_of_their_table() -> None:
    data = tomllib.loads(NODE)
    del data["interfaces"]["site"]
    del data["interfaces"]["backbone"]["routes"]
    data["interfaces"]["backbone"]["mtu"] = 1380
    data["labels"]["tier"] = "gold"
    out = documents.update("nodes/fra-1.toml", NODE, data)
    assert tomllib.loads(out) == data
    assert "[interfaces.site]" not in out
    assert "Hetzner private network" not in out
    backbone = out.split("[interfaces.backbone]")[1]
    assert backbone.index("listen_port") < backbone.index("mtu = 1380")
    assert "# Frankfurt gateway, owned by netops" in out
    assert "# backbone membership" in out


def test_new_top_level_value_goes_before_the_comment_that_introduces_a_table() -> None:
    data = tomllib.loads(NODE)
    data["extra"] = 5
    out = documents.update("nodes/fra-1.toml", NODE, data)
    assert out.index("extra = 5") < out.index("# backbone membership")
    assert tomllib.loads(out) == data


def test_none_means_absent() -> None:
    data = tomllib.loads(NODE)
    data["endpoint"] = None
    out = documents.update("nodes/fra-1.toml", NODE, data)
    assert "endpoint" not in tomllib.loads(out)
    assert "# shown in the UI" in out


def test_create_writes_tables_for_groups_and_inline_tables_for_maps() -> None:
    out = documents.create(
        {
            "description": "x",
            "labels": {"role": "edge"},
            "interfaces": {"site": {"address": "10.30.0.9/16", "routes": []}},
        }
    )
    assert out == (
        'description = "x"\nlabels = {role = "edge"}\n\n'
        '[interfaces.site]\naddress = "10.30.0.9/16"\nroutes = []\n'
    )


NETWORK = """\
address_range = "10.20.0.0/16"

# the mesh
[[connections]]
between = ["role=core", "role=core"]  # every core
description = "mesh"

# backup
[[connections]]
between = ["ber-gw", "nyc-1"]
"""


def test_array_of_tables_is_edited_element_by_element() -> None:
    data = tomllib.loads(NETWORK)
    data["connections"][1]["persistent_keepalive"] = 15
    data["connections"].append({"between": ["a", "b"], "allowed_ips": {"a": ["10.1.0.0/16"]}})
    out = documents.update("networks/backbone.toml", NETWORK, data)
    assert tomllib.loads(out) == data
    assert "# every core" in out and "# the mesh" in out and "# backup" in out


def test_remove_array_item() -> None:
    out = documents.remove_array_item("networks/backbone.toml", NETWORK, "connections", 0)
    assert tomllib.loads(out)["connections"] == [{"between": ["ber-gw", "nyc-1"]}]
    assert "# every core" not in out
    last = documents.remove_array_item("networks/backbone.toml", out, "connections", 0)
    assert "connections" not in tomllib.loads(last)
    with pytest.raises(IndexError):
        documents.remove_array_item("networks/backbone.toml", NETWORK, "connections", 2)


def test_syntax_errors_name_the_file() -> None:
    with pytest.raises(ConfigError) as info:
        documents.update("nodes/x.toml", "a = = 1", {})
    assert info.value.problems[0].path == "nodes/x.toml"


def test_a_group_table_emptied_by_an_update_keeps_its_header() -> None:
    text = documents.create({"a": {"b": {}}})
    assert text == "[a.b]\n"
    out = documents.update("x.toml", text, {"a": {}})
    assert tomllib.loads(out) == {"a": {}}
