"""Checks of a DiagnosticReport against what GipoNext sent (DR-02, DR-03, DR-04, DR-08).

The validation engine judges a payload on its own. These checks also need the
orders stored for the tenant, which the caller passes in, so they run
without I/O and are tested without a server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from giponext_conformance.findings import Finding

from .state import CODICE_FISCALE_SYSTEM, PROCEDURE_REQUEST_PREFIX, Order


def _error(rule, code, expression, diagnostics) -> Finding:
    return Finding(rule, "error", code, expression, diagnostics, "profile")


def check_id(report: dict, existing: list[Finding]) -> list[Finding]:
    """Require the sender's report id, unless the engine already flagged it."""
    if report.get("id") or any(f.rule == "DR-02" and f.is_error for f in existing):
        return []
    return [
        _error(
            "DR-02",
            "required",
            "DiagnosticReport.id",
            "id is missing: set it to the report's unique id in your system",
        )
    ]


def check_orders(
    report: dict, find_order: Callable[[str], Order | None], existing: list[Finding]
) -> tuple[list[Finding], list[Order]]:
    """Check basedOn against the tenant's orders; return findings and orders found."""
    findings = []
    orders = []
    based_on = report.get("basedOn") if isinstance(report.get("basedOn"), list) else []
    for index, entry in enumerate(based_on):
        reference = entry.get("reference") if isinstance(entry, dict) else None
        if not isinstance(reference, str) or not reference.startswith(
            PROCEDURE_REQUEST_PREFIX
        ):
            continue
        order_id = reference[len(PROCEDURE_REQUEST_PREFIX) :]
        order = find_order(order_id)
        if order is None:
            findings.append(
                _error(
                    "DR-03",
                    "business-rule",
                    f"DiagnosticReport.basedOn[{index}].reference",
                    f"expected a ProcedureRequest that GipoNext sent to this tenant,"
                    f" found {reference!r}, which GipoNext never sent: reference the"
                    " order by the id GipoNext gave it",
                )
            )
        else:
            orders.append(order)

    engine_flagged = any(f.rule == "DR-03" and f.is_error for f in existing)
    if not orders and not findings and not engine_flagged:
        findings.append(
            _error(
                "DR-03",
                "required",
                "DiagnosticReport.basedOn",
                "expected at least one reference 'ProcedureRequest/{id}' in basedOn,"
                " found none",
            )
        )
    return findings, orders


def check_subject(report: dict, orders: Iterable[Order], existing) -> list[Finding]:
    """Require the report's subject to be the patient of its orders."""
    subject = report.get("subject")
    reference = subject.get("reference") if isinstance(subject, dict) else None
    if not isinstance(reference, str) or not reference.startswith("Patient/"):
        if any(f.rule == "DR-04" and f.is_error for f in existing):
            return []
        return [
            _error(
                "DR-04",
                "required",
                "DiagnosticReport.subject.reference",
                f"expected subject 'Patient/{{id}}', found {reference!r}",
            )
        ]

    findings = []
    for order in orders:
        expected = f"Patient/{order.patient_id}"
        if order.patient_id and reference != expected:
            findings.append(
                _error(
                    "DR-04",
                    "business-rule",
                    "DiagnosticReport.subject.reference",
                    f"expected {expected!r}, the patient of ProcedureRequest/"
                    f"{order.id}, found {reference!r}",
                )
            )
    return findings


def check_performers(report: dict, doctors: set[str]) -> list[Finding]:
    """Warn about performers whose codice fiscale matches no known doctor."""
    findings = []
    performers = report.get("performer")
    if not isinstance(performers, list):
        return findings
    for index, performer in enumerate(performers):
        actor = performer.get("actor") if isinstance(performer, dict) else None
        identifier = actor.get("identifier") if isinstance(actor, dict) else None
        if not isinstance(identifier, dict):
            continue
        if identifier.get("system") != CODICE_FISCALE_SYSTEM:
            continue
        value = identifier.get("value")
        if isinstance(value, str) and value.upper() not in doctors:
            findings.append(
                Finding(
                    "DR-08",
                    "warning",
                    "business-rule",
                    f"DiagnosticReport.performer[{index}].actor.identifier.value",
                    f"codice fiscale {value!r} matches no doctor known to this"
                    " tenant: GipoNext cannot link the report to a doctor",
                    "profile",
                )
            )
    return findings


def cross_check(
    report: dict,
    find_order: Callable[[str], Order | None],
    doctors: set[str],
    existing: list[Finding],
) -> list[Finding]:
    """Run every check against stored state; return the new findings.

    `doctors` are the codici fiscali known for the tenant (see
    GipoNextState.registered_doctors)
    and `existing` the engine's findings, so that a problem it already
    reported is not reported twice.
    """
    findings = check_id(report, existing)
    order_findings, orders = check_orders(report, find_order, existing)
    findings += order_findings
    findings += check_subject(report, orders, existing)
    findings += check_performers(report, doctors)
    return findings
