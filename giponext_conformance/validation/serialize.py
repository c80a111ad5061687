"""Write parsed FHIR JSON back to text, keeping decimals exactly as received.

The validation layers parse fractions as decimal.Decimal, which the standard
json module refuses to encode; writing it as a float would turn 36.150 into
36.15 and lose digits of longer values.
"""

from __future__ import annotations

import json
from decimal import Decimal

_encode_string = json.encoder.encode_basestring


def dumps(value, indent: int | None = None) -> str:
    """Return JSON text for a parsed resource, writing Decimal values verbatim."""
    parts: list[str] = []
    _write(value, parts, indent, 0)
    return "".join(parts)


def _write(value, parts, indent, depth):
    if isinstance(value, dict):
        _write_container(list(value.items()), parts, indent, depth, "{", "}")
    elif isinstance(value, list | tuple):
        _write_container(list(value), parts, indent, depth, "[", "]")
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} cannot be written as JSON")
        parts.append(str(value))
    else:
        parts.append(json.dumps(value, ensure_ascii=False))


def _write_container(items, parts, indent, depth, opening, closing):
    if not items:
        parts.append(opening + closing)
        return
    parts.append(opening)
    for position, item in enumerate(items):
        if position:
            parts.append(",")
        if indent is not None:
            parts.append("\n" + " " * (indent * (depth + 1)))
        if opening == "{":
            key, item = item
            parts.append(_encode_string(str(key)))
            parts.append(": " if indent is not None else ":")
        _write(item, parts, indent, depth + 1)
    if indent is not None:
        parts.append("\n" + " " * (indent * depth))
    parts.append(closing)
