"""GET /metadata: the CapabilityStatement of the mock RIS-PACS (FHIR STU3).

It is served without credentials, as FHIR servers commonly do, so that a
client can discover the server before it has a token.
"""

from __future__ import annotations

from flask import Blueprint

from giponext_conformance import __version__

from .errors import fhir_response
from .exchange import state

blueprint = Blueprint("metadata", __name__)

# Published when the mock's interface last changed; a CapabilityStatement
# needs a date.
PUBLISHED = "2026-01-01"


def _interactions(*codes: str) -> list[dict]:
    return [{"code": code} for code in codes]


def capability_statement() -> dict:
    """Build the CapabilityStatement for the running app's quirks."""
    config = state().config
    order_interactions = ["read", "vread", "create"]
    if "mutable-orders" in config.quirks:
        order_interactions += ["update", "patch", "delete"]

    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": PUBLISHED,
        "publisher": "giponext-conformance",
        "kind": "instance",
        "software": {
            "name": "giponext-conformance mock RIS-PACS",
            "version": __version__,
        },
        "fhirVersion": "3.0.1",
        "acceptUnknown": "no",
        "format": ["application/fhir+json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "description": "Authorization: Bearer <token>"
                    + (", or Basic (deprecated)" if config.basic_enabled else "")
                },
                "resource": [
                    {
                        "type": "Patient",
                        "interaction": _interactions("read", "vread", "update"),
                        "updateCreate": True,
                        "versioning": "versioned",
                    },
                    {
                        "type": "ProcedureRequest",
                        "interaction": _interactions(*order_interactions),
                        "versioning": "versioned",
                    },
                ],
            }
        ],
    }


@blueprint.get("/metadata")
def read_metadata():
    return fhir_response(capability_statement())
