"""Helpers of the validation tests: sample files, encoding and summaries."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from giponext_conformance.validation import dumps

DATA = Path(__file__).resolve().parent.parent / "data"


def read_sample(name: str) -> bytes:
    return (DATA / name).read_bytes()


def load_sample(name: str) -> dict:
    return json.loads(read_sample(name), parse_float=Decimal)


def encode(resource) -> bytes:
    return dumps(resource).encode("utf-8")


def summary(findings) -> list[tuple[str, str, str]]:
    """Return (severity, rule, expression) of findings, sorted."""
    return sorted((f.severity, f.rule, f.expression) for f in findings)
