"""A step never receives an outline placeholder that its Examples do not fill."""

from __future__ import annotations

import textwrap

import pytest

pytest_plugins = ["pytester"]

STEPS = textwrap.dedent(
    """\
    from pytest_bdd import given, parsers, scenarios, then

    scenarios("orders.feature")


    @given(parsers.parse("an order with status {status}"), target_fixture="order")
    def _(status):
        return {"status": status}


    @then(parsers.parse("the RIS-PACS answers {code}"))
    def _(code):
        assert code.isdigit(), code
    """
)


def _feature(examples_header: str) -> str:
    return textwrap.dedent(
        f"""\
        Feature: Orders
          Scenario Outline: Orders in any status get an answer
            Given an order with status <status>
            Then the RIS-PACS answers <code>

            Examples:
              | {examples_header} |
              | active | 201 |
        """
    )


def test_filled_outline_runs(pytester):
    pytester.makefile(".feature", orders=_feature("status | code"))
    pytester.makepyfile(test_orders=STEPS)

    outcome = pytester.runpytest("--no-progress")

    outcome.assert_outcomes(passed=1)


def test_unfilled_placeholder_stops_run(pytester):
    pytester.makefile(".feature", orders=_feature("status | answer"))
    pytester.makepyfile(test_orders=STEPS)

    outcome = pytester.runpytest("--no-progress")

    assert outcome.ret == pytest.ExitCode.USAGE_ERROR
    outcome.stderr.fnmatch_lines(["*keeps the placeholder <code>*"])
    outcome.assert_outcomes()


def test_placeholder_in_plain_scenario_stops_run(pytester):
    pytester.makefile(
        ".feature",
        orders=textwrap.dedent(
            """\
            Feature: Orders
              Scenario: An order gets an answer
                Given an order with status active
                Then the RIS-PACS answers <code>
            """
        ),
    )
    pytester.makepyfile(test_orders=STEPS)

    outcome = pytester.runpytest("--no-progress")

    assert outcome.ret == pytest.ExitCode.USAGE_ERROR
    outcome.stderr.fnmatch_lines(["*'the RIS-PACS answers <code>'*<code>*"])
