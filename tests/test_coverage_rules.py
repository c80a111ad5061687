"""Traceability gate: every SHALL rule is checked by at least one negative scenario.

A negative scenario is tagged @negative (see giponext_conformance.coverage). A
rule checked only by positive scenarios would pass against a server that
accepts everything, so the gate names each SHALL rule that lacks one.
"""

from __future__ import annotations

from giponext_conformance.coverage import (
    build_coverage,
    rules_without_negative,
    scan_scenarios,
    unknown_rule_tags,
)


def test_shall_rules_have_negative_scenario():
    coverage = build_coverage()

    missing = rules_without_negative(coverage, level="SHALL")

    assert missing == [], (
        f"{len(missing)} SHALL rule(s) have no scenario tagged @negative: "
        f"{', '.join(missing)}"
    )


def test_scenario_tags_name_known_rules():
    unknown = unknown_rule_tags(scan_scenarios())

    locations = {
        tag: [s.location for s in scenarios] for tag, scenarios in unknown.items()
    }
    assert locations == {}
