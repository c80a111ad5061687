"""dumps writes parsed resources back with decimals exactly as received."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from giponext_conformance.validation import dumps


def test_decimal_written_verbatim():
    value = {"a": Decimal("36.150"), "b": Decimal("0.10000000000000000001"), "c": 52.3}

    assert dumps(value) == '{"a":36.150,"b":0.10000000000000000001,"c":52.3}'


def test_round_trip_keeps_text():
    text = '{"resourceType":"Basic","n":[1,2.50,true,null,"è\\"x"],"o":{}}'

    assert dumps(json.loads(text, parse_float=Decimal)) == text.replace("\\u00e8", "è")


def test_indented_output_parses():
    value = {"a": [Decimal("1.0"), {"b": []}]}

    text = dumps(value, indent=2)

    assert json.loads(text, parse_float=Decimal) == value
    assert '\n  "a": [\n    1.0,' in text


def test_non_finite_decimal_rejected():
    with pytest.raises(ValueError):
        dumps({"a": Decimal("NaN")})
