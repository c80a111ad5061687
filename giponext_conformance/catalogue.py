"""The rule catalogue: every rule the harness certifies, with id and level.

The rules live in rules.toml beside this module, so that reports, tags and
coverage are generated from data rather than written by hand.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

LEVELS = ("SHALL", "SHOULD", "MOCK")


@dataclass(frozen=True)
class Rule:
    id: str
    level: str
    epic: str
    resource: str
    layers: tuple[str, ...]
    statement: str

    @property
    def severity(self) -> str:
        """Allure severity label: SHALL rules are critical."""
        return {"SHALL": "critical", "SHOULD": "normal"}.get(self.level, "minor")


@cache
def load_rules() -> dict[str, Rule]:
    """Return the catalogue as a dict keyed by rule id, in file order."""
    text = files("giponext_conformance").joinpath("rules.toml").read_text("utf-8")
    rules = {}
    for rule_id, entry in tomllib.loads(text).items():
        if entry["level"] not in LEVELS:
            raise ValueError(f"rule {rule_id} has unknown level {entry['level']!r}")
        rules[rule_id] = Rule(
            id=rule_id,
            level=entry["level"],
            epic=entry["epic"],
            resource=entry["resource"],
            layers=tuple(entry["layer"]),
            statement=entry["statement"],
        )
    return rules


def get_rule(rule_id: str) -> Rule:
    """Return one rule; raise KeyError with the known ids when it is unknown."""
    rules = load_rules()
    try:
        return rules[rule_id]
    except KeyError:
        raise KeyError(
            f"unknown rule id {rule_id!r}; known ids: {', '.join(rules)}"
        ) from None
