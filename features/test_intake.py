"""Scenarios of the intake flow: GipoNext sends a patient, then an order."""

from pathlib import Path

from pytest_bdd import scenarios

scenarios("intake", features_base_dir=Path(__file__).parent)
