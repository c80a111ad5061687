"""Units of the mock RIS-PACS that need no server: config and JSON Patch."""

import pytest

from giponext_conformance.mocks.ris_pacs import RisPacsConfig
from giponext_conformance.mocks.ris_pacs.jsonpatch import PatchError, apply_patch

TOKEN = "t0ken-123"  # noqa: S105  # a test credential


def test_config_defaults():
    config = RisPacsConfig(token=TOKEN)

    assert config.quirks == frozenset()
    assert config.max_body_bytes == 1024 * 1024
    assert config.basic_enabled is False
    assert config.db_path is None


def test_config_quirks_become_frozenset():
    config = RisPacsConfig(token=TOKEN, quirks=["no-auth", "no-auth"])

    assert config.quirks == frozenset({"no-auth"})


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"max_body_bytes": 0}, "must be positive"),
        ({"basic_user": "u"}, "both a user and a password"),
        ({"basic_password": "p"}, "both a user and a password"),
        ({"basic_user": "a:b", "basic_password": "p"}, "contain no ':'"),
        ({"basic_user": "", "basic_password": "p"}, "non-empty"),
        ({"realm": 'a"b'}, "quotes"),
        ({"quirks": {"bogus"}}, "unknown quirk bogus"),
    ],
)
def test_config_rejects_invalid(settings, message):
    with pytest.raises(ValueError, match=message):
        RisPacsConfig(token=TOKEN, **settings)


def test_patch_operations():
    document = {"a": {"b": [1, 2]}, "c": "x"}
    patch = [
        {"op": "test", "path": "/c", "value": "x"},
        {"op": "add", "path": "/a/b/-", "value": 3},
        {"op": "add", "path": "/a/b/0", "value": 0},
        {"op": "replace", "path": "/c", "value": "y"},
        {"op": "remove", "path": "/a/b/1"},
        {"op": "add", "path": "/d~1e", "value": {"f~g": 1}},
    ]

    patched = apply_patch(document, patch)

    assert patched == {"a": {"b": [0, 2, 3]}, "c": "y", "d/e": {"f~g": 1}}
    assert document == {"a": {"b": [1, 2]}, "c": "x"}


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"op": "add"}, "array of operations"),
        ([{"op": "move", "from": "/a", "path": "/b"}], "needs an op"),
        ([{"op": "add", "path": "a", "value": 1}], "not a JSON Pointer"),
        ([{"op": "add", "path": "", "value": 1}], "whole resource"),
        ([{"op": "replace", "path": "/missing", "value": 1}], "does not exist"),
        ([{"op": "add", "path": "/list/5", "value": 1}], "out of range"),
        ([{"op": "add", "path": "/list/01", "value": 1}], "not a number"),
        ([{"op": "add", "path": "/a"}], "needs a value"),
        ([{"op": "test", "path": "/a", "value": 2}], "test failed"),
        ([{"op": "add", "path": "/a/b", "value": 2}], "not name a container"),
        ([{"op": "remove", "path": "/x/y"}], "does not exist"),
    ],
)
def test_patch_errors(patch, message):
    with pytest.raises(PatchError, match=message):
        apply_patch({"a": 1, "list": [1]}, patch)


def test_patch_length_limited():
    patch = [{"op": "test", "path": "/a", "value": 1}] * 1001

    with pytest.raises(PatchError, match="at most 1000"):
        apply_patch({"a": 1}, patch)
