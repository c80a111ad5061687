"""DiagnosticReport endpoint of the GipoNext mock (DR-01).

    POST   /fhir/r3/{userId}/DiagnosticReport        create (201)
    GET    /fhir/r3/{userId}/DiagnosticReport/{id}   read (200, 410 withdrawn)
    PUT    /fhir/r3/{userId}/DiagnosticReport/{id}   correct (200, If-Match)
    DELETE /fhir/r3/{userId}/DiagnosticReport/{id}   withdraw (200)

Every request is authenticated first (auth.py), then its body is bounded,
typed, validated by the engine and checked against the tenant's orders. A
rejected request changes nothing stored.
"""

from __future__ import annotations

import json
import logging
import math
import time
from email.utils import formatdate

from flask import Blueprint, current_app, g, request

from giponext_conformance.findings import Finding, operation_outcome, simple_outcome
from giponext_conformance.validation import validate_bytes

from .auth import AuthError, authorize_tenant, resolve_credential
from .crosscheck import cross_check
from .http import (
    HttpProblem,
    check_content_type,
    etag,
    fhir_response,
    http_date,
    parse_if_match,
    read_body,
)
from .state import (
    ReportExistsError,
    ReportGoneError,
    ReportNotFoundError,
    VersionConflictError,
    codici_fiscali_in,
)

logger = logging.getLogger(__name__)

blueprint = Blueprint("giponext_reports", __name__)

BASE = "/fhir/r3/<user_id>/DiagnosticReport"


def _mock():
    return current_app.extensions["giponext"]


def _authenticate(user_id: str) -> str:
    mock = _mock()
    credential = resolve_credential(mock.config, request.headers.get("Authorization"))
    g.credential = credential
    authorize_tenant(mock.config, credential, user_id)
    g.tenant = user_id
    return user_id


def _location(user_id: str, report_id: str, version_id) -> str:
    base = (_mock().config.public_url or request.host_url).rstrip("/")
    return (
        f"{base}/fhir/r3/{user_id}/DiagnosticReport/{report_id}/_history/{version_id}"
    )


def _version_headers(user_id: str, stored: dict) -> dict:
    version_id = stored["meta"]["versionId"]
    return {
        "ETag": etag(version_id),
        "Last-Modified": http_date(stored["meta"]["lastUpdated"]),
        "Content-Location": _location(user_id, stored["id"], version_id),
    }


def _findings_response(status: int, findings: list[Finding], headers=None):
    g.findings = [finding.to_issue() for finding in findings]
    return fhir_response(operation_outcome(findings), status, headers)


def _problem_response(status, code, diagnostics, rule=None, headers=None):
    g.findings = simple_outcome("error", code, diagnostics, rule)["issue"]
    return fhir_response(
        simple_outcome("error", code, diagnostics, rule), status, headers
    )


def _success_body(stored: dict, findings: list[Finding]):
    """Choose the body of a success from the Prefer header (RFC 7240, FHIR STU3).

    Without a preference, a report with warnings gets the OperationOutcome
    listing them and a clean one gets the stored report.
    """
    prefer = request.headers.get("Prefer", "").replace(" ", "").lower()
    if "return=minimal" in prefer:
        return None
    if "return=operationoutcome" in prefer:
        return operation_outcome(findings)
    if "return=representation" in prefer or not findings:
        return stored
    return operation_outcome(findings)


# -- reading and judging a body ----------------------------------------------


def _read_report_body() -> bytes:
    check_content_type()
    body = read_body(_mock().config.max_body_bytes)
    g.request_body = body
    return body


def _peek_id(body: bytes) -> str | None:
    # The fault check runs before validation, so it reads the id leniently.
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        # Validation reports what is wrong with the body afterwards.
        return None
    report_id = parsed.get("id") if isinstance(parsed, dict) else None
    return report_id if isinstance(report_id, str) and report_id else None


def _judge(tenant: str, body: bytes):
    """Validate a body and cross-check it; return (status or None, report, findings)."""
    result = validate_bytes(body, "DiagnosticReport")
    findings = list(result.findings)
    if result.http_status == 400 or result.resource is None:
        return result.http_status or 400, result.resource, findings

    mock = _mock()
    performer_codes = codici_fiscali_in(result.resource.get("performer"))
    doctors = {code.upper() for code in mock.config.tenants[tenant].doctors}
    doctors |= mock.state.registered_doctors(tenant, performer_codes)
    findings += cross_check(
        result.resource,
        lambda order_id: mock.state.order(tenant, order_id),
        doctors,
        findings,
    )
    if any(finding.is_error for finding in findings):
        return result.http_status or 422, result.resource, findings
    return None, result.resource, findings


