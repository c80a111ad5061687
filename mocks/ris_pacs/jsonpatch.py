"""A small JSON Patch (RFC 6902) applier for the `mutable-orders` quirk.

Only that quirk accepts PATCH, so the operations a FHIR client commonly sends
are enough: add, remove, replace and test. move and copy get a PatchError.
"""

from __future__ import annotations

import copy

SUPPORTED_OPERATIONS = ("add", "remove", "replace", "test")

# Maximum number of operations in one patch.
MAX_OPERATIONS = 1000


class PatchError(ValueError):
    """A patch document that is malformed or cannot apply to the resource."""


def _parse_pointer(pointer) -> list[str]:
    # RFC 6901: "/a/b" names member b of member a; ~1 is '/' and ~0 is '~'.
    if not isinstance(pointer, str) or (pointer and not pointer.startswith("/")):
        raise PatchError(f"path {str(pointer)[:80]!r} is not a JSON Pointer")
    if pointer == "":
        raise PatchError("a patch cannot replace the whole resource")
    return [
        part.replace("~1", "/").replace("~0", "~") for part in pointer[1:].split("/")
    ]


def _index(container: list, segment: str, *, allow_end: bool) -> int:
    if allow_end and segment == "-":
        return len(container)
    if not segment.isdigit() or (segment != "0" and segment.startswith("0")):
        raise PatchError(f"array index {segment[:20]!r} is not a number")
    index = int(segment)
    upper = len(container) if allow_end else len(container) - 1
    if index > upper:
        raise PatchError(f"array index {index} is out of range")
    return index


def _parent(document, tokens: list[str]):
    target = document
    for token in tokens[:-1]:
        if isinstance(target, dict) and token in target:
            target = target[token]
        elif isinstance(target, list):
            target = target[_index(target, token, allow_end=False)]
        else:
            raise PatchError(f"path element {token[:40]!r} does not exist")
    return target


def _apply_one(document: dict, operation) -> None:
    if (
        not isinstance(operation, dict)
        or operation.get("op") not in SUPPORTED_OPERATIONS
    ):
        raise PatchError(
            f"each operation needs an op from {', '.join(SUPPORTED_OPERATIONS)}"
        )
    tokens = _parse_pointer(operation.get("path"))
    parent = _parent(document, tokens)
    last = tokens[-1]
    op = operation["op"]
    if op != "remove" and "value" not in operation:
        raise PatchError(f"a {op} operation needs a value")

    if isinstance(parent, dict):
        if op in ("remove", "replace", "test") and last not in parent:
            raise PatchError(f"path {operation['path'][:80]!r} does not exist")
        if op == "test":
            if parent[last] != operation["value"]:
                raise PatchError(f"test failed at {operation['path'][:80]!r}")
        elif op == "remove":
            del parent[last]
        else:
            parent[last] = copy.deepcopy(operation["value"])
    elif isinstance(parent, list):
        index = _index(parent, last, allow_end=op == "add")
        if op == "test":
            if parent[index] != operation["value"]:
                raise PatchError(f"test failed at {operation['path'][:80]!r}")
        elif op == "remove":
            del parent[index]
        elif op == "replace":
            parent[index] = copy.deepcopy(operation["value"])
        else:
            parent.insert(index, copy.deepcopy(operation["value"]))
    else:
        raise PatchError(f"path {operation['path'][:80]!r} does not name a container")


def apply_patch(document: dict, patch) -> dict:
    """Return a patched copy of `document`; the original is left unchanged."""
    if not isinstance(patch, list):
        raise PatchError("a JSON Patch document is an array of operations")
    if len(patch) > MAX_OPERATIONS:
        raise PatchError(f"a patch may have at most {MAX_OPERATIONS} operations")

    patched = copy.deepcopy(document)
    for operation in patch:
        _apply_one(patched, operation)
    return patched
