"""Request and response steps that every resource endpoint shares.

A request goes through the checks in a fixed order and stops at the first
failure, so nothing is stored before every check has passed. The order is
credentials (in the app's before_request), Content-Type, body size, JSON and
FHIR base validation, consistency with the URL, then profile and business
rules.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from email.utils import format_datetime

from flask import current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from giponext_conformance.findings import operation_outcome
from giponext_conformance.validation import (
    ValidationResult,
    dumps,
    validate_bytes,
    validate_resource,
)

from .errors import FhirError, fhir_response
from .quirks import has_quirk

logger = logging.getLogger(__name__)

# FHIR STU3 id datatype: 1 to 64 characters from this set.
ID_PATTERN = re.compile(r"[A-Za-z0-9\-.]{1,64}")

FHIR_MEDIA_TYPE = "application/fhir+json"

# Bytes read from the request stream at a time.
READ_CHUNK_BYTES = 64 * 1024


def state():
    """Return the RisPacsState of the running app."""
    return current_app.extensions["ris_pacs"]


def check_id(resource_id: str) -> None:
    """Reject a URL id that is not a valid FHIR id."""
    if not ID_PATTERN.fullmatch(resource_id):
        raise FhirError.simple(
            400,
            f"id {resource_id[:80]!r} in the URL is not a valid FHIR id "
            "(1 to 64 characters from A-Z, a-z, 0-9, '-' and '.')",
            code="value",
            rule="TRN-09",
        )


def check_content_type(expected: str = FHIR_MEDIA_TYPE) -> None:
    """Reject a body whose media type is not `expected` or not in UTF-8."""
    if has_quirk("any-content-type"):
        return

    found = request.headers.get("Content-Type", "")
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if request.mimetype == expected and charset in ("utf-8", "utf8"):
        return
    raise FhirError.simple(
        415,
        f"Content-Type {found[:100]!r} is not supported; send {expected} "
        "(a charset=utf-8 parameter is allowed)",
        rule="TRN-03",
    )


def _too_large() -> FhirError:
    limit = state().config.max_body_bytes
    return FhirError.simple(
        413,
        f"the request body is larger than the limit of {limit} bytes",
        code="too-long",
        rule="TRN-08",
    )


def read_body() -> bytes:
    """Read the request body, rejecting it with 413 as soon as it passes the limit.

    A declared Content-Length over the limit is rejected before reading. A
    chunked body is read until one byte past the limit, so the mock never
    holds more than the limit plus one byte of any body.
    """
    limit = state().config.max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        raise _too_large()

    chunks = []
    received = 0
    try:
        stream = request.stream
        while received <= limit:
            chunk = stream.read(min(READ_CHUNK_BYTES, limit + 1 - received))
            if not chunk:
                break
            chunks.append(chunk)
            received += len(chunk)
    except RequestEntityTooLarge:
        raise _too_large() from None
    except (ValueError, OSError) as error:
        # A broken chunked encoding or a client that stopped sending.
        raise FhirError.simple(
            400, f"the request body could not be read: {error}", code="structure"
        ) from None

    if received > limit:
        raise _too_large()
    return b"".join(chunks)


def _is_malformed_json(result: ValidationResult) -> bool:
    # Syntax-level findings only (code "structure"): a null value parses as
    # JSON, so a lenient parser would not fail on it.
    return any(
        finding.is_error and finding.layer == "json" and finding.code == "structure"
        for finding in result.findings
    )


def _validate(body: bytes, expected_type: str) -> ValidationResult:
    try:
        result = validate_bytes(body, expected_type)
    except RecursionError:
        raise FhirError.simple(
            400,
            "the JSON body is nested too deeply to process",
            code="structure",
            rule="TRN-06",
        ) from None
    except ValueError as error:
        # Python refuses to convert integers of more than 4300 digits
        # (sys.int_info.default_max_str_digits) and raises ValueError.
        logger.info("validation raised on a request body: %s", error)
        raise FhirError.simple(
            400,
            f"the JSON body cannot be read: {str(error)[:120]}",
            code="structure",
            rule="TRN-06",
        ) from None

    if _is_malformed_json(result) and has_quirk("500-on-malformed-json"):
        raise FhirError.simple(
            500, "failed to parse the request body", code="exception"
        )
    if result.http_status == 400:
        raise FhirError.from_findings(400, result.findings)
    return result


def _check_resource_type(resource, expected_type: str) -> None:
    if not isinstance(resource, dict):
        raise FhirError.simple(
            400, "the body is not a JSON object", code="structure", rule="TRN-06"
        )
    if resource.get("resourceType") != expected_type:
        raise FhirError.simple(
            400,
            f"resourceType is {str(resource.get('resourceType'))[:64]!r} but this "
            f"endpoint takes {expected_type}",
            rule="TRN-07",
        )


def validate_body(
    body: bytes, expected_type: str, check_url=None, rewrite=None
) -> dict:
    """Validate a body and return the resource, raising FhirError on any error.

    Base errors (JSON syntax, FHIR structure) get 400 first. Then
    `check_url(resource)` may raise for a resource that contradicts its URL.
    `rewrite(resource)`, used by quirks, may return a changed resource, which
    is validated again. Only then do profile and business findings get 422.
    """
    result = _validate(body, expected_type)
    resource = result.resource
    _check_resource_type(resource, expected_type)

    if check_url is not None:
        check_url(resource)
    if rewrite is not None:
        rewritten = rewrite(resource)
        if rewritten != resource:
            resource = rewritten
            result = validate_resource(resource, expected_type)
            if result.http_status == 400:
                raise FhirError.from_findings(400, result.findings)

    if result.http_status is not None:
        raise FhirError.from_findings(result.http_status, result.findings)
    _check_encodable(resource)
    return resource


def _check_encodable(resource: dict) -> None:
    # JSON's \ud800 escape decodes to a lone surrogate, which no UTF-8 text
    # (and so no response or stored row) can carry.
    try:
        dumps(resource).encode("utf-8")
    except UnicodeEncodeError:
        raise FhirError.simple(
            400,
            "the body contains an unpaired UTF-16 surrogate escape, which is not a "
            "Unicode character",
            code="structure",
            rule="TRN-06",
        ) from None


def base_url() -> str:
    return request.url_root.rstrip("/")


def _http_date(instant: str) -> str:
    moment = datetime.fromisoformat(instant.replace("Z", "+00:00"))
    return format_datetime(moment, usegmt=True)


def resource_response(resource: dict, status: int = 200, *, location: bool = False):
    """Send a stored resource with ETag, Last-Modified and, when asked, Location.

    Honours the Prefer header of FHIR's RESTful API: return=minimal sends no
    body, return=OperationOutcome sends an outcome instead of the resource.
    """
    meta = resource.get("meta", {})
    version_id = meta.get("versionId")
    headers = {}
    if version_id:
        headers["ETag"] = f'W/"{version_id}"'
        path = f"{resource['resourceType']}/{resource['id']}/_history/{version_id}"
        url = f"{base_url()}/{path}"
        headers["Location" if location else "Content-Location"] = url
    if meta.get("lastUpdated"):
        headers["Last-Modified"] = _http_date(meta["lastUpdated"])

    prefer = request.headers.get("Prefer", "").replace(" ", "").lower()
    if "return=minimal" in prefer:
        response = current_app.response_class(status=status, headers=headers)
        return response
    if "return=operationoutcome" in prefer:
        return fhir_response(operation_outcome([]), status, headers)
    return fhir_response(resource, status, headers)


def read_stored(resource_type: str, resource_id: str, version_id=None) -> dict:
    """Return a stored resource, or raise 404 (never existed) or 410 (deleted)."""
    check_id(resource_id)
    store = state().store
    if version_id is not None and not version_id.isdigit():
        raise FhirError.simple(400, f"version {version_id[:20]!r} is not a number")

    resource = store.get(resource_type, resource_id, version_id)
    if resource is not None:
        return resource
    if version_id is None and store.is_deleted(resource_type, resource_id):
        raise FhirError.simple(410, f"{resource_type}/{resource_id} has been deleted")
    description = f"{resource_type}/{resource_id}"
    if version_id is not None:
        description += f" version {version_id}"
    raise FhirError.simple(404, f"{description} is not known to this server")
