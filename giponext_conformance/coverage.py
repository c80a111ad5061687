"""Traceability: which scenarios check each rule, and whether one of them is negative.

Feature files are parsed with the Gherkin parser that pytest-bdd uses
(gherkin-official), never run. A scenario checks every rule whose id appears
among its tags, including tags inherited from its Feature and Rule blocks and
the tags of its Examples tables.

A scenario is negative when it, its Rule block, its Feature or one of its
Examples tables carries the tag `@negative`. A negative scenario sends
something the rule forbids (or leaves out something it requires) and expects
the target to reject it, or to warn where a breach is only a warning. A rule
whose scenarios are all positive would pass against a server that accepts
everything. No naming convention is inferred from titles, so the tag is the
only signal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

from gherkin.errors import CompositeParserException
from gherkin.parser import Parser

from giponext_conformance.catalogue import LEVELS, Rule, load_rules
from giponext_conformance.errors import InputFileError

NEGATIVE_TAG = "negative"


@dataclass(frozen=True)
class ScenarioRef:
    """A scenario of a feature file, with the fields traceability uses."""

    feature: str
    name: str
    path: str
    line: int
    tags: frozenset[str]
    examples: int = 0

    @property
    def negative(self) -> bool:
        return NEGATIVE_TAG in self.tags

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass
class RuleCoverage:
    """A catalogue rule with the scenarios whose tags name it."""

    rule: Rule
    scenarios: list[ScenarioRef] = field(default_factory=list)

    @property
    def negative_scenarios(self) -> list[ScenarioRef]:
        return [scenario for scenario in self.scenarios if scenario.negative]

    @property
    def has_negative(self) -> bool:
        return bool(self.negative_scenarios)

    def as_dict(self) -> dict:
        return {
            "id": self.rule.id,
            "level": self.rule.level,
            "epic": self.rule.epic,
            "scenarios": [
                {
                    "feature": scenario.feature,
                    "name": scenario.name,
                    "location": scenario.location,
                    "negative": scenario.negative,
                }
                for scenario in self.scenarios
            ],
            "has_negative": self.has_negative,
        }


def default_feature_dirs() -> list[Path]:
    """Return the folder of the bundled features (the installed features package)."""
    return [Path(str(files("giponext_conformance.features")))]


def find_feature_files(directories: list[Path]) -> list[Path]:
    feature_files = []
    for directory in directories:
        directory = Path(directory)
        if directory.is_file():
            feature_files.append(directory)
            continue
        if not directory.is_dir():
            raise InputFileError(f"{directory} is not a folder of .feature files.")
        feature_files.extend(sorted(directory.rglob("*.feature")))
    return feature_files


def parse_feature_file(path: Path, root: Path | None = None) -> list[ScenarioRef]:
    """Return every scenario of a feature file with its inherited tags."""
    try:
        document = Parser().parse(path.read_text("utf-8"))
    except CompositeParserException as error:
        raise InputFileError(
            f"{path} is not valid Gherkin: {error.errors[0]}."
        ) from None
    except OSError as error:
        raise InputFileError(f"{path} cannot be read: {error.strerror}.") from None

    feature = document.get("feature")
    if not feature:
        return []
    shown_path = _shown_path(path, root)
    feature_tags = _tag_names(feature)
    scenarios = []
    for child in feature.get("children", []):
        if "scenario" in child:
            scenarios.append(
                _scenario_ref(child["scenario"], feature, feature_tags, shown_path)
            )
        elif "rule" in child:
            rule_tags = feature_tags | _tag_names(child["rule"])
            for rule_child in child["rule"].get("children", []):
                if "scenario" in rule_child:
                    scenarios.append(
                        _scenario_ref(
                            rule_child["scenario"], feature, rule_tags, shown_path
                        )
                    )
    return scenarios


def _shown_path(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            pass
    return path.as_posix()


def _tag_names(node: dict) -> frozenset[str]:
    return frozenset(tag["name"].lstrip("@") for tag in node.get("tags", []))


def _scenario_ref(scenario: dict, feature: dict, inherited: frozenset[str], path: str):
    tags = set(inherited | _tag_names(scenario))
    examples = scenario.get("examples", [])
    for table in examples:
        tags |= _tag_names(table)
    return ScenarioRef(
        feature=feature.get("name", ""),
        name=scenario.get("name", ""),
        path=path,
        line=scenario["location"]["line"],
        tags=frozenset(tags),
        examples=sum(len(table.get("tableBody", [])) for table in examples),
    )


def scan_scenarios(directories: list[Path] | None = None) -> list[ScenarioRef]:
    """Parse every .feature file under the folders (default: the bundled features)."""
    directories = [
        Path(directory) for directory in directories or default_feature_dirs()
    ]
    scenarios = []
    for path in find_feature_files(directories):
        root = next((d for d in directories if d.is_dir() and d in path.parents), None)
        scenarios.extend(parse_feature_file(path, root))
    return scenarios


def build_coverage(directories: list[Path] | None = None) -> list[RuleCoverage]:
    """Return one RuleCoverage per catalogue rule, in catalogue order."""
    coverage = {rule_id: RuleCoverage(rule) for rule_id, rule in load_rules().items()}
    for scenario in scan_scenarios(directories):
        for tag in sorted(scenario.tags):
            if tag in coverage:
                coverage[tag].scenarios.append(scenario)
    return list(coverage.values())


def unknown_rule_tags(scenarios: list[ScenarioRef]) -> dict[str, list[ScenarioRef]]:
    """Return tags shaped like a rule id (`XX-00`) that the catalogue lacks."""
    known = load_rules()
    unknown: dict[str, list[ScenarioRef]] = {}
    for scenario in scenarios:
        for tag in scenario.tags:
            if _looks_like_rule_id(tag) and tag not in known:
                unknown.setdefault(tag, []).append(scenario)
    return unknown


def _looks_like_rule_id(tag: str) -> bool:
    prefix, _, number = tag.partition("-")
    return (
        prefix.isalpha() and prefix.isupper() and number.isdigit() and len(number) == 2
    )


def rules_without_negative(
    coverage: list[RuleCoverage], level: str = "SHALL"
) -> list[str]:
    """Return the ids of rules at a level that no negative scenario checks."""
    if level not in LEVELS:
        raise ValueError(
            f"unknown level {level!r}; expected one of {', '.join(LEVELS)}"
        )
    return [
        item.rule.id
        for item in coverage
        if item.rule.level == level and not item.has_negative
    ]


def rules_without_scenario(coverage: list[RuleCoverage]) -> list[str]:
    return [item.rule.id for item in coverage if not item.scenarios]
