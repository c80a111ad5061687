"""Allure labels, environment, categories and progress lines for scenario runs.

This pytest plugin (registered as its own pytest11 entry point) works beside
allure-pytest-bdd, the only Allure integration the harness uses. allure-pytest
must not be installed as well: both register an Allure listener for the same
tests, and pytest-bdd scenarios then appear twice or with broken steps.
The project's pytest configuration passes `-p no:allure_pytest`, and
`check_allure_integration` stops a run in which allure-pytest was loaded.

Labels per scenario, set with `allure.dynamic` once allure-pytest-bdd has
scheduled the test case:
- epic: the flow of the scenario's rules (the rule's `epic` in rules.toml);
- feature: the feature's name;
- story: each rule id among the tags;
- severity: critical for a SHALL rule, normal for SHOULD, minor otherwise;
- target: the RIS-PACS URL with credentials masked.
allure-pytest-bdd already turns every Gherkin tag into a `tag` label.

At the end of a run that writes Allure results (`--alluredir`), the plugin
adds environment.properties and categories.json to the results folder.
"""

from __future__ import annotations

import json
import platform
from importlib import metadata
from pathlib import Path

import allure
import pytest

from giponext_conformance import __version__
from giponext_conformance.catalogue import load_rules
from giponext_conformance.errors import HarnessError
from giponext_conformance.redact import redact_text

SEVERITY_BY_LEVEL = {"SHALL": "critical", "SHOULD": "normal", "MOCK": "minor"}

# Distributions whose versions go into environment.properties.
REPORTED_DISTRIBUTIONS = (
    "pytest",
    "pytest-bdd",
    "allure-pytest-bdd",
    "fhir.resources",
    "requests",
)

# Categories of failed and broken scenarios. The message patterns use
# [\s\S] instead of an inline DOTALL flag because Allure 2 (Java) and
# Allure 3 (JavaScript) must both compile them. Allure 3 assigns a scenario to
# the first category that matches, so the order matters.
CATEGORIES = [
    {
        "name": "Target unreachable",
        "description": "The target refused the connection, timed out or failed TLS.",
        "matchedStatuses": ["failed", "broken"],
        # The exception name, or the sentences of client.describe_transport_error
        # when a fixture reports the failure with pytest.fail.
        "messageRegex": (
            r"[\s\S]*(TargetUnreachable|ran out of time|did not answer within"
            r"|was refused: check that|could not be resolved|TLS handshake with"
            r"|TLS certificate of \S+ is not trusted|failed before any answer)[\s\S]*"
        ),
    },
    {
        "name": "Target conformance failures",
        "description": "A check failed: the message states expected versus found.",
        "matchedStatuses": ["failed"],
        "messageRegex": r"[\s\S]*(AssertionError|RuleCheckFailed)[\s\S]*",
    },
    {
        "name": "Harness errors",
        "description": "The harness itself failed; report it with the traceback.",
        "matchedStatuses": ["failed", "broken"],
    },
]


class AllureIntegrationError(HarnessError):
    """allure-pytest is loaded beside allure-pytest-bdd."""


# Name under which allure-pytest registers its pytest11 entry point.
ALLURE_PYTEST_PLUGIN = "allure_pytest"


def check_allure_integration(pluginmanager) -> None:
    """Raise AllureIntegrationError when pytest loaded the allure-pytest plugin."""
    if not pluginmanager.has_plugin(ALLURE_PYTEST_PLUGIN):
        return
    try:
        version = metadata.version("allure-pytest")
    except metadata.PackageNotFoundError:
        version = "(unknown version)"
    raise AllureIntegrationError(
        f"allure-pytest {version} is loaded beside allure-pytest-bdd, and the two "
        "record every scenario twice; remove it with 'pip uninstall allure-pytest' "
        f"or pass '-p no:{ALLURE_PYTEST_PLUGIN}'."
    )


# --- labels ------------------------------------------------------------------


