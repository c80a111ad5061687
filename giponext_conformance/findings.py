"""Findings and the OperationOutcome that carries them.

A finding is one problem (or remark) about a payload or an exchange, tied to a
rule id of the catalogue and to a FHIRPath location, so that a vendor can fix
the payload from the message alone.
"""

from __future__ import annotations

from dataclasses import dataclass

# FHIR STU3 code system behind OperationOutcome.issue.details.coding: the
# harness's own rule catalogue.
RULE_SYSTEM = "https://giponext-conformance.invalid/rules"

SEVERITIES = ("fatal", "error", "warning", "information")


@dataclass(frozen=True)
class Finding:
    """One issue found in a payload or an HTTP exchange.

    `code` is from FHIR's issue-type value set (invalid, structure, required,
    value, invariant, code-invalid, business-rule, not-supported, security,
    login, unknown, not-found, conflict, duplicate, too-long, ...).
    `layer` names the engine layer that produced it: json, base, profile,
    italian, or http for findings about an exchange.
    """

    rule: str
    severity: str
    code: str
    expression: str
    diagnostics: str
    layer: str = "profile"

    def __post_init__(self):
        if self.severity not in SEVERITIES:
            raise ValueError(
                f"unknown severity {self.severity!r}; use one of {SEVERITIES}"
            )

    @property
    def is_error(self) -> bool:
        return self.severity in ("fatal", "error")

    def to_issue(self) -> dict:
        issue = {
            "severity": self.severity,
            "code": self.code,
            "details": {
                "coding": [{"system": RULE_SYSTEM, "code": self.rule}],
                "text": self.rule,
            },
            "diagnostics": self.diagnostics,
        }
        if self.expression:
            issue["expression"] = [self.expression]
        return issue


def operation_outcome(findings, *, outcome_id: str | None = None) -> dict:
    """Build an STU3 OperationOutcome from findings, errors first."""
    ordered = sorted(findings, key=lambda f: SEVERITIES.index(f.severity))
    issues = [finding.to_issue() for finding in ordered]
    if not issues:
        issues = [
            {
                "severity": "information",
                "code": "informational",
                "diagnostics": "No issues were found.",
            }
        ]
    outcome = {"resourceType": "OperationOutcome", "issue": issues}
    if outcome_id:
        outcome["id"] = outcome_id
    return outcome


def simple_outcome(
    severity: str, code: str, diagnostics: str, rule: str | None = None
) -> dict:
    """Build an OperationOutcome with one issue, for HTTP-level errors."""
    issue = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if rule:
        issue["details"] = {
            "coding": [{"system": RULE_SYSTEM, "code": rule}],
            "text": rule,
        }
    return {"resourceType": "OperationOutcome", "issue": [issue]}
