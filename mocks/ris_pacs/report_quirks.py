"""Report quirks: vendor mistakes the mock RIS-PACS's report sender can imitate.

Each quirk changes the DiagnosticReport the sender builds, or the way it
retries, so that the outcome scenarios can prove they catch that mistake:
with one quirk on, exactly the listed rules stop passing. GAUTH-06 is a
SHOULD rule, so its quirk turns it into a warning rather than a failure.
"""

from __future__ import annotations

import base64
import copy
import uuid
from collections.abc import Callable
from dataclasses import dataclass

GIPONEXT_SYSTEM = "https://www.giponext.it"

# name -> (what the sender does wrong, ids of the rules that this breaks).
# GipoNext rejects every report these mistakes produce, so each one that
# changes the report also fails FLOW-02.
REPORT_QUIRKS: dict[str, tuple[str, tuple[str, ...]]] = {
    "jpeg-content-type": (
        "The attachment declares contentType image/jpeg although it carries a PDF.",
        ("DR-09", "FLOW-02"),
    ),
    "octet-stream-content-type": (
        "The attachment declares contentType application/octet-stream instead of"
        " application/pdf.",
        ("DR-09", "FLOW-02"),
    ),
    "data-and-url": (
        "The attachment carries both data and url, where exactly one is allowed.",
        ("DR-10", "FLOW-02"),
    ),
    "non-pdf-data": (
        "The attachment's data is base64 of plain text, not of a PDF.",
        ("DR-10", "FLOW-02"),
    ),
    "data-url-prefix": (
        "The attachment's data starts with a 'data:application/pdf;base64,' prefix,"
        " so it is not plain base64.",
        ("DR-10", "FLOW-02"),
    ),
    "server-assigned-basedon": (
        "basedOn references the order by an id the RIS-PACS made up instead of"
        " GipoNext's id, so GipoNext cannot find the order.",
        ("DR-03", "PR-02", "FLOW-02"),
    ),
    "identifier-basedon": (
        "basedOn names the order by an identifier only, without a reference"
        " ProcedureRequest/{id}.",
        ("DR-03", "FLOW-02"),
    ),
    "wrong-subject": (
        "subject references another patient than the one of the order.",
        ("DR-04", "FLOW-02"),
    ),
    "preliminary-status": (
        "The report is sent with status preliminary, although GipoNext takes"
        " completed reports only.",
        ("DR-05", "FLOW-02"),
    ),
    "missing-id": (
        "The report is sent without an id.",
        ("DR-02", "FLOW-02"),
    ),
    "issued-without-timezone": (
        "issued is written without a time zone (2025-06-02T10:00:00), which is"
        " not a FHIR instant.",
        ("DR-07", "TRN-09", "FLOW-02"),
    ),
    "r4-performer": (
        "performer is a plain Reference as in FHIR R4, not the STU3 backbone"
        " element with actor and role.",
        ("DR-08", "TRN-09", "FLOW-02"),
    ),
    "ignores-retry-after": (
        "After 429 or 503 the sender retries at once, ignoring Retry-After.",
        ("GAUTH-06",),
    ),
}

# Quirks that change how the sender delivers rather than what it sends.
BEHAVIOUR_QUIRKS = frozenset({"ignores-retry-after"})


@dataclass(frozen=True)
class ReportContext:
    """Order and patient ids that a quirk may need besides the report."""

    giponext_order_id: str
    local_order_id: str
    patient_id: str


def check_report_quirks(names) -> frozenset[str]:
    """Return the quirk names as a frozenset; raise ValueError for unknown ones."""
    quirks = frozenset(names or ())
    unknown = sorted(quirks - REPORT_QUIRKS.keys())
    if unknown:
        raise ValueError(
            f"unknown report quirk {', '.join(unknown)}; choose from"
            f" {', '.join(sorted(REPORT_QUIRKS))}"
        )
    return quirks


def _attachments(report: dict) -> list[dict]:
    return report.setdefault("presentedForm", [])


def _jpeg(report, _context):
    for attachment in _attachments(report):
        attachment["contentType"] = "image/jpeg"


def _octet_stream(report, _context):
    for attachment in _attachments(report):
        attachment["contentType"] = "application/octet-stream"


def _data_and_url(report, context):
    for attachment in _attachments(report):
        attachment["url"] = (
            f"https://ris-pacs.invalid/reports/{context.local_order_id}.pdf"
        )


def _non_pdf(report, _context):
    text = b"Referto disponibile in formato testo.\n"
    for attachment in _attachments(report):
        attachment["data"] = base64.b64encode(text).decode("ascii")


def _data_url_prefix(report, _context):
    for attachment in _attachments(report):
        attachment["data"] = "data:application/pdf;base64," + attachment["data"]


def _server_assigned(report, context):
    local_id = context.local_order_id
    if local_id == context.giponext_order_id:
        # The RIS-PACS kept GipoNext's id, so make up the id it would have used.
        local_id = f"rp-{uuid.uuid5(uuid.NAMESPACE_URL, local_id).hex[:20]}"
    report["basedOn"] = [{"reference": f"ProcedureRequest/{local_id}"}]


def _identifier_only(report, context):
    report["basedOn"] = [
        {"identifier": {"system": GIPONEXT_SYSTEM, "value": context.giponext_order_id}}
    ]


def _wrong_subject(report, context):
    report["subject"] = {"reference": f"Patient/{context.patient_id}9"}


def _preliminary(report, _context):
    report["status"] = "preliminary"


def _missing_id(report, _context):
    report.pop("id", None)


def _issued_without_timezone(report, _context):
    # Keep the local date and time, drop the offset: 2025-06-02T10:00:00.
    report["issued"] = report["issued"][:19]


def _r4_performer(report, _context):
    report["performer"] = [
        {
            "reference": entry["actor"]["reference"],
            "display": entry["actor"].get("display", ""),
        }
        for entry in report.get("performer", [])
    ]


REPORT_CHANGES: dict[str, Callable[[dict, ReportContext], None]] = {
    "jpeg-content-type": _jpeg,
    "octet-stream-content-type": _octet_stream,
    "data-and-url": _data_and_url,
    "non-pdf-data": _non_pdf,
    "data-url-prefix": _data_url_prefix,
    "server-assigned-basedon": _server_assigned,
    "identifier-basedon": _identifier_only,
    "wrong-subject": _wrong_subject,
    "preliminary-status": _preliminary,
    "missing-id": _missing_id,
    "issued-without-timezone": _issued_without_timezone,
    "r4-performer": _r4_performer,
}


def apply_report_quirks(report: dict, quirks, context: ReportContext) -> dict:
    """Return a copy of `report` with every content quirk in `quirks` applied."""
    changed = copy.deepcopy(report)
    for name in sorted(check_report_quirks(quirks) - BEHAVIOUR_QUIRKS):
        REPORT_CHANGES[name](changed, context)
    return changed