def _fault_response(tenant: str, report_id: str | None, received_at: float):
    """Return the configured 429 or 503 response for a report's first deliveries."""
    mock = _mock()
    fault = mock.config.fault_for(tenant)
    if fault is None or report_id is None:
        return None
    if mock.state.count_faults(tenant, report_id) >= fault.times:
        return None

    mock.state.record_delivery(
        tenant,
        "POST",
        fault.status,
        report_id=report_id,
        retry_after=fault.retry_after,
        received_at=received_at,
    )
    logger.info(
        "returned fault %s for report %s of tenant %s", fault.status, report_id, tenant
    )
    reason = "too many requests" if fault.status == 429 else "service unavailable"
    return _problem_response(
        fault.status,
        "transient" if fault.status == 503 else "throttled",
        f"{reason}: retry this report after {fault.retry_after} seconds, once",
        "GAUTH-06",
        {"Retry-After": _retry_after_value(fault, received_at)},
    )


def _retry_after_value(fault, received_at: float) -> str:
    if not fault.http_date:
        return str(fault.retry_after)
    # Rounding up keeps the date at least retry_after seconds away.
    moment = math.ceil(received_at + fault.retry_after)
    return formatdate(moment, usegmt=True)


# -- interactions --------------------------------------------------------------


@blueprint.post(BASE)
def create_report(user_id):
    received_at = time.time()
    tenant = _authenticate(user_id)
    body = _read_report_body()
    mock = _mock()

    fault = _fault_response(tenant, _peek_id(body), received_at)
    if fault is not None:
        return fault

    status, report, findings = _judge(tenant, body)
    report_id = report.get("id") if isinstance(report, dict) else None
    text = body.decode("utf-8", errors="replace")
    issues = [finding.to_issue() for finding in findings]
    if status is not None:
        mock.state.record_delivery(
            tenant,
            "POST",
            status,
            report_id=report_id,
            report=report,
            body=text,
            findings=issues,
            received_at=received_at,
        )
        return _findings_response(status, findings)

    try:
        stored = mock.state.create_report(tenant, report)
    except ReportExistsError:
        mock.state.record_delivery(
            tenant,
            "POST",
            409,
            report_id=report_id,
            report=report,
            body=text,
            findings=issues,
            received_at=received_at,
        )
        return _problem_response(
            409,
            "duplicate",
            f"DiagnosticReport/{report_id} already exists for this tenant: send a"
            " correction with PUT to its URL, or use a new id for a new report",
            "DR-02",
        )

    mock.state.record_delivery(
        tenant,
        "POST",
        201,
        report_id=report_id,
        report=report,
        body=text,
        findings=issues,
        received_at=received_at,
    )
    headers = _version_headers(user_id, stored)
    headers["Location"] = headers.pop("Content-Location")
    g.findings = issues
    return fhir_response(_success_body(stored, findings), 201, headers)


@blueprint.get(f"{BASE}/<report_id>")
def read_report(user_id, report_id):
    tenant = _authenticate(user_id)
    mock = _mock()

    stored = mock.state.report(tenant, report_id)
    if stored is not None:
        return fhir_response(stored, 200, _version_headers(user_id, stored))
    if mock.state.report_status(tenant, report_id) == "withdrawn":
        return _problem_response(
            410, "not-found", f"DiagnosticReport/{report_id} was withdrawn", "DR-01"
        )
    return _problem_response(
        404,
        "not-found",
        f"DiagnosticReport/{report_id} is unknown to this tenant",
        "DR-01",
    )


def _state_problem(error: Exception, report_id: str):
    if isinstance(error, ReportNotFoundError):
        return _problem_response(
            404,
            "not-found",
            f"DiagnosticReport/{report_id} is unknown to this tenant: create it with"
            " POST first",
            "DR-01",
        )
    if isinstance(error, ReportGoneError):
        return _problem_response(
            410,
            "not-found",
            f"DiagnosticReport/{report_id} was withdrawn: send it again with POST",
            "DR-01",
        )
    assert isinstance(error, VersionConflictError)
    return _problem_response(
        409,
        "conflict",
        f"If-Match names version {error.expected} of DiagnosticReport/{report_id}"
        f" but the current version is {error.current}: read it again and retry"
        f' with If-Match: W/"{error.current}"',
        "DR-01",
    )


