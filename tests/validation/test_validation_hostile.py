"""Engine on randomly damaged resources: every layer copes, no layer crashes."""

from __future__ import annotations

import copy
import random
from decimal import Decimal

import pytest
from validation_helpers import encode

from giponext_conformance.breakers import RESOURCE_TYPES, valid_set
from giponext_conformance.validation import validate_bytes

REPLACEMENTS = (
    None,
    "",
    "x",
    "ProcedureRequest/",
    "#a",
    0,
    -1,
    Decimal("1.50"),
    True,
    [],
    [None],
    [1, "a"],
    {},
    {"reference": 5},
    {"system": "urn:oid:2.16.840.1.113883.2.9.4.3.2", "value": 7},
)


def locations(node, path=()):
    """Yield every location inside a JSON value."""
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from locations(value, path + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from locations(value, path + (index,))


def replace(resource, path, value):
    parent = resource
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value


@pytest.mark.parametrize("resource_type", RESOURCE_TYPES)
def test_damaged_resources_never_crash_layers(resource_type):
    rng = random.Random(f"hostile-{resource_type}")
    original = valid_set(3).of_type(resource_type)
    paths = [path for path in locations(original) if path]

    for _ in range(150):
        damaged = copy.deepcopy(original)
        for path in rng.sample(paths, 3):
            try:
                replace(damaged, path, copy.deepcopy(rng.choice(REPLACEMENTS)))
            except (KeyError, IndexError, TypeError):
                continue  # an earlier replacement removed this location
        result = validate_bytes(encode(damaged), resource_type)

        crashed = [f for f in result.findings if f.code == "exception"]
        assert crashed == [], damaged
        assert result.http_status in (None, 400, 422)
