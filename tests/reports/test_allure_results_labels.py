"""Allure results of a pytest-bdd run: labels, environment, categories, progress."""

from __future__ import annotations

import json
import re
import textwrap

import pytest

from giponext_conformance.allure_labels import (
    CATEGORIES,
    AllureIntegrationError,
    check_allure_integration,
    environment_properties,
    scenario_labels,
)

pytest_plugins = ["pytester"]

FEATURE = textwrap.dedent(
    """\
    Feature: ProcedureRequest intake
      Orders arrive from GipoNext with POST.

      @PR-03 @SHALL @negative
      Scenario: An accepted order cannot be replaced
        Given an accepted order
        When GipoNext replaces the order
        Then the RIS-PACS rejects the change

      @TRN-04 @SHOULD
      Scenario: Responses are labelled as FHIR
        Given an accepted order
        Then the response is labelled as FHIR
    """
)

STEPS = textwrap.dedent(
    """\
    import allure
    from pytest_bdd import given, scenarios, then, when

    scenarios("intake.feature")


    @given("an accepted order", target_fixture="order")
    def _():
        return {"id": "PR-7001"}


    @when("GipoNext replaces the order")
    def _(order):
        allure.attach(b"%PDF-1.4 sample", name="report.pdf",
                      attachment_type=allure.attachment_type.PDF)


    @then("the RIS-PACS rejects the change")
    def _():
        raise AssertionError(
            "PR-03: expected 4xx for PUT ProcedureRequest/PR-7001, found 200"
        )


    @then("the response is labelled as FHIR")
    def _():
        pass
    """
)


def _run(pytester, *extra_args):
    pytester.makefile(".feature", intake=FEATURE)
    pytester.makepyfile(test_intake=STEPS)
    results_dir = pytester.path / "allure-results"
    outcome = pytester.runpytest(
        f"--alluredir={results_dir}",
        "--ris-url=https://vendor.example.test:8443/fhir?api_key=topsecretkey",
        "--report-dir=reports",
        *extra_args,
    )
    return outcome, results_dir


def _results_by_name(results_dir) -> dict:
    by_name = {}
    for path in results_dir.glob("*-result.json"):
        result = json.loads(path.read_text("utf-8"))
        by_name[result["name"]] = result
    return by_name


def _labels(result, name) -> list[str]:
    return [label["value"] for label in result["labels"] if label["name"] == name]


def test_scenario_labels_from_tags(pytester):
    outcome, results_dir = _run(pytester)

    outcome.assert_outcomes(passed=1, failed=1)
    results = _results_by_name(results_dir)
    negative = results["An accepted order cannot be replaced"]
    assert _labels(negative, "epic") == ["Intake"]
    assert _labels(negative, "feature") == ["ProcedureRequest intake"]
    assert _labels(negative, "story") == ["PR-03"]
    assert _labels(negative, "severity") == ["critical"]
    assert set(_labels(negative, "tag")) >= {"PR-03", "SHALL", "negative"}


def test_should_scenario_is_normal_severity(pytester):
    _, results_dir = _run(pytester)

    results = _results_by_name(results_dir)
    positive = results["Responses are labelled as FHIR"]
    assert _labels(positive, "epic") == ["Transport"]
    assert _labels(positive, "severity") == ["normal"]
    assert positive["status"] == "passed"


def test_target_label_masks_credentials(pytester):
    _, results_dir = _run(pytester)

    negative = _results_by_name(results_dir)["An accepted order cannot be replaced"]
    assert _labels(negative, "target") == [
        "https://vendor.example.test:8443/fhir?api_key=[REDACTED]"
    ]
    for path in results_dir.iterdir():
        assert b"topsecretkey" not in path.read_bytes(), path.name


def test_failed_check_message_and_steps(pytester):
    _, results_dir = _run(pytester)

    negative = _results_by_name(results_dir)["An accepted order cannot be replaced"]
    assert negative["status"] == "failed"
    assert (
        "expected 4xx for PUT ProcedureRequest/PR-7001, found 200"
        in (negative["statusDetails"]["message"])
    )
    step_names = [step["name"] for step in negative["steps"]]
    assert step_names == [
        "Given an accepted order",
        "When GipoNext replaces the order",
        "Then the RIS-PACS rejects the change",
    ]


