"""Loading one file: hostile input becomes problems naming the file and key."""

from __future__ import annotations

import subprocess

import pytest

from drago.model.load import MAX_FILE_SIZE, ParseCache, git_blob_id, load_file
from drago.model.names import NAME_RULES
from drago.model.schema import NetworkFile, NodeFile
from drago.model.state import MODE_EXEC, MODE_SUBMODULE, MODE_SYMLINK, SourceFile


def messages(path: str, data: bytes, mode: int = 0o100644) -> list[str]:
    loaded = load_file(SourceFile(path, data, mode), ParseCache())
    return [str(p) for p in loaded.problems]


NETWORK = b'address_range = "10.20.0.0/16"\n'


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            b'adress_range = "10.20.0.0/16"\n',
            ["networks/n.toml: adress_range: unknown key (did you mean `address_range`?)"],
        ),
        (
            b'address_range = "10.20.0.1/16"\n',
            [
                "networks/n.toml: address_range: '10.20.0.1/16' has host bits set"
                " (did you mean 10.20.0.0/16?)"
            ],
        ),
        (
            b'address_range = "10.20.0.0/33"\n',
            [
                "networks/n.toml: address_range: '10.20.0.0/33'"
                " is not a valid CIDR (like 10.20.0.0/16)"
            ],
        ),
        (
            NETWORK + b"listen_port = 70000\n",
            ["networks/n.toml: listen_port: 70000 is out of range (must be at most 65535)"],
        ),
        (
            NETWORK + b"listen_port = 0\n",
            ["networks/n.toml: listen_port: 0 is out of range (must be at least 1)"],
        ),
        (
            NETWORK + b'listen_port = "51820"\n',
            ['networks/n.toml: listen_port: expected an integer, got a string ("51820")'],
        ),
        (
            NETWORK + b"mtu = true\n",
            ["networks/n.toml: mtu: expected an integer, got a boolean (true)"],
        ),
        (
            NETWORK + b'dns = "10.0.0.1"\n',
            ['networks/n.toml: dns: expected an array, got a string ("10.0.0.1")'],
        ),
        (
            NETWORK + b"description = 1979-05-27\n",
            ["networks/n.toml: description: expected a string, got a date/time"],
        ),
        (
            NETWORK + b'[[connections]]\nbetween = ["a"]\n',
            ["networks/n.toml: connections[0].between: has 1 items, expected 2"],
        ),
        (
            NETWORK + b'[[connections]]\nbetween = ["a", "b", "c"]\n',
            ["networks/n.toml: connections[0].between: has 3 items, expected 2"],
        ),
        (
            NETWORK + b'[[connections]]\nbetween = ["a", 1]\n',
            ["networks/n.toml: connections[0].between[1]: expected a string, got an integer"],
        ),
        (
            NETWORK + b'[[connections]]\nbetween = ["a", "role=="]\n',
            [
                "networks/n.toml: connections[0].between[1]: 'role==' is not a selector:"
                " use a node name, '*', or key=value[,key=value]"
            ],
        ),
        (
            NETWORK + b'[[connections]]\nbetween = ["a", "B"]\n',
            [
                "networks/n.toml: connections[0].between[1]:"
                " 'B' is not a valid name (use lower case: 'b')"
            ],
        ),
        (
            NETWORK + b'[[connections]]\nbetween = ["a", "b"]\nallowed_ips = { b = ["x"] }\n',
            [
                "networks/n.toml: connections[0].allowed_ips.b[0]:"
                " 'x' is not a valid CIDR (like 10.20.0.0/16)"
            ],
        ),
        (
            NETWORK + b'[[connections]]\nbetween = ["a", "b"]\nkeepalive = 5\n',
            [
                "networks/n.toml: connections[0].keepalive: unknown key"
                " (did you mean `persistent_keepalive`?)"
            ],
        ),
        (
            b"address_range = [\n",
            ["networks/n.toml: invalid TOML: Invalid value (at end of document)"],
        ),
        (
            b'address_range = "10.20.0.0/16"\naddress_range = "10.20.0.0/16"\n',
            ["networks/n.toml: invalid TOML: Cannot overwrite a value (at line 2, column 31)"],
        ),
        (b"\xff\xfe\x00", ["networks/n.toml: not UTF-8 text (byte 0xff at offset 0)"]),
        (
            b"a = " + b"[" * 5000 + b"]" * 5000 + b"\n",
            ["networks/n.toml: invalid TOML: nested too deeply"],
        ),
    ],
)
def test_network_file_problems(data: bytes, expected: list[str]) -> None:
    assert messages("networks/n.toml", data) == expected


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            b'[interfaces.backbone]\nadress = "10.20.0.1/16"\n',
            ["nodes/n.toml: interfaces.backbone.adress: unknown key (did you mean `address`?)"],
        ),
        (
            b'[interfaces.backbone]\naddress = "10.20.0.1"\n',
            [
                "nodes/n.toml: interfaces.backbone.address:"
                " '10.20.0.1' needs a prefix length (like 10.20.0.1/16)"
            ],
        ),
        (
            b'[interfaces.backbone]\naddress = "10.20.0.1/16"\nroutes = ["192.168.1.1/24"]\n',
            [
                "nodes/n.toml: interfaces.backbone.routes[0]:"
                " '192.168.1.1/24' has host bits set (did you mean 192.168.1.0/24?)"
            ],
        ),
        (
            b'[interfaces.Backbone]\naddress = "10.20.0.1/16"\n',
            [
                "nodes/n.toml: interfaces.Backbone:"
                " 'Backbone' is not a valid name (use lower case: 'backbone')"
            ],
        ),
        (
            b'endpoint = "fra-1.example.net:51820"\n',
            [
                "nodes/n.toml: endpoint: 'fra-1.example.net:51820' is not a host name or IP"
                " address (give the port as listen_port or endpoint_port)"
            ],
        ),
        (
            b"labels = { role = 1 }\n",
            ["nodes/n.toml: labels.role: expected a string, got an integer (1)"],
        ),
        (
            b"[interfaces]\nbackbone = 5\n",
            ["nodes/n.toml: interfaces.backbone: expected a table, got an integer (5)"],
        ),
        (
            b'[interfaces.backbone]\naddress = "10.20.0.1/16"\nifname = "a-very-long-ifname"\n',
            [
                "nodes/n.toml: interfaces.backbone.ifname: 'a-very-long-ifname' is not a valid"
                " interface name (1-15 of A-Z a-z 0-9 _ . -)"
            ],
        ),
        (b"[interfaces.backbone]\n", ["nodes/n.toml: interfaces.backbone.address: is required"]),
    ],
)
def test_node_file_problems(data: bytes, expected: list[str]) -> None:
    assert messages("nodes/n.toml", data) == expected


