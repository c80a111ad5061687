"""`giponext-conformance rules`: the rule catalogue and its traceability."""

from __future__ import annotations

import json
import shutil
import sys
import textwrap
from pathlib import Path

from giponext_conformance.catalogue import LEVELS, load_rules
from giponext_conformance.coverage import (
    NEGATIVE_TAG,
    build_coverage,
    rules_without_negative,
    rules_without_scenario,
    scan_scenarios,
    unknown_rule_tags,
)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "rules",
        help="list the certified rules; with --coverage, the scenarios per rule",
        description=(
            "Print the rule catalogue. With --coverage, list for each rule the "
            "scenarios "
            f"whose tags name it and whether one of them is tagged @{NEGATIVE_TAG}."
        ),
    )
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="output format (default: text)",
    )
    parser.add_argument(
        "--coverage",
        action="store_true",
        help="show the scenarios that check each rule",
    )
    parser.add_argument(
        "--level", choices=LEVELS, help="list only the rules of this level"
    )
    parser.add_argument(
        "--features",
        metavar="DIR",
        type=Path,
        action="append",
        help="folder of .feature files to scan instead of the bundled ones; repeatable",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="with --coverage, exit 1 when a SHALL rule has no negative scenario",
    )
    parser.set_defaults(handler=run_rules)


def run_rules(args) -> int:
    if args.coverage:
        return _print_coverage(args)

    rules = [
        rule
        for rule in load_rules().values()
        if not args.level or rule.level == args.level
    ]
    if args.format == "json":
        payload = [
            {
                "id": rule.id,
                "level": rule.level,
                "epic": rule.epic,
                "resource": rule.resource,
                "layers": list(rule.layers),
                "statement": rule.statement,
            }
            for rule in rules
        ]
        json.dump(payload, sys.stdout, indent=2, ensure_ascii=False)
        print()
        return 0

    width = _text_width()
    for rule in rules:
        print(f"{rule.id:<9} {rule.level:<6} {rule.epic}")
        print(
            textwrap.fill(
                rule.statement, width, initial_indent="    ", subsequent_indent="    "
            )
        )
    return 0


def _print_coverage(args) -> int:
    directories = args.features or None
    coverage = build_coverage(directories)
    if args.level:
        coverage = [item for item in coverage if item.rule.level == args.level]
    missing_negative = (
        rules_without_negative(coverage) if args.level in (None, "SHALL") else []
    )
    unknown = unknown_rule_tags(scan_scenarios(directories))

    if args.format == "json":
        payload = {
            "rules": [item.as_dict() for item in coverage],
            "shall_without_negative": missing_negative,
            "without_scenario": rules_without_scenario(coverage),
            "unknown_rule_tags": {
                tag: [scenario.location for scenario in scenarios]
                for tag, scenarios in sorted(unknown.items())
            },
        }
        json.dump(payload, sys.stdout, indent=2, ensure_ascii=False)
        print()
    else:
        _print_coverage_text(coverage, missing_negative, unknown)

    return 1 if args.strict and missing_negative else 0


def _print_coverage_text(coverage, missing_negative, unknown) -> None:
    for item in coverage:
        negative = "negative: yes" if item.has_negative else "negative: NO"
        print(
            f"{item.rule.id:<9} {item.rule.level:<6} "
            f"{len(item.scenarios):>3} scenario(s)  "
            f"{negative}"
        )
        for scenario in item.scenarios:
            marker = "-" if scenario.negative else "+"
            print(
                f"    {marker} {scenario.feature}: {scenario.name}"
                f"  ({scenario.location})"
            )

    print()
    without_scenario = rules_without_scenario(coverage)
    print(
        f"{len(coverage) - len(without_scenario)} of {len(coverage)} rules "
        "have a scenario."
    )
    if without_scenario:
        print(f"Rules without a scenario: {', '.join(without_scenario)}")
    if missing_negative:
        print(f"SHALL rules without a negative scenario: {', '.join(missing_negative)}")
    for tag, scenarios in sorted(unknown.items()):
        print(f"Tag @{tag} names no catalogue rule (used at {scenarios[0].location}).")


def _text_width() -> int:
    return min(shutil.get_terminal_size((100, 24)).columns, 100)
