"""Steps of the outcome flow: after the intake the RIS-PACS delivers a report.

Phrases offered:
    Given GipoNext answers the first delivery of each report with {status:d}
        and Retry-After {seconds:d} seconds (one phrase)
    Given GipoNext answers the first delivery of each report with {status:d}
        and the run's Retry-After (one phrase)
    Given GipoNext has sent a new patient and order to the RIS-PACS
    Given the bundled RIS-PACS names another patient in its reports
    When the RIS-PACS delivers the report of the order
    Then GipoNext receives a report for the order that meets every report rule
    Then the outcome flow of the order is not complete
    Then the RIS-PACS retried no sooner than Retry-After and delivered the report once

State: `outcome_order` (OutcomeOrder) is the intake GipoNext sent and the
journal position before it; `delivered` is the first report the GipoNext
endpoint received for the tenant after the intake (a Delivery).

Against a vendor's RIS-PACS a report that does not arrive within
--outcome-timeout leaves the scenario skipped with the reason, so FLOW-02
reads not-run; the bundled mock RIS-PACS always delivers, so there a missing
report fails FLOW-02.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import pytest
from pytest_bdd import given, parsers, then, when

from giponext_conformance.results import RuleCheckFailed

from .patient import put_patient

# Seconds to keep watching after a report arrived in the retry scenario, so
# that a second delivery of the same report is seen.
DUPLICATE_WATCH = 1.5

# Seconds between two looks at whether the bundled sender is still busy.
SENDER_POLL_INTERVAL = 0.02

# Retry-After seconds of "the run's Retry-After". The bundled sender either
# waits or, with the ignores-retry-after quirk, retries at once, so one second
# is enough to distinguish the two. A vendor's sender gets two seconds, so that
# a fixed back-off of about a second is not taken for waiting.
BUNDLED_RETRY_AFTER = 1
VENDOR_RETRY_AFTER = 2


@dataclass
class OutcomeOrder:
    """The intake GipoNext sent, and where the delivery log stood before it."""

    patient: dict
    order: dict
    after_seq: int


@given(
    parsers.parse(
        "GipoNext answers the first delivery of each report with {status:d} and"
        " Retry-After {seconds:d} seconds"
    )
)
def busy_giponext(request, giponext_endpoint, status, seconds):
    from giponext_conformance.mocks.giponext import DeliveryFault

    faults = giponext_endpoint.mock.config.delivery_faults
    faults[giponext_endpoint.tenant] = DeliveryFault(status, seconds)
    request.addfinalizer(lambda: faults.pop(giponext_endpoint.tenant, None))


@given(
    parsers.parse(
        "GipoNext answers the first delivery of each report with {status:d} and"
        " the run's Retry-After"
    )
)
def busy_giponext_for_run(request, giponext_endpoint, status):
    from giponext_conformance.outcome import outcome_run

    external = outcome_run(request.config).external
    seconds = VENDOR_RETRY_AFTER if external else BUNDLED_RETRY_AFTER
    busy_giponext(request, giponext_endpoint, status, seconds)


@given(
    "GipoNext has sent a new patient and order to the RIS-PACS",
    target_fixture="outcome_order",
)
def intake_sent(ris, giponext_endpoint, intake):
    patient, order, _doctors = intake
    giponext_endpoint.register_order(order, patient)
    after_seq = giponext_endpoint.last_seq()

    patient_answer = put_patient(ris, patient)
    order_answer = ris.post("ProcedureRequest", order)
    if patient_answer.status not in (200, 201) or order_answer.status not in (200, 201):
        pytest.skip(
            "the intake failed, so no report can follow: "
            f"Patient {patient_answer.describe()};"
            f" ProcedureRequest {order_answer.describe()}"
        )
    return OutcomeOrder(patient, order, after_seq)


@given("the bundled RIS-PACS names another patient in its reports")
def sender_names_other_patient(request, ris_target):
    """Make the bundled sender's next reports break DR-04, for this scenario only.

    Only the bundled mock's sender can be configured to make this mistake,
    so the scenario is skipped against a vendor's RIS-PACS.
    """
    sender = _bundled_sender(ris_target)
    if sender is None:
        pytest.skip("this scenario needs the bundled mock RIS-PACS and its sender")
    settings = sender.settings
    sender.settings = dataclasses.replace(
        settings, quirks=settings.quirks | {"wrong-subject"}
    )
    request.addfinalizer(lambda: setattr(sender, "settings", settings))


@when("the RIS-PACS delivers the report of the order", target_fixture="delivered")
def wait_for_delivery(request, giponext_endpoint, outcome_order):
    from giponext_conformance.outcome import announce, outcome_run
    from giponext_conformance.vendor import run_trigger, wait_for_report

    config = request.config
    external = outcome_run(config).external
    order_id = outcome_order.order["id"]
    trigger = config.getoption("outcome_trigger")
    if trigger:
        result = run_trigger(trigger, order_id, outcome_order.patient["id"])
        announce(config, [result])

    timeout = config.getoption("outcome_timeout")
    progress = (
        (lambda line: announce(config, [line])) if external else (lambda line: None)
    )
    delivery = wait_for_report(
        giponext_endpoint, order_id, outcome_order.after_seq, timeout, progress
    )
    if delivery is None and external:
        pytest.skip(
            f"no report for ProcedureRequest/{order_id} reached"
            f" {giponext_endpoint.fhir_base}/DiagnosticReport within {timeout:g} s;"
            " check the URL, tenant id and API key configured in the RIS-PACS, or"
            " raise --outcome-timeout"
        )
    return delivery


def _record_all(verdicts, checks) -> None:
    """Record every check, then fail on the first failed SHALL check.

    Recording them all first lets one delivery show every rule it breaks.
    """
    failures = []
    for check in checks:
        level = "SHOULD" if check.warning else None
        try:
            verdicts.check(check.rule, check.ok, check.message, level=level)
        except RuleCheckFailed as failure:
            failures.append(failure)
    if failures:
        raise failures[0]


@then("GipoNext receives a report for the order that meets every report rule")
def report_meets_rules(verdicts, giponext_endpoint, outcome_order, delivered):
    from giponext_conformance.mocks.giponext.judge import judge_delivery

    checks = judge_delivery(
        delivered, outcome_order.order["id"], giponext_endpoint.tenant
    )
    _record_all(verdicts, checks)


@then("the outcome flow of the order is not complete")
def flow_not_complete(verdicts, giponext_endpoint, outcome_order, delivered):
    from giponext_conformance.mocks.giponext.judge import judge_delivery

    checks = judge_delivery(
        delivered, outcome_order.order["id"], giponext_endpoint.tenant
    )
    flow = next(check for check in checks if check.rule == "FLOW-02")
    verdicts.check(
        "FLOW-02",
        not flow.ok,
        "expected a report for another patient to leave the outcome flow"
        f" incomplete, found it complete: {flow.message}",
    )


def _watch_for_duplicates(ris_target) -> None:
    """Wait until a second delivery of the report would have arrived.

    The bundled mock's sender sends nothing once `busy()` is False (no
    delivery scheduled, running or in flight), so the wait ends there, at
    most DUPLICATE_WATCH seconds later. Any other sender is watched for
    DUPLICATE_WATCH seconds.
    """
    deadline = time.monotonic() + DUPLICATE_WATCH
    sender = _bundled_sender(ris_target)
    if sender is None:
        time.sleep(DUPLICATE_WATCH)
        return
    while sender.busy() and time.monotonic() < deadline:
        time.sleep(SENDER_POLL_INTERVAL)


def _bundled_sender(ris_target):
    """Return the bundled mock's ReportSender, or None for any other RIS-PACS."""
    ris_app = ris_target.extra.get("ris_app")
    if ris_app is None:
        # A vendor's run never loads the mock's modules.
        return None
    from giponext_conformance.mocks.ris_pacs.sender import EXTENSION

    return ris_app.extensions.get(EXTENSION)


@then("the RIS-PACS retried no sooner than Retry-After and delivered the report once")
def retried_politely(verdicts, ris_target, giponext_endpoint, delivered):
    from giponext_conformance.mocks.giponext.judge import judge_retries

    if delivered is None:
        verdicts.check(
            "GAUTH-06", False, "expected a delivered report, found none in time"
        )
        return
    _watch_for_duplicates(ris_target)
    behaviour = giponext_endpoint.mock.retry_behaviour(
        giponext_endpoint.tenant, delivered.report_id
    )
    check = judge_retries(behaviour, delivered.report_id)
    verdicts.check("GAUTH-06", check.ok, check.message)
