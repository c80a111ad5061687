"""Rule verdicts: checks in a scenario, statuses per rule, the report and summary.

The last tests run small features through the plugin with pytester.
"""

import json

import pytest

from giponext_conformance.results import (
    RuleCheckFailed,
    RunRecorder,
    ScenarioRecord,
    Verdicts,
    summary_lines,
    write_report,
)

pytest_plugins = ["pytester"]


def _record(name, verdicts, outcome="passed", tags=(), reason=None):
    return ScenarioRecord(
        name=name,
        feature="Feature",
        tags=list(tags),
        outcome=outcome,
        duration=0.25,
        results=list(verdicts.results),
        reason=reason,
        failed_on_check=verdicts.failed_check,
    )


def test_failed_shall_check_raises():
    verdicts = Verdicts()

    with pytest.raises(RuleCheckFailed) as raised:
        verdicts.check("PR-03", False, "expected 405, found 200")

    assert str(raised.value) == "PR-03: expected 405, found 200"
    assert raised.value.rule == "PR-03"
    assert verdicts.failed_check is True


def test_failed_should_check_goes_on():
    verdicts = Verdicts()

    result = verdicts.check("TRN-03", False, "expected 415, found 201")

    assert result is False
    assert verdicts.failed_check is False
    assert [r.kind for r in verdicts.results] == ["shortfall"]


def test_should_clause_of_shall_rule_warns():
    verdicts = Verdicts()

    verdicts.check("AUTH-03", True, "401")
    verdicts.check("AUTH-03", False, "no WWW-Authenticate", level="SHOULD")

    recorder = RunRecorder()
    recorder.add(_record("wrong token", verdicts, tags=["AUTH-03", "SHALL"]))
    assert recorder.rule_verdicts()["AUTH-03"].status == "warning"


def test_unknown_rule_rejected():
    verdicts = Verdicts()

    with pytest.raises(KeyError, match="PAT-01"):
        verdicts.check("PAT-99", True, "")


def test_statuses_per_rule():
    passing = Verdicts()
    passing.check("PAT-01", True, "201")
    passing.warn("AUTH-04", "Basic is deprecated")
    passing.check("AUTH-04", True, "Basic accepted")
    noted = Verdicts()
    noted.warn("PR-02", "could not read the order back")
    failing = Verdicts()
    with pytest.raises(RuleCheckFailed):
        failing.check("PR-03", False, "expected 4xx, found 200")

    recorder = RunRecorder()
    recorder.add(_record("a", passing, tags=["PAT-01", "AUTH-04"]))
    recorder.add(_record("b", noted, tags=["PR-02"]))
    recorder.add(_record("c", failing, outcome="failed", tags=["PR-03"]))
    verdicts = recorder.rule_verdicts()

    assert verdicts["PAT-01"].status == "passed"
    assert verdicts["AUTH-04"].status == "passed"
    assert verdicts["AUTH-04"].messages == ["Basic is deprecated"]
    assert verdicts["PR-02"].status == "warning"
    assert verdicts["PR-03"].status == "failed"
    assert verdicts["PR-03"].messages == ["expected 4xx, found 200"]
    assert verdicts["DR-01"].status == "not-run"


def test_error_before_check_fails_tagged_rules():
    verdicts = Verdicts()
    verdicts.check("PR-01", True, "201")

    recorder = RunRecorder()
    recorder.add(
        _record(
            "order created",
            verdicts,
            outcome="failed",
            tags=["PR-01", "PR-02", "SHALL"],
            reason="the connection to https://127.0.0.1:1 was refused",
        )
    )
    result = recorder.rule_verdicts()

    assert result["PR-01"].status == "passed"
    assert result["PR-02"].status == "failed"
    assert "stopped before checking it" in result["PR-02"].messages[0]
    assert "refused" in result["PR-02"].messages[0]


def test_skipped_scenario_leaves_rule_not_run():
    recorder = RunRecorder()
    recorder.add(
        _record("skipped", Verdicts(), outcome="skipped", tags=["TRN-08", "MOCK"])
    )

    result = recorder.rule_verdicts()

    assert result["TRN-08"].status == "not-run"
    assert result["TRN-08"].scenarios == [
        {"name": "skipped", "feature": "Feature", "outcome": "skipped"}
    ]


def test_report_verdict_follows_shall_rules():
    should_only = Verdicts()
    should_only.check("TRN-03", False, "expected 415, found 201")
    recorder = RunRecorder({"ris_url": "https://127.0.0.1:9", "bundled": True})
    recorder.add(_record("media type", should_only, tags=["TRN-03"]))

    report = recorder.build_report()

    assert report["verdict"] == "passed"
    assert report["summary"]["warning"] == 1
    assert report["rules"]["TRN-03"]["level"] == "SHOULD"
    assert report["scenarios"][0]["rules"] == ["TRN-03"]
    assert report["harness"]["name"] == "giponext-conformance"


def test_report_fails_on_shall_failure(tmp_path):
    failing = Verdicts()
    with pytest.raises(RuleCheckFailed):
        failing.check("AUTH-01", False, "expected 401, found 201")
    recorder = RunRecorder({"ris_url": "https://127.0.0.1:9", "bundled": False})
    recorder.add(_record("no credentials", failing, outcome="failed", tags=["AUTH-01"]))

    report = recorder.build_report()
    path = write_report(report, tmp_path / "out" / "conformance.json")

    assert report["verdict"] == "failed"
    assert json.loads(path.read_text("utf-8"))["rules"]["AUTH-01"]["status"] == "failed"