def scenario_rule_ids(tag_names) -> list[str]:
    """Return the catalogue rule ids among a scenario's tags, in catalogue order."""
    tags = set(tag_names)
    return [rule_id for rule_id in load_rules() if rule_id in tags]


def scenario_labels(tag_names, feature_name: str, target_url: str | None) -> dict:
    """Return the Allure labels of a scenario as {label name: [values]}."""
    rules = load_rules()
    rule_ids = scenario_rule_ids(tag_names)
    epics = list(dict.fromkeys(rules[rule_id].epic for rule_id in rule_ids))
    levels = {rules[rule_id].level for rule_id in rule_ids} | (
        set(tag_names) & {"SHALL", "SHOULD"}
    )
    # The strictest level among the scenario's rules decides its severity.
    strictest = next(
        (level for level in ("SHALL", "SHOULD") if level in levels), "MOCK"
    )
    severity = SEVERITY_BY_LEVEL[strictest]

    labels = {
        "epic": epics,
        "feature": [feature_name] if feature_name else [],
        "story": rule_ids,
        "severity": [severity],
    }
    if target_url:
        labels["target"] = [redact_text(target_url)]
    return labels


def _scenario_tags(request) -> list[str]:
    # Marks carry the tags of the feature, its Rule block, the scenario and the
    # Examples table, which the scenario object alone does not.
    return sorted({mark.name for mark in request.node.iter_markers()})


def _target_url(config) -> str | None:
    try:
        from giponext_conformance.plugin import harness_state

        description = harness_state(config).describe_target()
    except (ImportError, KeyError):
        return config.getoption("ris_url", default=None)
    return description.get("ris_url")


@pytest.hookimpl(trylast=True)
def pytest_bdd_before_scenario(request, feature, scenario):
    # trylast: allure-pytest-bdd schedules the test case in this same hook and
    # allure.dynamic only reaches a test case that exists.
    labels = scenario_labels(
        _scenario_tags(request), feature.name, _target_url(request.config)
    )
    allure.dynamic.epic(*labels["epic"])
    allure.dynamic.story(*labels["story"])
    allure.dynamic.severity(allure.severity_level(labels["severity"][0]))
    if labels["feature"]:
        allure.dynamic.feature(*labels["feature"])
    if "target" in labels:
        allure.dynamic.label("target", *labels["target"])


# --- environment and categories ----------------------------------------------


def environment_properties(target: dict | None) -> dict[str, str]:
    """Return the environment shown in the report: target and software versions."""
    target = target or {}
    properties = {
        "target.ris_url": redact_text(
            str(target.get("ris_url") or "bundled mock RIS-PACS")
        ),
        "target.giponext_url": redact_text(
            str(target.get("giponext_url") or "bundled mock")
        ),
        "target.bundled": str(bool(target.get("bundled"))).lower(),
        "target.quirks": ",".join(target.get("quirks") or []) or "none",
        "harness.version": __version__,
        "python.version": platform.python_version(),
        "platform": platform.platform(terse=True),
    }
    for name in REPORTED_DISTRIBUTIONS:
        try:
            properties[f"{name}.version"] = metadata.version(name)
        except metadata.PackageNotFoundError:
            properties[f"{name}.version"] = "not installed"
    return properties


def _escape_property(text: str) -> str:
    # java.util.Properties treats backslash, '=' and ':' in keys as syntax.
    return (
        text.replace("\\", "\\\\")
        .replace("\n", "\\n")
        .replace("=", "\\=")
        .replace(":", "\\:")
    )


def write_environment(results_dir: str | Path, target: dict | None) -> Path:
    """Write environment.properties into an Allure results folder."""
    path = Path(results_dir) / "environment.properties"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        f"{_escape_property(key)}={value.replace(chr(10), ' ')}"
        for key, value in environment_properties(target).items()
    ]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def write_categories(results_dir: str | Path) -> Path:
    """Write categories.json into an Allure results folder."""
    path = Path(results_dir) / "categories.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(CATEGORIES, indent=2) + "\n", "utf-8")
    return path