def test_pdf_attachment_keeps_media_type(pytester):
    _, results_dir = _run(pytester)

    negative = _results_by_name(results_dir)["An accepted order cannot be replaced"]
    attachments = negative["steps"][1]["attachments"]
    assert attachments[0]["name"] == "report.pdf"
    assert attachments[0]["type"] == "application/pdf"
    assert (results_dir / attachments[0]["source"]).read_bytes() == b"%PDF-1.4 sample"


def test_environment_and_categories_written(pytester):
    _, results_dir = _run(pytester)

    properties = (results_dir / "environment.properties").read_text("utf-8")
    assert (
        "target.ris_url=https://vendor.example.test:8443/fhir?api_key=[REDACTED]"
        in properties
    )
    assert "topsecretkey" not in properties
    assert "harness.version=" in properties
    assert "allure-pytest-bdd.version=2." in properties
    categories = json.loads((results_dir / "categories.json").read_text("utf-8"))
    assert [category["name"] for category in categories] == [
        "Target unreachable",
        "Target conformance failures",
        "Harness errors",
    ]


def test_progress_lines_count_scenarios(pytester):
    outcome, _ = _run(pytester)

    outcome.stdout.re_match_lines(
        [
            ".*"
            + re.escape(
                "[1/2] Intake: An accepted order cannot be replaced ... failed"
            ),
            ".*"
            + re.escape("[2/2] Transport: Responses are labelled as FHIR ... passed"),
        ]
    )


def test_progress_lines_can_be_disabled(pytester):
    outcome, _ = _run(pytester, "--no-progress")

    outcome.stdout.no_re_match_line(".*" + re.escape("[1/2]"))


def test_labels_for_untagged_scenario():
    labels = scenario_labels(["smoke"], "Feature", None)

    assert labels == {
        "epic": [],
        "feature": ["Feature"],
        "story": [],
        "severity": ["minor"],
    }


def test_environment_lists_no_credentials():
    properties = environment_properties(
        {
            "ris_url": "https://127.0.0.1:9/fhir?access_token=abcdefgh123",
            "bundled": True,
        }
    )

    assert (
        properties["target.ris_url"]
        == "https://127.0.0.1:9/fhir?access_token=[REDACTED]"
    )
    assert properties["target.bundled"] == "true"


def _first_category(status: str, message: str) -> str:
    # Allure 3 puts a result in the first category whose matchers all match.
    for category in CATEGORIES:
        pattern = category.get("messageRegex")
        if status not in category["matchedStatuses"]:
            continue
        if pattern is None or re.search(pattern, message):
            return category["name"]
    return "none"


@pytest.mark.parametrize(
    ("status", "message", "expected"),
    [
        (
            "broken",
            "giponext_conformance.errors.TargetUnreachable: connection refused",
            "Target unreachable",
        ),
        (
            "failed",
            "Failed: the scenario ran out of time before the request",
            "Target unreachable",
        ),
        (
            "failed",
            "giponext_conformance.results.RuleCheckFailed: PR-03: expected 4xx, "
            "found 200",
            "Target conformance failures",
        ),
        (
            "failed",
            "AssertionError: expected 201, found 500",
            "Target conformance failures",
        ),
        (
            "failed",
            "Failed: the connection to https://127.0.0.1:9/fhir was refused: "
            "check that "
            "the RIS-PACS is running and listening on that port",
            "Target unreachable",
        ),
        (
            "failed",
            "Failed: the TLS certificate of https://127.0.0.1:9/fhir is not trusted "
            "(self-signed certificate)",
            "Target unreachable",
        ),
        ("broken", "KeyError: 'resourceType'", "Harness errors"),
        ("passed", "", "none"),
    ],
)
def test_categories_sort_failures(status, message, expected):
    assert _first_category(status, message) == expected


def test_category_patterns_avoid_inline_flags():
    for category in CATEGORIES:
        assert "(?" not in category.get("messageRegex", ""), category["name"]


def test_allure_pytest_plugin_is_rejected():
    class FakePluginManager:
        def has_plugin(self, name):
            return name == "allure_pytest"

    with pytest.raises(AllureIntegrationError, match="pip uninstall allure-pytest"):
        check_allure_integration(FakePluginManager())