def test_summary_shows_notes_of_passed_rules():
    basic = Verdicts()
    basic.warn("AUTH-04", "Basic is deprecated")
    basic.check("AUTH-04", True, "Basic accepted")
    recorder = RunRecorder({"ris_url": "https://127.0.0.1:9", "bundled": False})
    recorder.add(_record("basic", basic, tags=["AUTH-04"]))

    lines = summary_lines(recorder.build_report())

    assert lines[1] == "Notes:"
    assert lines[2].split() == ["AUTH-04", "SHOULD", "Basic", "is", "deprecated"]
    assert lines[3] == "Passed: AUTH-04"


def test_summary_lists_failures_first():
    failing = Verdicts()
    with pytest.raises(RuleCheckFailed):
        failing.check("AUTH-01", False, "expected 401, found 201")
    warned = Verdicts()
    warned.check("TRN-03", False, "expected 415, found 201")
    recorder = RunRecorder(
        {"ris_url": "https://127.0.0.1:9", "bundled": True, "quirks": []}
    )
    recorder.add(_record("warned", warned, tags=["TRN-03"]))
    recorder.add(_record("failed", failing, outcome="failed", tags=["AUTH-01"]))

    lines = summary_lines(recorder.build_report(), "reports/conformance.json")

    assert lines[0].endswith(": FAILED")
    assert lines[1] == "Failed rules:"
    assert lines[2].split() == ["AUTH-01", "SHALL", "expected", "401,", "found", "201"]
    assert lines[3] == "Warnings:"
    assert lines[4].startswith("  TRN-03")
    assert lines[-2].startswith("Rules: 0 passed, 1 failed, 1 warning")
    assert not any(line.startswith("Seed:") for line in lines)
    assert lines[-1] == "Report: reports/conformance.json"


PLUGIN_STEPS = """
from pytest_bdd import given, parsers, scenarios, then

scenarios("checks.feature")


@given("a scenario")
def a_scenario():
    pass


@then(parsers.parse("{rule} is checked as {outcome}"))
def checked(verdicts, rule, outcome):
    verdicts.check(rule, outcome == "met", f"expected met, found {outcome}")
"""

PLUGIN_FEATURE = """
Feature: Checks
  Scenarios that only record verdicts.

  @PAT-01 @SHALL
  Scenario: A met rule
    Given a scenario
    Then PAT-01 is checked as met

  @PR-03 @SHALL
  Scenario: A broken rule
    Given a scenario
    Then PR-03 is checked as broken

  @TRN-08 @MOCK
  Scenario: A rule of the bundled mock
    Given a scenario
    Then TRN-08 is checked as met
"""


@pytest.fixture
def checks_project(pytester):
    pytester.makefile(".feature", checks=PLUGIN_FEATURE)
    pytester.makepyfile(test_checks=PLUGIN_STEPS)
    return pytester


def test_plugin_writes_rule_verdicts(checks_project):
    path = checks_project.path / "out.json"

    outcome = checks_project.runpytest("--strict-markers", f"--conformance-json={path}")
    report = json.loads(path.read_text("utf-8"))

    outcome.assert_outcomes(passed=2, failed=1)
    assert report["rules"]["PAT-01"]["status"] == "passed"
    assert report["rules"]["PR-03"]["status"] == "failed"
    assert report["rules"]["PR-03"]["messages"] == ["expected met, found broken"]
    assert report["rules"]["TRN-08"]["status"] == "passed"
    assert report["verdict"] == "failed"
    assert report["target"]["bundled"] is True
    assert [s["outcome"] for s in report["scenarios"]] == ["passed", "failed", "passed"]
    outcome.stdout.fnmatch_lines(
        ["*: FAILED", "Failed rules:", "  PR-03 * expected met, found broken"]
    )


def test_plugin_skips_mock_rules_for_vendor(checks_project):
    path = checks_project.path / "out.json"

    checks_project.runpytest(
        "--ris-url=https://127.0.0.1:9",
        "--ris-token=vendor-token-1",
        f"--conformance-json={path}",
    )
    report = json.loads(path.read_text("utf-8"))

    assert report["rules"]["TRN-08"]["status"] == "not-run"
    assert report["scenarios"][2]["outcome"] == "skipped"
    assert report["target"]["bundled"] is False
    assert report["target"]["ris_url"] == "https://127.0.0.1:9"


def test_plugin_no_report_without_scenarios(pytester):
    pytester.makepyfile(test_plain="def test_one():\n    assert True\n")
    path = pytester.path / "out.json"

    outcome = pytester.runpytest(f"--conformance-json={path}")

    outcome.assert_outcomes(passed=1)
    assert not path.exists()


def test_skip_reason_explains_not_run_rule():
    recorder = RunRecorder()
    recorder.add(
        _record(
            "Report arrives",
            Verdicts(),
            outcome="skipped",
            tags=["FLOW-02", "SHALL"],
            reason="no report arrived within 30 s",
        )
    )

    verdicts = recorder.rule_verdicts()

    assert verdicts["FLOW-02"].status == "not-run"
    assert verdicts["FLOW-02"].messages == [
        "scenario 'Report arrives' was skipped: no report arrived within 30 s"
    ]
    assert verdicts["PR-03"].messages == []
