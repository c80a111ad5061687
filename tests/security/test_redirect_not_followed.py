"""A FHIR endpoint that redirects: the client stops there, credentials stay home."""

from __future__ import annotations

from giponext_conformance.client import BearerToken, FhirClient
from giponext_conformance.serving import start_server
from giponext_conformance.tlscheck import redirect_finding

# The fixtures oauth_giponext, start_oauth_giponext and oauth_ca.
pytest_plugins = ["security_bench"]


def test_redirect_is_reported_not_followed(oauth_ca):
    received = []

    def elsewhere(environ, start_response):
        received.append(environ.get("HTTP_AUTHORIZATION"))
        start_response("200 OK", [("Content-Type", "application/fhir+json")])
        return [b"{}"]

    cert_path, key_path = oauth_ca.issue()
    with start_server(elsewhere, cert_path=cert_path, key_path=key_path) as other:

        def redirecting(environ, start_response):
            start_response(
                "307 Temporary Redirect", [("Location", f"{other.url}/Patient/p1")]
            )
            return [b""]

        with start_server(
            redirecting, cert_path=cert_path, key_path=key_path
        ) as target:
            client = FhirClient(
                target.url,
                BearerToken("ris-token-not-for-others"),
                oauth_ca.ca_cert_path,
                attach=False,
            )
            exchange = client.get("Patient/p1")

    finding = redirect_finding("GET", exchange.url, exchange.status, exchange.location)
    assert exchange.status == 307
    assert received == []
    assert finding.rule == "TRN-01"
    assert f"{other.url}/Patient/p1" in finding.diagnostics
