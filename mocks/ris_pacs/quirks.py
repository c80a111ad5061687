"""Quirk modes: deliberate vendor mistakes the mock RIS-PACS can imitate.

Each quirk switches on one mistake seen in RIS-PACS implementations, so that
the suite can prove it detects that mistake: run the suite against the mock
with a quirk on, and exactly the listed rules must stop passing. A quirk that
breaks a SHOULD rule turns it into a warning rather than a failure.
"""

from __future__ import annotations

from flask import current_app

# name -> (what the mock does wrong, ids of the rules that this breaks)
QUIRKS: dict[str, tuple[str, tuple[str, ...]]] = {
    "server-assigned-id": (
        "POST ProcedureRequest stores the order under an id the mock makes up and "
        "returns that id in Location, so later reports cannot reference "
        "GipoNext's id. A retry with the same GipoNext id still finds the order "
        "created first.",
        ("PR-02",),
    ),
    "mutable-orders": (
        "PUT, PATCH and DELETE on an existing ProcedureRequest succeed, although "
        "an order must never change once created.",
        ("PR-03",),
    ),
    "no-auth": (
        "The Authorization header is ignored: requests without credentials, "
        "with a wrong token, or with the token under a scheme other than Bearer "
        "are accepted.",
        ("AUTH-01", "AUTH-02", "AUTH-03"),
    ),
    "any-token": (
        "Any bearer token is accepted, so a wrong or revoked token gets through. "
        "Requests without Authorization are still rejected.",
        ("AUTH-03",),
    ),
    "case-sensitive-bearer": (
        "Only the exact scheme spelling 'Bearer' is accepted, although HTTP "
        "authentication scheme names are case-insensitive (RFC 7235, section "
        "2.1), so 'bearer' gets 401.",
        ("AUTH-02",),
    ),
    "any-content-type": (
        "A body is accepted whatever its Content-Type (application/json, "
        "text/plain), instead of 415 for anything but application/fhir+json.",
        ("TRN-03",),
    ),
    "500-on-malformed-json": (
        "A body that is not valid JSON (a syntax error, comments, a trailing "
        "comma, a top level that is not an object, duplicate keys, invalid "
        "UTF-8) gets 500 instead of 400. A null value still gets 400, and "
        "nothing is stored.",
        ("TRN-06",),
    ),
    "plain-json-responses": (
        "Responses carry Content-Type application/json instead of "
        "application/fhir+json.",
        ("TRN-04",),
    ),
    "bare-errors": (
        "Error responses carry a plain-text reason instead of an OperationOutcome.",
        ("TRN-05",),
    ),
    "ignore-patient-id-mismatch": (
        "PUT Patient accepts a body whose id is missing or differs from the id "
        "in the URL, and stores it under the URL's id.",
        ("PAT-02",),
    ),
}


def check_quirks(names) -> frozenset[str]:
    """Return the quirk names as a frozenset; raise ValueError for unknown ones."""
    quirks = frozenset(names or ())
    unknown = sorted(quirks - QUIRKS.keys())
    if unknown:
        raise ValueError(
            f"unknown quirk {', '.join(unknown)}; "
            f"choose from {', '.join(sorted(QUIRKS))}"
        )
    return quirks


def has_quirk(name: str) -> bool:
    """Return True when the running app imitates the named mistake."""
    if name not in QUIRKS:
        raise KeyError(f"unknown quirk {name!r}")
    return name in current_app.extensions["ris_pacs"].config.quirks
