"""pytest plugin of the harness: options, the target under test and rule verdicts.

The plugin is loaded in every pytest run of an environment where the harness
is installed, so it does nothing costly until a fixture asks for it: the
bundled mock RIS-PACS starts on the first request for `ris_target`, and
conformance.json is written only when at least one scenario ran.

Options are declared once, as `HarnessOption` values, and used both here and
by the `run` command. An extension module (see EXTENSION_MODULES) adds its own
options by exposing HARNESS_OPTIONS, and is registered as a pytest plugin so
that it can add fixtures and hooks.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
import secrets
import time
import zlib
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from giponext_conformance.catalogue import LEVELS, load_rules
from giponext_conformance.client import BasicCredentials, TargetUnreachable
from giponext_conformance.errors import HarnessError
from giponext_conformance.results import FAIL as CHECK_FAIL
from giponext_conformance.results import NOTE as CHECK_NOTE
from giponext_conformance.results import (
    CheckResult,
    RuleCheckFailed,
    RunRecorder,
    ScenarioRecord,
    Verdicts,
    summary_lines,
    write_report,
)
from giponext_conformance.target import BundledRisPacs, external_target

logger = logging.getLogger(__name__)

# Modules that extend the harness when installed: each may define
# HARNESS_OPTIONS (a list of HarnessOption) and any pytest hooks or fixtures.
EXTENSION_MODULES = ("giponext_conformance.outcome",)

DEFAULT_REPORT_DIR = "reports"
DEFAULT_SCENARIO_TIMEOUT = 60.0

# `<name>` left in a step after an outline's examples were substituted.
PLACEHOLDER = re.compile(r"<[^<>\s][^<>]*>")


@dataclass(frozen=True)
class HarnessOption:
    """One option shared by pytest and the `run` command."""

    flag: str
    help: str
    metavar: str | None = None
    action: str = "store"  # store, store_true or append
    type: type = str
    default: object = None
    env: str | None = None

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")

    def _kwargs(self) -> dict:
        kwargs = {"dest": self.dest, "action": self.action, "help": self.help}
        if self.action == "store":
            kwargs["type"] = self.type
            kwargs["metavar"] = self.metavar
        if self.action == "append":
            kwargs["metavar"] = self.metavar
            kwargs["default"] = []
        else:
            kwargs["default"] = self.default_value()
        return kwargs

    def default_value(self):
        if self.env and os.environ.get(self.env):
            return os.environ[self.env]
        return False if self.action == "store_true" else self.default

    def add_to(self, group) -> None:
        """Add the option to a pytest option group or an argparse parser."""
        adder = getattr(group, "addoption", None) or group.add_argument
        adder(self.flag, **self._kwargs())

    def to_args(self, value) -> list[str]:
        """Return the command-line words that set `value`, for pytest.main."""
        if self.action == "store_true":
            return [self.flag] if value else []
        if self.action == "append":
            return [word for item in value or () for word in (self.flag, str(item))]
        if value is None or value == self.default_value():
            return []
        return [self.flag, str(value)]


CORE_OPTIONS = [
    HarnessOption(
        "--ris-url",
        "base URL of the RIS-PACS FHIR endpoint under test; without it the "
        "bundled mock RIS-PACS is started on a free loopback port",
        metavar="URL",
    ),
    HarnessOption(
        "--ris-token",
        "bearer token or API key that GipoNext sends to the RIS-PACS "
        "(default: the GIPONEXT_RIS_TOKEN variable)",
        metavar="TOKEN",
        env="GIPONEXT_RIS_TOKEN",
    ),
    HarnessOption(
        "--ris-basic",
        "deprecated Basic credentials for the RIS-PACS, as USER:PASSWORD",
        metavar="USER:PASS",
    ),
    HarnessOption(
        "--ca-bundle",
        "PEM file of the CA certificates that verify the RIS-PACS certificate "
        "(default: the system store)",
        metavar="PATH",
    ),
    HarnessOption(
        "--allow-http",
        "accept a plain http:// RIS-PACS URL for a local run; TRN-01 becomes "
        "a warning instead of a failure",
        action="store_true",
    ),
    HarnessOption(
        "--report-dir",
        "folder for conformance.json and the other reports "
        f"(default: {DEFAULT_REPORT_DIR})",
        metavar="DIR",
        default=DEFAULT_REPORT_DIR,
    ),
    HarnessOption(
        "--quirk",
        "start the bundled mock RIS-PACS with this deliberate mistake "
        "(repeatable; for testing the suite itself)",
        metavar="NAME",
        action="append",
    ),
    HarnessOption(
        "--conformance-json",
        "where to write conformance.json (default: REPORT_DIR/conformance.json)",
        metavar="PATH",
    ),
    HarnessOption(
        "--scenario-timeout",
        "seconds a scenario may spend waiting for the target, in total "
        f"(default: {DEFAULT_SCENARIO_TIMEOUT:g})",
        metavar="SECONDS",
        type=float,
        default=DEFAULT_SCENARIO_TIMEOUT,
    ),
    HarnessOption(
        "--seed",
        "seed for the generated patients and orders (default: drawn per run, "
        "so that ids rarely repeat on a vendor's system)",
        metavar="N",
        type=int,
    ),
]


def load_extensions() -> list:
    """Import the extension modules that are installed."""
    modules = []
    for name in EXTENSION_MODULES:
        try:
            modules.append(importlib.import_module(name))
        except ModuleNotFoundError as error:
            if error.name != name:
                raise
    return modules


def harness_options() -> list[HarnessOption]:
    """Return every harness option: the core ones, then the extensions' ones."""
    options = list(CORE_OPTIONS)
    for module in load_extensions():
        options.extend(getattr(module, "HARNESS_OPTIONS", ()))
    return options


