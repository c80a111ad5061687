"""Fixtures of the validation tests."""

from __future__ import annotations

import pytest

from giponext_conformance.breakers import valid_set


@pytest.fixture(scope="session")
def generated():
    """Valid resources of every type for seed 7."""
    return valid_set(7)
