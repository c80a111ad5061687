"""Verdicts on a delivered report, per rule, for the outcome flow (FLOW-02).

The GipoNext mock already judged the report when it arrived: its findings
are stored with the delivery. This module turns them, and the delivery
itself, into one check per rule, which the outcome steps and vendor mode
pass on to the results. It does no I/O.

FLOW-02 is judged on the delivery: a report for the order arrived in time
and GipoNext accepted it. The report's content is also judged under DR-01 to
DR-11 (and the base FHIR rules when it breaks them), so that the results name
the rule to fix.
"""

from __future__ import annotations

from dataclasses import dataclass

from .state import Delivery, RetryBehaviour, referenced_order_ids

REPORT_RULES = tuple(f"DR-{number:02d}" for number in range(1, 12))

# Statuses with which GipoNext accepts a delivered report.
ACCEPTED = (200, 201)


@dataclass(frozen=True)
class RuleCheck:
    """One verdict: `ok` False with `warning` True is a SHOULD-level remark."""

    rule: str
    ok: bool
    message: str
    warning: bool = False


def _rule_of(issue: dict) -> str | None:
    details = issue.get("details") or {}
    for coding in details.get("coding") or []:
        if coding.get("code"):
            return coding["code"]
    return details.get("text")


def _issues_by_rule(delivery: Delivery) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for issue in delivery.findings:
        rule = _rule_of(issue)
        if rule:
            grouped.setdefault(rule, []).append(issue)
    return grouped


def _describe(issues: list[dict]) -> str:
    parts = []
    for issue in issues:
        where = ", ".join(issue.get("expression") or [])
        text = issue.get("diagnostics", "")
        parts.append(f"{where}: {text}" if where else text)
    return "; ".join(parts)


def judge_delivery(
    delivery: Delivery | None, order_id: str, tenant: str
) -> list[RuleCheck]:
    """Return the checks for the first report delivered after an intake.

    `delivery` None means no report arrived in time: FLOW-02 fails and no
    other rule is judged.
    """
    if delivery is None:
        return [
            RuleCheck(
                "FLOW-02",
                False,
                f"expected a DiagnosticReport for ProcedureRequest/{order_id} on"
                f" /fhir/r3/{tenant}/DiagnosticReport, found none in time",
            )
        ]

    checks = [_flow_check(delivery, order_id), _order_id_check(delivery, order_id)]
    checks.append(
        RuleCheck(
            "DR-01",
            True,
            f"report {delivery.report_id} arrived by POST on"
            f" /fhir/r3/{tenant}/DiagnosticReport (status {delivery.status})",
        )
    )
    checks += _finding_checks(delivery)
    return checks


def _flow_check(delivery: Delivery, order_id: str) -> RuleCheck:
    if order_id in delivery.order_ids and delivery.status in ACCEPTED:
        return RuleCheck(
            "FLOW-02",
            True,
            f"report {delivery.report_id} for ProcedureRequest/{order_id} arrived"
            f" (status {delivery.status})",
        )
    if order_id in delivery.order_ids:
        broken = sorted(set(_error_rules(delivery))) or ["a report rule"]
        return RuleCheck(
            "FLOW-02",
            False,
            f"expected GipoNext to accept report {delivery.report_id} for"
            f" ProcedureRequest/{order_id}, found status {delivery.status}: it"
            f" breaks {', '.join(broken)}",
        )
    named = ", ".join(delivery.order_ids) or "no order"
    return RuleCheck(
        "FLOW-02",
        False,
        f"expected the report to name ProcedureRequest/{order_id} in basedOn,"
        f" found {named}",
    )


def _order_id_check(delivery: Delivery, order_id: str) -> RuleCheck:
    references = referenced_order_ids(delivery.resource)
    if references and order_id not in references:
        return RuleCheck(
            "PR-02",
            False,
            f"expected basedOn to reference GipoNext's id ProcedureRequest/{order_id},"
            f" found {', '.join('ProcedureRequest/' + ref for ref in references)}:"
            " the RIS-PACS must keep or map GipoNext's order id",
        )
    return RuleCheck(
        "PR-02", True, f"the report refers to the order by GipoNext's id {order_id}"
    )


def _base_rule_issues(delivery: Delivery, grouped: dict) -> dict:
    """Add a TRN-09 failure when a 400 names only profile rules.

    The engine files a base-layer error (an `issued` without a time zone,
    say) under the profile rule it concerns, and returns 400 because the
    resource is not valid STU3. That also breaks TRN-09, so it is reported
    there too, unless the 400 came from malformed JSON or a wrong type.
    """
    base_rules = {"TRN-06", "TRN-07", "TRN-09"}
    if delivery.status != 400 or base_rules & grouped.keys():
        return grouped
    named = ", ".join(sorted(grouped)) or "no rule"
    issue = {
        "severity": "error",
        "diagnostics": f"GipoNext answered 400: the report is not valid FHIR STU3"
        f" (see {named})",
    }
    return {**grouped, "TRN-09": [issue]}


def _finding_checks(delivery: Delivery) -> list[RuleCheck]:
    grouped = _base_rule_issues(delivery, _issues_by_rule(delivery))
    checks = []
    for rule in sorted(set(REPORT_RULES[1:]) | grouped.keys()):
        issues = grouped.get(rule, [])
        errors = [
            issue for issue in issues if issue.get("severity") in ("error", "fatal")
        ]
        warnings = [issue for issue in issues if issue.get("severity") == "warning"]
        if errors:
            message = (
                f"report {delivery.report_id} got {delivery.status}:"
                f" {_describe(errors)}"
            )
            checks.append(RuleCheck(rule, False, message))
        elif warnings:
            checks.append(RuleCheck(rule, False, _describe(warnings), warning=True))
        else:
            checks.append(
                RuleCheck(rule, True, f"report {delivery.report_id}: no issue")
            )
    return checks


def judge_retries(behaviour: RetryBehaviour, report_id: str | None) -> RuleCheck:
    """Return the GAUTH-06 check for a report that met a configured fault."""
    if behaviour.faults == 0:
        return RuleCheck(
            "GAUTH-06",
            True,
            f"report {report_id} met no 429 or 503, so no retry was needed",
        )
    problems = []
    if behaviour.early_retries:
        problems.append(
            f"{behaviour.early_retries} retry(ies) before Retry-After elapsed"
            f" (shortest wait {behaviour.shortest_wait:.2f} s)"
        )
    if behaviour.duplicate_deliveries:
        problems.append(
            f"the report was sent {behaviour.duplicate_deliveries} more time(s)"
            " after GipoNext had accepted it"
        )
    if problems:
        return RuleCheck(
            "GAUTH-06",
            False,
            f"expected retries no sooner than Retry-After and one delivery of report"
            f" {report_id}, found " + " and ".join(problems),
            warning=True,
        )
    return RuleCheck(
        "GAUTH-06",
        True,
        f"report {report_id}: {behaviour.faults} fault(s), every retry waited for"
        f" Retry-After, delivered once",
    )


def failing_rules(checks) -> set[str]:
    """Return the rules with a failed or warned check."""
    return {check.rule for check in checks if not check.ok}


def _error_rules(delivery: Delivery):
    """Yield the rule id of each error finding GipoNext stored for a delivery."""
    for issue in delivery.findings:
        if issue.get("severity") not in ("error", "fatal"):
            continue
        for coding in (issue.get("details") or {}).get("coding", []):
            yield coding.get("code")