def test_bad_table_keys_are_named() -> None:
    data = NETWORK + b'[[connections]]\nbetween = ["a", "b"]\nallowed_ips = { "a b" = [] }\n'
    assert messages("networks/n.toml", data) == [
        'networks/n.toml: connections[0].allowed_ips."a b":'
        f" 'a b' is not a valid name (allowed: {NAME_RULES})"
    ]
    keys = b'[interfaces."../x"]\npublic_key = "AAAA"\n'
    assert messages("keys/n.toml", keys) == [
        'keys/n.toml: interfaces."../x":'
        " '../x' is not a valid name (no empty names, dots or slashes)",
        'keys/n.toml: interfaces."../x".public_key:'
        " public key must be 32 bytes of base64 (44 characters), got 3 bytes",
    ]


def test_keys_file_problems() -> None:
    assert messages("keys/n.toml", b'[interfaces.backbone]\npublic_key = "abc"\n') == [
        "keys/n.toml: interfaces.backbone.public_key: public key is not valid base64"
    ]
    short = b'[interfaces.backbone]\npublic_key = "AAAA"\n'
    assert messages("keys/n.toml", short) == [
        "keys/n.toml: interfaces.backbone.public_key:"
        " public key must be 32 bytes of base64 (44 characters), got 3 bytes"
    ]


def test_file_over_one_mebibyte() -> None:
    data = b"#" * MAX_FILE_SIZE + b"\n"
    assert messages("nodes/n.toml", data) == [
        f"nodes/n.toml: file is larger than 1 MiB ({MAX_FILE_SIZE + 1} bytes)"
    ]


