"""Responses of the mock RIS-PACS: resources, and errors as OperationOutcome.

Every error the mock sends is an OperationOutcome with severity, an issue
type code and a diagnostic, unless the `bare-errors` quirk is on. Routing,
method and size errors from Werkzeug are rendered here too. No client input
gets a 5xx, except malformed JSON under the `500-on-malformed-json` quirk, so
a 500 otherwise means a bug in the mock.
"""

from __future__ import annotations

import logging

from flask import Response, request
from werkzeug.exceptions import HTTPException

from giponext_conformance.findings import operation_outcome, simple_outcome
from giponext_conformance.validation import dumps

from .quirks import has_quirk

logger = logging.getLogger(__name__)

FHIR_JSON = "application/fhir+json; charset=utf-8"
PLAIN_JSON = "application/json; charset=utf-8"

# FHIR STU3 issue-type code for each HTTP status the mock sends.
ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    410: "deleted",
    411: "invalid",
    412: "conflict",
    413: "too-long",
    414: "too-long",
    415: "not-supported",
    416: "invalid",
    417: "invalid",
    422: "processing",
    428: "invalid",
    429: "throttled",
    431: "too-long",
}


class FhirError(Exception):
    """An error to send as an OperationOutcome with the given status."""

    def __init__(self, status: int, outcome: dict, headers=None):
        super().__init__(outcome["issue"][0].get("diagnostics", ""))
        self.status = status
        self.outcome = outcome
        self.headers = dict(headers or {})

    @classmethod
    def simple(cls, status, diagnostics, *, code=None, rule=None, headers=None):
        """Build an error with one issue whose code follows from the status."""
        code = code or ISSUE_CODES.get(status, "processing")
        outcome = simple_outcome("error", code, diagnostics, rule)
        return cls(status, outcome, headers)

    @classmethod
    def from_findings(cls, status, findings):
        """Build an error that lists validation findings, errors first."""
        return cls(status, operation_outcome(findings))


def _apply_headers(response: Response, headers) -> None:
    # A list value becomes repeated headers, as WWW-Authenticate needs for
    # several challenges.
    for name, value in (headers or {}).items():
        if isinstance(value, list | tuple):
            for item in value:
                response.headers.add(name, item)
        else:
            response.headers[name] = value


def resource_content_type() -> str:
    return PLAIN_JSON if has_quirk("plain-json-responses") else FHIR_JSON


def fhir_response(resource: dict, status: int = 200, headers=None) -> Response:
    """Serialise a resource (or an OperationOutcome) as FHIR JSON."""
    body = dumps(resource)
    response = Response(body, status=status, content_type=resource_content_type())
    _apply_headers(response, headers)
    return response


def error_response(status: int, outcome: dict, headers=None) -> Response:
    """Send an error, as an OperationOutcome unless `bare-errors` is on."""
    if has_quirk("bare-errors"):
        issue = outcome["issue"][0]
        response = Response(
            issue.get("diagnostics", ""), status=status, content_type="text/plain"
        )
        _apply_headers(response, headers)
        return response
    return fhir_response(outcome, status, headers)


def _render_fhir_error(error: FhirError) -> Response:
    return error_response(error.status, error.outcome, error.headers)


def _render_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    diagnostics = f"{status} {error.name}: {error.description}"
    if status == 404:
        diagnostics = (
            f"no endpoint at {request.path}; this server offers Patient and "
            "ProcedureRequest at its base URL"
        )
    elif status == 405:
        diagnostics = f"method {request.method} is not allowed on {request.path}"
    elif status == 413:
        diagnostics = "the request body is larger than the limit of this server"

    outcome = simple_outcome(
        "error", ISSUE_CODES.get(status, "processing"), diagnostics
    )
    if status == 413:
        outcome = simple_outcome("error", "too-long", diagnostics, "TRN-08")

    # Keep headers Werkzeug computed, such as Allow on 405.
    headers = {
        name: value
        for name, value in error.get_response().headers.items()
        if name.lower() not in ("content-type", "content-length")
    }
    return error_response(status, outcome, headers)


def _render_unexpected(error: Exception) -> Response:
    # Reaching this handler means a bug in the mock, never a client mistake:
    # every client input is rejected earlier with a 4xx.
    logger.exception("unexpected error on %s %s", request.method, request.path)
    outcome = simple_outcome(
        "fatal",
        "exception",
        f"internal error in the mock RIS-PACS: {type(error).__name__}",
    )
    return error_response(500, outcome)


def register_error_handlers(app) -> None:
    """Render every error raised while handling a request as an OperationOutcome."""
    app.register_error_handler(FhirError, _render_fhir_error)
    app.register_error_handler(HTTPException, _render_http_exception)
    app.register_error_handler(Exception, _render_unexpected)