def _allure_results_dir(config) -> str | None:
    return getattr(config.option, "allure_report_dir", None)


def pytest_configure(config):
    # The traceability convention of coverage.py: a scenario that expects a rejection.
    config.addinivalue_line(
        "markers",
        "negative: scenario sends what a rule forbids and expects a rejection",
    )
    try:
        check_allure_integration(config.pluginmanager)
    except AllureIntegrationError as error:
        raise pytest.UsageError(str(error)) from None


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    results_dir = _allure_results_dir(session.config)
    if not results_dir:
        return
    target = None
    try:
        from giponext_conformance.plugin import harness_state

        state = harness_state(session.config)
        target = (state.report or {}).get("target") or state.describe_target()
    except (ImportError, KeyError):
        target = {"ris_url": session.config.getoption("ris_url", default=None)}
    write_environment(results_dir, target)
    write_categories(results_dir)


# --- progress -----------------------------------------------------------------


class ScenarioProgress:
    """Counts finished scenarios and prints one line per scenario to the terminal.

    An instance is registered as a pytest plugin once collection has counted the
    scenarios of the run.
    """

    def __init__(self, config):
        self.config = config
        self.total = 0
        self.done = 0
        self.titles: dict[str, tuple[str, str]] = {}
        self.outcomes: dict[str, str] = {}

    def collected(self, items) -> None:
        for item in items:
            title = _scenario_title(item)
            if title is not None:
                self.titles[item.nodeid] = title
        self.total = len(self.titles)

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report) -> None:
        if report.nodeid not in self.titles:
            return
        outcome = self.outcomes.get(report.nodeid, "passed")
        if report.failed:
            outcome = (
                "error" if report.when != "call" and outcome == "passed" else "failed"
            )
        elif report.skipped and outcome == "passed":
            outcome = "skipped"
        self.outcomes[report.nodeid] = outcome
        if report.when != "teardown":
            return

        self.done += 1
        flow, name = self.titles[report.nodeid]
        terminal = self.config.pluginmanager.get_plugin("terminalreporter")
        if terminal is None:
            return
        text = f"[{self.done}/{self.total}] {flow}: {name} ... {outcome}"
        if terminal.verbosity > 0:
            terminal.write_line(text)
            return
        # Quiet and normal modes: the line continues after pytest's outcome
        # letter, so each scenario gets one line that starts with its letter.
        terminal.write(f"  {text}\n")


def _scenario_title(item) -> tuple[str, str] | None:
    from pytest_bdd.scenario import scenario_wrapper_template_registry

    function = getattr(item, "function", None)
    try:
        template = scenario_wrapper_template_registry.get(function)
    except TypeError:
        return None
    if template is None:
        return None
    rules = load_rules()
    tags = {mark.name for mark in item.iter_markers()}
    epics = list(
        dict.fromkeys(rules[rule_id].epic for rule_id in scenario_rule_ids(tags))
    )
    flow = " / ".join(epics) or template.feature.name
    name = template.name
    callspec = getattr(item, "callspec", None)
    example = callspec.params.get("_pytest_bdd_example") if callspec else None
    if example:
        name += " [" + ", ".join(str(value) for value in example.values()) + "]"
    return flow, name


def pytest_addoption(parser):
    parser.getgroup("giponext-conformance").addoption(
        "--no-progress",
        action="store_true",
        dest="no_progress",
        default=False,
        help="do not print a line per finished scenario with the count and the flow",
    )


def pytest_collection_finish(session):
    config = session.config
    if config.getoption("no_progress") or config.getoption("collectonly"):
        return
    progress = ScenarioProgress(config)
    progress.collected(session.items)
    if progress.total:
        config.pluginmanager.register(progress, name="giponext-conformance-progress")
