"""Fixtures and step definitions for the conformance scenarios.

Every module of the steps package is loaded here, so a new module of steps
is picked up without editing this file. The `faker` fixture is defined here
rather than in the plugin, so it replaces Faker's own pytest fixture only for
the scenarios and leaves the project's unit tests alone.
"""

import importlib
import pkgutil

import pytest

from giponext_conformance import steps as _steps_package


def _load_step_definitions() -> None:
    # pytest-bdd keeps each step as a fixture named pytestbdd_stepdef_...
    # in the module that defines it; copying those names here makes the
    # steps visible to every scenario below this folder.
    for module_info in pkgutil.iter_modules(_steps_package.__path__):
        module = importlib.import_module(
            f"{_steps_package.__name__}.{module_info.name}"
        )
        for name, value in vars(module).items():
            if name.startswith("pytestbdd_stepdef_"):
                globals()[name] = value


_load_step_definitions()


@pytest.fixture
def faker(scenario_faker):
    """An it_IT Faker with the GipoNext provider, seeded for the scenario."""
    return scenario_faker