# --- configuration ---------------------------------------------------------


def pytest_addoption(parser, pluginmanager):
    group = parser.getgroup("giponext-conformance", "GipoNext conformance harness")
    for option in harness_options():
        option.add_to(group)
    for module in load_extensions():
        if not pluginmanager.is_registered(module):
            pluginmanager.register(module, name=module.__name__)


class HarnessState:
    """State that the plugin keeps for one pytest session."""

    def __init__(self, config):
        self.config = config
        self.recorder = RunRecorder()
        seed = config.getoption("seed")
        self.seed = seed if seed is not None else secrets.randbits(32)
        self._bundled: BundledRisPacs | None = None
        self._target = None
        self._target_error: HarnessError | None = None
        self.report: dict | None = None
        self.report_path: Path | None = None

    @property
    def external(self) -> bool:
        return bool(self.config.getoption("ris_url"))

    def target(self):
        """Return the Target, starting the bundled mock on first use."""
        if self._target_error is not None:
            raise self._target_error
        if self._target is None:
            try:
                self._target = self._make_target()
            except HarnessError as error:
                self._target_error = error
                raise
            self._record_transport(self._target)
        return self._target

    def _make_target(self):
        option = self.config.getoption
        if self.external:
            return external_target(
                option("ris_url"),
                token=option("ris_token"),
                basic=option("ris_basic"),
                ca_bundle=option("ca_bundle"),
                allow_http=option("allow_http"),
            )
        self._bundled = BundledRisPacs(quirks=option("quirk") or ())
        return self._bundled.start()

    def _record_transport(self, target) -> None:
        """Judge TRN-01 once per run from the URL scheme, whatever scenarios run."""
        if target.is_https:
            return
        if target.allow_http:
            message = (
                f"{target.ris_url} is plain HTTP, allowed by --allow-http "
                "for a local run"
            )
            self.recorder.run_results.append(CheckResult("TRN-01", CHECK_NOTE, message))
        else:
            message = f"expected an https:// URL, found {target.ris_url}"
            self.recorder.run_results.append(CheckResult("TRN-01", CHECK_FAIL, message))

    def describe_target(self) -> dict:
        if self._target is not None:
            return self._target.describe()
        option = self.config.getoption
        return {
            "ris_url": option("ris_url"),
            "giponext_url": None,
            "bundled": not self.external,
            "quirks": list(option("quirk") or ()),
            "outcome": False,
        }

    def stop(self) -> None:
        if self._bundled is not None:
            self._bundled.stop()
            self._bundled = None

    def conformance_path(self) -> Path:
        explicit = self.config.getoption("conformance_json")
        if explicit:
            return Path(explicit)
        return Path(self.config.getoption("report_dir")) / "conformance.json"


_state_key = pytest.StashKey[HarnessState]()
_reports_key = pytest.StashKey[dict]()
_verdicts_key = pytest.StashKey[Verdicts]()
_reason_key = pytest.StashKey[str]()


