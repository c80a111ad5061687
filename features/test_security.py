"""Scenarios of GipoNext's authorization: OAuth 2.0 flows, scopes and rate limits."""

from pathlib import Path

from pytest_bdd import scenarios

scenarios("security", features_base_dir=Path(__file__).parent)