INVALID_PATH = "invalid path (empty parts, `.`, `..` and backslashes are not allowed)"
HOLDS = "a drago repository holds networks/, nodes/ and keys/"
BAD_PATHS = {
    "nodes/Fra-1.toml": "invalid file name: 'Fra-1' is not a valid name (use lower case: 'fra-1')",
    "nodes/fra.1.toml": f"invalid file name: 'fra.1' is not a valid name (allowed: {NAME_RULES})",
    "nodes/fra-1.yaml": "only <name>.toml files belong in nodes/",
    "nodes/.toml": "invalid file name: '' is not a valid name (no empty names, dots or slashes)",
    "nodes/eu/fra-1.toml": "nested folders are not allowed: use nodes/<name>.toml",
    "nodes/../keys/a.toml": INVALID_PATH,
    "nodes//a.toml": INVALID_PATH,
    "nodes\\a.toml": INVALID_PATH,
    "node/fra-1.toml": f"unknown folder `node/`: {HOLDS} (did you mean `nodes/`?)",
    "secrets/x.toml": f"unknown folder `secrets/`: {HOLDS}",
    "fra-1.toml": f"unknown file: {HOLDS}",
    "nodes": "`nodes` must be a folder",
}


@pytest.mark.parametrize("path", list(BAD_PATHS))
def test_bad_paths(path: str) -> None:
    assert messages(path, b"") == [f"{path}: {BAD_PATHS[path]}"]


@pytest.mark.parametrize(
    "path", ["README.md", "docs.md", "nodes/README.md", ".gitignore", ".drago/policy.toml"]
)
def test_documentation_and_reserved_paths_are_ignored(path: str) -> None:
    loaded = load_file(SourceFile(path, b"\xff not even text"), ParseCache())
    assert loaded.problems == ()
    assert loaded.model is None and loaded.folder is None


def test_symlinks_and_submodules_are_rejected() -> None:
    assert messages("nodes/a.toml", b"../../etc/passwd", MODE_SYMLINK) == [
        "nodes/a.toml: symlinks are not allowed in a drago repository"
    ]
    assert messages("README.md", b"x", MODE_SYMLINK) == [
        "README.md: symlinks are not allowed in a drago repository"
    ]
    assert messages("vendor", b"", MODE_SUBMODULE) == [
        "vendor: submodules are not allowed in a drago repository"
    ]


def test_executable_files_are_read() -> None:
    loaded = load_file(SourceFile("networks/n.toml", NETWORK, MODE_EXEC), ParseCache())
    assert isinstance(loaded.model, NetworkFile)


def test_blob_id_is_gits(tmp_path: object) -> None:
    data = b'description = "x"\n'
    out = subprocess.run(
        ["git", "hash-object", "--stdin"], input=data, capture_output=True, check=True
    )
    assert git_blob_id(data) == out.stdout.decode().strip()


def test_parse_results_are_cached_by_blob_id() -> None:
    cache = ParseCache()
    data = b'description = "x"\n'
    first = load_file(SourceFile("nodes/a.toml", data), cache)
    second = load_file(SourceFile("nodes/b.toml", data, blob_id=git_blob_id(data)), cache)
    assert isinstance(first.model, NodeFile)
    assert second.model is first.model
    assert (cache.hits, cache.misses) == (1, 1)
    # The same bytes in another folder are another model.
    third = load_file(SourceFile("networks/a.toml", data), cache)
    assert third.model is None and cache.misses == 2


def test_cached_problems_name_each_path() -> None:
    cache = ParseCache()
    for path in ["nodes/a.toml", "nodes/b.toml"]:
        loaded = load_file(SourceFile(path, b"x = 1\n"), cache)
        assert [str(p) for p in loaded.problems] == [f"{path}: x: unknown key"]


def test_cache_is_bounded() -> None:
    cache = ParseCache(size=2)
    for i in range(3):
        cache.parse("nodes", f"description = '{i}'\n".encode(), None)
    cache.parse("nodes", b"description = '0'\n", None)
    assert cache.misses == 4