def harness_state(config) -> HarnessState:
    """Return the plugin's state for a pytest config (for extension modules)."""
    return config.stash[_state_key]


def pytest_configure(config):
    for rule in load_rules().values():
        config.addinivalue_line(
            "markers", f"{rule.id}: {rule.level} rule. {rule.statement}"
        )
    for level in LEVELS:
        config.addinivalue_line("markers", f"{level}: scenario checks a {level} rule")
    config.addinivalue_line(
        "markers",
        f"{GIPONEXT_MOCK_MARKER}: scenario exercises the bundled GipoNext mock,"
        " not the RIS-PACS, so a vendor's run skips it",
    )
    config.stash[_state_key] = HarnessState(config)


def pytest_unconfigure(config):
    state = config.stash.get(_state_key, None)
    if state is not None:
        state.stop()


# --- collection --------------------------------------------------------------


def _scenario_template(item):
    from pytest_bdd.scenario import scenario_wrapper_template_registry

    function = getattr(item, "function", None)
    if function is None:
        return None
    try:
        return scenario_wrapper_template_registry.get(function)
    except TypeError:
        return None


def _example(item) -> dict:
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return {}
    return callspec.params.get("_pytest_bdd_example") or {}


def _scenario_tags(item, template) -> set[str]:
    """Return the tags of a scenario, its Feature, its Rule and its Examples table."""
    rule_tags = template.rule.tags if template.rule is not None else set()
    # The tags of an Examples table reach the item only as marks of its rows.
    table_tags = {tag for table in template.examples for tag in table.tags}
    row_tags = table_tags & {mark.name for mark in item.iter_markers()}
    return template.tags | template.feature.tags | rule_tags | row_tags


# Tag of the features that exercise the bundled GipoNext mock itself: its
# rejections, corrections, OAuth server and rate limits. Their verdicts
# describe the mock, not a vendor's RIS-PACS.
GIPONEXT_MOCK_MARKER = "giponext-mock"


def is_scenario(item) -> bool:
    return _scenario_template(item) is not None


def pytest_collection_modifyitems(config, items):
    external = harness_state(config).external
    for item in items:
        template = _scenario_template(item)
        if template is None:
            continue
        _reject_placeholders(item, template)
        if external and item.get_closest_marker("MOCK"):
            item.add_marker(
                pytest.mark.skip(
                    reason="MOCK rules describe the bundled mock RIS-PACS and are "
                    "not checked on a vendor's system"
                )
            )
        elif external and item.get_closest_marker(GIPONEXT_MOCK_MARKER):
            item.add_marker(
                pytest.mark.skip(
                    reason="this scenario checks the bundled GipoNext mock; a "
                    "vendor's reports are judged in the outcome flow"
                )
            )


def _reject_placeholders(item, template) -> None:
    scenario = template.render(_example(item))
    for step in scenario.steps:
        leftover = PLACEHOLDER.search(step.name)
        if leftover:
            raise pytest.UsageError(
                f"step '{step.name}' of scenario '{scenario.name}' in "
                f"{template.feature.rel_filename} keeps the placeholder "
                f"{leftover.group(0)}: add a column of that name to its Examples"
            )


def pytest_bdd_before_step(request, feature, scenario, step, step_func):
    leftover = PLACEHOLDER.search(step.name)
    if leftover:
        raise pytest.UsageError(
            f"step '{step.name}' received the unfilled placeholder {leftover.group(0)}"
        )


# --- fixtures ------------------------------------------------------------------


@pytest.fixture(scope="session")
def ris_target(request):
    """The RIS-PACS under test (a Target); starts the bundled mock on first use."""
    state = harness_state(request.config)
    try:
        return state.target()
    except HarnessError as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture
def verdicts(request):
    """The rule verdicts of the current scenario (see results.Verdicts)."""
    found = Verdicts()
    request.node.stash[_verdicts_key] = found
    return found


@pytest.fixture
def scenario_deadline(request):
    """time.monotonic() value after which the scenario's requests stop."""
    return time.monotonic() + request.config.getoption("scenario_timeout")


