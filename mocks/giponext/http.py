"""HTTP helpers of the GipoNext mock: FHIR responses, bounded bodies, ETags."""

from __future__ import annotations

import re
from datetime import datetime
from email.utils import format_datetime

from flask import Response, request

from giponext_conformance.findings import simple_outcome
from giponext_conformance.validation import dumps

FHIR_JSON = "application/fhir+json"
FHIR_CONTENT_TYPE = f"{FHIR_JSON}; charset=utf-8"

# Media types GipoNext takes for a request body. STU3 also names the older
# application/json+fhir, which some STU3 clients still send.
ACCEPTED_MEDIA_TYPES = frozenset({FHIR_JSON, "application/json+fhir"})

# Bytes read from the request stream at a time while bounding a body.
READ_CHUNK = 64 * 1024

# An entity tag as FHIR uses it: W/"3" (weak) or "3" (strong).
ETAG_PATTERN = re.compile(r'^\s*(?:W/)?"([^"]+)"\s*$')


class HttpProblem(Exception):
    """A request the mock rejects before validation, with its response."""

    def __init__(self, status, code, diagnostics, rule=None, headers=None):
        super().__init__(diagnostics)
        self.status = status
        self.code = code
        self.diagnostics = diagnostics
        self.rule = rule
        self.headers = headers or {}

    def outcome(self) -> dict:
        return simple_outcome("error", self.code, self.diagnostics, self.rule)


def fhir_response(body, status=200, headers=None) -> Response:
    """Build a response with a FHIR JSON body, or an empty one for None."""
    text = "" if body is None else dumps(body, indent=2)
    response = Response(text, status=status)
    if body is not None:
        response.headers["Content-Type"] = FHIR_CONTENT_TYPE
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def check_content_type() -> None:
    """Reject a body whose Content-Type is not FHIR JSON with 415 (TRN-02)."""
    media_type = (request.mimetype or "").lower()
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    # FHIR JSON is UTF-8 (RFC 8259), so another declared charset is refused.
    if media_type in ACCEPTED_MEDIA_TYPES and charset in ("utf-8", "utf8"):
        return
    found = request.content_type or "none"
    raise HttpProblem(
        415,
        "not-supported",
        f"Content-Type {found!r} is not accepted: send the body as"
        f" '{FHIR_CONTENT_TYPE}'",
        "TRN-02",
    )


def read_body(max_bytes: int) -> bytes:
    """Read the whole request body, rejecting more than `max_bytes` with 413.

    A declared Content-Length over the limit is rejected before reading. A
    chunked body has no length, so it is read in pieces and rejected as soon
    as it passes the limit (TRN-08).
    """
    declared = request.content_length
    if declared is not None and declared > max_bytes:
        raise _too_large(declared, max_bytes)

    stream = request.stream
    pieces = []
    total = 0
    while True:
        piece = stream.read(READ_CHUNK)
        if not piece:
            break
        total += len(piece)
        if total > max_bytes:
            raise _too_large(None, max_bytes)
        pieces.append(piece)
    return b"".join(pieces)


def _too_large(declared, max_bytes) -> HttpProblem:
    size = f"{declared} bytes" if declared is not None else "more bytes"
    return HttpProblem(
        413,
        "too-long",
        f"the body has {size} than the limit of {max_bytes} bytes: send the PDF"
        " by url instead of data, or a smaller PDF",
        "TRN-08",
    )


def parse_if_match(value: str | None) -> str | None:
    """Return the version named by If-Match, None when absent or `*`.

    Both the weak form W/"3" that FHIR servers send in ETag and the strong
    form "3" are accepted. A bare 3 is accepted too, because some clients
    drop the quotes.
    """
    if value is None or value.strip() in ("", "*"):
        return None
    match = ETAG_PATTERN.match(value)
    if match:
        return match.group(1)
    bare = value.strip()
    if bare.isdigit():
        return bare
    raise HttpProblem(
        400,
        "invalid",
        f'If-Match {value!r} is not an entity tag: send W/"<versionId>" as'
        " returned in ETag",
        "DR-01",
    )


def etag(version_id) -> str:
    return f'W/"{version_id}"'


def http_date(instant: str) -> str:
    """Convert a FHIR instant to the HTTP-date form Last-Modified takes (RFC 9110)."""
    moment = datetime.fromisoformat(instant.replace("Z", "+00:00"))
    return format_datetime(moment, usegmt=True)
