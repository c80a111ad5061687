"""TRN-01 transport findings against servers with deliberately bad certificates."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

import pytest
import trustme

from giponext_conformance.serving import start_server
from giponext_conformance.tlscheck import check_tls, matches_host, redirect_finding


def plain_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


def _write_leaf(directory, leaf, name, *, whole_chain=True):
    cert_path = directory / f"{name}.pem"
    key_path = directory / f"{name}-key.pem"
    blobs = leaf.cert_chain_pems if whole_chain else leaf.cert_chain_pems[:1]
    cert_path.write_bytes(b"".join(blob.bytes() for blob in blobs))
    leaf.private_key_pem.write_to_path(str(key_path))
    return cert_path, key_path


def _write_bundle(directory, name, *authorities):
    path = directory / f"{name}.pem"
    path.write_bytes(b"".join(ca.cert_pem.bytes() for ca in authorities))
    return path


@pytest.fixture
def authority(tmp_path):
    ca = trustme.CA()
    return ca, _write_bundle(tmp_path, "root", ca)


def _serve(tmp_path, leaf, **options):
    cert_path, key_path = _write_leaf(tmp_path, leaf, "server", **options)
    return start_server(plain_app, cert_path=cert_path, key_path=key_path)


def _messages(findings):
    return [finding.diagnostics for finding in findings]


def test_sound_server_has_no_findings(tmp_path, authority):
    ca, bundle = authority

    with _serve(tmp_path, ca.issue_cert("127.0.0.1", "localhost")) as server:
        findings = check_tls(server.url, bundle)

    assert findings == []


def test_full_chain_with_intermediate_passes(tmp_path, authority):
    ca, bundle = authority
    intermediate = ca.create_child_ca()

    with _serve(tmp_path, intermediate.issue_cert("127.0.0.1")) as server:
        findings = check_tls(server.url, bundle)

    assert findings == []


def test_missing_intermediate_is_incomplete_chain(tmp_path, authority):
    ca, _ = authority
    intermediate = ca.create_child_ca()
    bundle = _write_bundle(tmp_path, "with-intermediate", ca, intermediate)

    with _serve(
        tmp_path, intermediate.issue_cert("127.0.0.1"), whole_chain=False
    ) as server:
        findings = check_tls(server.url, bundle)

    assert len(findings) == 1
    assert findings[0].rule == "TRN-01"
    assert findings[0].severity == "error"
    assert findings[0].diagnostics.startswith("incomplete certificate chain:")
    assert "sends 1 certificate(s)" in findings[0].diagnostics


def test_missing_intermediate_unknown_to_bundle(tmp_path, authority):
    ca, bundle = authority
    intermediate = ca.create_child_ca()

    with _serve(
        tmp_path, intermediate.issue_cert("127.0.0.1"), whole_chain=False
    ) as server:
        findings = check_tls(server.url, bundle)

    assert len(findings) == 1
    assert findings[0].diagnostics.startswith("untrusted certificate authority:")
    assert "the server must send it" in findings[0].diagnostics


def test_name_mismatch(tmp_path, authority):
    ca, bundle = authority

    with _serve(tmp_path, ca.issue_cert("ris.example.invalid")) as server:
        findings = check_tls(server.url, bundle)

    assert _messages(findings) == [
        "certificate name mismatch: expected a certificate for 127.0.0.1, found one"
        " for ris.example.invalid (subjectAltName)"
    ]


def test_untrusted_ca(tmp_path, authority):
    _, bundle = authority
    stranger = trustme.CA()

    with _serve(tmp_path, stranger.issue_cert("127.0.0.1")) as server:
        findings = check_tls(server.url, bundle)

    assert len(findings) == 1
    assert findings[0].diagnostics.startswith("untrusted certificate authority:")


def test_expired_certificate(tmp_path, authority):
    ca, bundle = authority
    now = datetime.now(UTC)
    leaf = ca.issue_cert(
        "127.0.0.1",
        not_before=now - timedelta(days=30),
        not_after=now - timedelta(days=1),
    )

    with _serve(tmp_path, leaf) as server:
        findings = check_tls(server.url, bundle)

    # Reported once, as expired: the chain itself is trusted.
    assert len(findings) == 1
    assert findings[0].diagnostics.startswith(
        "expired certificate: the server certificate"
    )


def test_each_problem_is_its_own_finding(tmp_path, authority):
    ca, bundle = authority
    now = datetime.now(UTC)
    leaf = ca.issue_cert(
        "ris.example.invalid",
        not_before=now - timedelta(days=30),
        not_after=now - timedelta(days=1),
    )

    with _serve(tmp_path, leaf) as server:
        findings = check_tls(server.url, bundle)

    starts = sorted(message.split(":")[0] for message in _messages(findings))
    assert starts == ["certificate name mismatch", "expired certificate"]


def test_plain_http_is_an_error():
    findings = check_tls("http://127.0.0.1:8080/fhir")

    assert len(findings) == 1
    assert findings[0].severity == "error"
    assert findings[0].diagnostics.startswith("plain HTTP:")


def test_allowed_plain_http_is_a_warning():
    findings = check_tls("http://127.0.0.1:8080/fhir", allow_http=True)

    assert findings[0].severity == "warning"
    assert "allowed for this local run" in findings[0].diagnostics


def test_closed_port_is_one_finding(authority):
    _, bundle = authority
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    findings = check_tls(f"https://127.0.0.1:{port}/", bundle, timeout=2)

    assert len(findings) == 1
    assert findings[0].diagnostics.startswith(f"no TLS connection to 127.0.0.1:{port}")


def test_wildcard_covers_one_label(authority):
    from cryptography import x509

    ca, _ = authority
    leaf = ca.issue_cert("*.giponext.invalid")
    certificate = x509.load_pem_x509_certificate(leaf.cert_chain_pems[0].bytes())

    assert matches_host(certificate, "api.giponext.invalid")
    assert not matches_host(certificate, "giponext.invalid")
    assert not matches_host(certificate, "a.b.giponext.invalid")


def test_redirect_to_http_is_error():
    finding = redirect_finding(
        "POST", "https://ris/fhir/Patient/1", 301, "http://ris/fhir"
    )

    assert finding.severity == "error"
    assert "leaves HTTPS" in finding.diagnostics
    assert "no credential was sent there" in finding.diagnostics


def test_redirect_to_https_is_warning():
    finding = redirect_finding("GET", "https://ris/a", 307, "https://other/a")

    assert finding.severity == "warning"
    assert redirect_finding("GET", "https://ris/a", 200, None) is None