@pytest.fixture
def ris(ris_target, verdicts, scenario_deadline):
    """A FhirClient for the RIS-PACS with GipoNext's configured credential."""
    if not ris_target.is_https and not ris_target.allow_http:
        pytest.skip(
            f"{ris_target.ris_url} is plain HTTP, which fails TRN-01; pass "
            "--allow-http to run the other checks over HTTP on a local system"
        )
    if isinstance(ris_target.auth, BasicCredentials):
        verdicts.warn(
            "AUTH-04",
            "GipoNext authenticated with the deprecated Basic scheme; "
            "issue a bearer token or API key instead",
        )
    with ris_target.client(deadline=scenario_deadline) as client:
        yield client


@pytest.fixture
def scenario_rules(request) -> list[str]:
    """Rule ids tagged on the current scenario, in catalogue order."""
    template = _scenario_template(request.node)
    if template is None:
        return []
    tags = _scenario_tags(request.node, template)
    return [rule_id for rule_id in load_rules() if rule_id in tags]


@pytest.fixture
def scenario_seed(request):
    """A seed for the scenario: the run's seed mixed with the scenario's node id."""
    state = harness_state(request.config)
    return (state.seed ^ zlib.crc32(request.node.nodeid.encode("utf-8"))) & 0xFFFFFFFF


@pytest.fixture
def scenario_faker(scenario_seed):
    """An it_IT Faker seeded for the current scenario."""
    try:
        from giponext_conformance.fixtures.providers import make_faker
    except ImportError:
        from faker import Faker

        fake = Faker("it_IT")
        fake.seed_instance(scenario_seed)
        return fake
    return make_faker(scenario_seed)


@pytest.fixture
def intake(scenario_seed):
    """A patient and an order built for the current scenario (build_intake)."""
    from giponext_conformance.fixtures.providers import build_intake

    return build_intake(scenario_seed)


# --- verdict collection ------------------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if is_scenario(item):
        item.stash.setdefault(_reports_key, {})[report.when] = report
        if call.excinfo is not None and not item.stash.get(_reason_key, None):
            item.stash[_reason_key] = _one_line_reason(call.excinfo)
    return report


def _one_line_reason(excinfo) -> str:
    error = excinfo.value
    if isinstance(error, pytest.skip.Exception | pytest.fail.Exception):
        text = getattr(error, "msg", str(error))
    elif isinstance(error, HarnessError | AssertionError):
        text = str(error)
    else:
        text = f"{type(error).__name__}: {error}"
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    result = yield
    if is_scenario(item):
        harness_state(item.config).recorder.add(_scenario_record(item))
    return result


def _scenario_record(item) -> ScenarioRecord:
    template = _scenario_template(item)
    reports = item.stash.get(_reports_key, {})
    verdicts = item.stash.get(_verdicts_key, None)

    outcome = "passed"
    for report in reports.values():
        if report.failed:
            outcome = "failed"
            break
        if report.skipped:
            outcome = "skipped"

    name = template.name
    results = list(verdicts.results) if verdicts else []
    example = _example(item)
    if example:
        label = ", ".join(str(value) for value in example.values())
        name += f" [{label}]"
        # Outline rows share their steps, so a message names its row.
        results = [
            replace(result, message=f"{label}: {result.message}") for result in results
        ]
    tags = sorted(_scenario_tags(item, template))

    reason = item.stash.get(_reason_key, None)
    failed_on_check = bool(verdicts and verdicts.failed_check)
    return ScenarioRecord(
        name=name,
        feature=template.feature.name,
        tags=tags,
        outcome=outcome,
        duration=sum(report.duration for report in reports.values()),
        results=results,
        reason=reason,
        failed_on_check=failed_on_check,
    )


# --- end of session ----------------------------------------------------------


def pytest_sessionfinish(session, exitstatus):
    state = harness_state(session.config)
    try:
        if not state.recorder.scenarios:
            return
        state.recorder.target = state.describe_target()
        state.report = state.recorder.build_report()
        state.report["harness"]["seed"] = state.seed
        state.report_path = write_report(state.report, state.conformance_path())
    finally:
        state.stop()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    state = harness_state(config)
    if state.report is None:
        return
    terminalreporter.write_sep("=", "GipoNext conformance")
    for line in summary_lines(state.report, state.report_path):
        terminalreporter.write_line(line)


__all__ = [
    "CORE_OPTIONS",
    "EXTENSION_MODULES",
    "HarnessOption",
    "RuleCheckFailed",
    "TargetUnreachable",
    "harness_options",
    "harness_state",
]