@blueprint.put(f"{BASE}/<report_id>")
def correct_report(user_id, report_id):
    received_at = time.time()
    tenant = _authenticate(user_id)
    if_match = parse_if_match(request.headers.get("If-Match"))
    body = _read_report_body()
    mock = _mock()

    status, report, findings = _judge(tenant, body)
    if status is None and report.get("id") != report_id:
        status = 400
        findings.append(
            Finding(
                "DR-02",
                "error",
                "invalid",
                "DiagnosticReport.id",
                f"expected id {report_id!r} as in the URL, found {report.get('id')!r}",
                "base",
            )
        )
    text = body.decode("utf-8", errors="replace")
    issues = [finding.to_issue() for finding in findings]
    if status is not None:
        mock.state.record_delivery(
            tenant,
            "PUT",
            status,
            report_id=report_id,
            report=report,
            body=text,
            findings=issues,
            received_at=received_at,
        )
        return _findings_response(status, findings)

    try:
        stored = mock.state.update_report(tenant, report_id, report, if_match)
    except (ReportNotFoundError, ReportGoneError, VersionConflictError) as error:
        response = _state_problem(error, report_id)
        mock.state.record_delivery(
            tenant,
            "PUT",
            response.status_code,
            report_id=report_id,
            report=report,
            body=text,
            findings=issues,
            received_at=received_at,
        )
        return response

    mock.state.record_delivery(
        tenant,
        "PUT",
        200,
        report_id=report_id,
        report=report,
        body=text,
        findings=issues,
        received_at=received_at,
    )
    g.findings = issues
    return fhir_response(
        _success_body(stored, findings), 200, _version_headers(user_id, stored)
    )


@blueprint.delete(f"{BASE}/<report_id>")
def withdraw_report(user_id, report_id):
    received_at = time.time()
    tenant = _authenticate(user_id)
    if_match = parse_if_match(request.headers.get("If-Match"))
    mock = _mock()

    if if_match is None and mock.state.report_status(tenant, report_id) == "withdrawn":
        # FHIR makes a repeated delete harmless: it succeeds and changes nothing.
        return fhir_response(
            simple_outcome(
                "information",
                "informational",
                f"DiagnosticReport/{report_id} was already withdrawn",
            ),
            200,
        )

    try:
        version_id = mock.state.withdraw_report(tenant, report_id, if_match)
    except (ReportNotFoundError, ReportGoneError, VersionConflictError) as error:
        response = _state_problem(error, report_id)
        mock.state.record_delivery(
            tenant,
            "DELETE",
            response.status_code,
            report_id=report_id,
            received_at=received_at,
        )
        return response

    mock.state.record_delivery(
        tenant, "DELETE", 200, report_id=report_id, received_at=received_at
    )
    outcome = simple_outcome(
        "information",
        "informational",
        f"DiagnosticReport/{report_id} withdrawn (version {version_id})",
    )
    return fhir_response(outcome, 200, {"ETag": etag(version_id)})


# -- errors raised by the checks -------------------------------------------------


@blueprint.errorhandler(AuthError)
def answer_auth_error(error: AuthError):
    headers = {}
    if error.www_authenticate:
        headers["WWW-Authenticate"] = error.www_authenticate
    return _problem_response(
        error.status, error.code, error.diagnostics, error.rule, headers
    )


@blueprint.errorhandler(HttpProblem)
def answer_http_problem(error: HttpProblem):
    response = _problem_response(
        error.status, error.code, error.diagnostics, error.rule, error.headers
    )
    tenant = g.get("tenant")
    if tenant is not None and request.method in ("POST", "PUT"):
        # A report refused for its Content-Type or size still counts as a
        # delivery attempt, so the outcome flow can judge it.
        report_id = (request.view_args or {}).get("report_id")
        _mock().state.record_delivery(
            tenant,
            request.method,
            error.status,
            report_id=report_id,
            findings=g.findings,
        )
    return response
