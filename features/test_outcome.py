"""Scenarios of the outcome flow: the RIS-PACS delivers reports to GipoNext."""

from pathlib import Path

from pytest_bdd import scenarios

scenarios("outcome", features_base_dir=Path(__file__).parent)
