"""Transport checks of a target URL (TRN-01): HTTPS and a certificate clients accept.

`check_tls(url, ca_bundle)` opens one TLS connection, reads the certificates
the server sends and judges them offline, so that each problem becomes its
own finding. The findings are plain HTTP, an expired (or not yet valid)
certificate, a certificate for another name, a chain missing its intermediate
certificate, and a certificate from a CA outside the bundle. A server that OpenSSL would
reject for one reason is still checked for the others.

`redirect_finding` reports a 3xx response from a FHIR endpoint; the harness
never follows redirects, so no credential reaches the redirect target.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import ssl
from datetime import UTC, datetime
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)

from giponext_conformance.findings import Finding

logger = logging.getLogger(__name__)

RULE = "TRN-01"

# Seconds to connect and finish the handshake.
DEFAULT_TIMEOUT = 10.0


def _finding(diagnostics: str, severity: str = "error") -> Finding:
    return Finding(RULE, severity, "security", "", diagnostics, layer="http")


# -- reading what the server sends ----------------------------------------------


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def fetch_chain(
    host: str, port: int, timeout: float = DEFAULT_TIMEOUT
) -> list[x509.Certificate]:
    """Return the certificates the server sends, leaf first, without judging them.

    Verification is off for this one handshake only: the certificates are
    judged afterwards, and nothing but the handshake is sent.
    """
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    server_hostname = None if _is_ip(host) else host
    with (
        socket.create_connection((host, port), timeout=timeout) as raw,
        context.wrap_socket(raw, server_hostname=server_hostname) as tls,
    ):
        blobs = _unverified_chain(tls)
    return [x509.load_der_x509_certificate(blob) for blob in blobs]


def _unverified_chain(tls: ssl.SSLSocket) -> list[bytes]:
    # Python 3.13 has SSLSocket.get_unverified_chain(); 3.10 to 3.12 have the
    # same method on the private _sslobj only.
    public = getattr(tls, "get_unverified_chain", None)
    if public is not None:
        return list(public())
    private = getattr(getattr(tls, "_sslobj", None), "get_unverified_chain", None)
    if private is not None:
        return [cert.public_bytes(ssl._ssl.ENCODING_DER) for cert in private()]
    # NOTE: without either method only the leaf is known, so a missing
    # intermediate is reported as an untrusted CA.
    return [tls.getpeercert(binary_form=True)]


def load_bundle(ca_bundle) -> list[x509.Certificate]:
    """Return the certificates of a PEM bundle, or of the system's default one."""
    path = ca_bundle or ssl.get_default_verify_paths().cafile
    if not path:
        return []
    with open(path, "rb") as bundle:
        return x509.load_pem_x509_certificates(bundle.read())


# -- judging the certificates ------------------------------------------------------


def _name(certificate: x509.Certificate) -> str:
    return certificate.subject.rfc4514_string() or "(empty subject)"


def _validity_findings(chain, now: datetime) -> list[Finding]:
    findings = []
    for position, certificate in enumerate(chain):
        role = "server certificate" if position == 0 else "chain certificate"
        not_after = certificate.not_valid_after_utc
        not_before = certificate.not_valid_before_utc
        if not_after < now:
            findings.append(
                _finding(
                    f"expired certificate: the {role} {_name(certificate)} expired on"
                    f" {not_after.isoformat()}; expected a certificate valid now"
                    f" ({now.isoformat(timespec='seconds')})"
                )
            )
        elif not_before > now:
            findings.append(
                _finding(
                    f"certificate not yet valid: the {role} {_name(certificate)} is"
                    f" valid from {not_before.isoformat()}; expected a certificate"
                    " valid now"
                )
            )
    return findings


def _subject_names(certificate: x509.Certificate) -> list:
    try:
        extension = certificate.extensions.get_extension_for_class(
            x509.SubjectAlternativeName
        )
    except x509.ExtensionNotFound:
        return []
    return list(extension.value)


def _dns_matches(pattern: str, host: str) -> bool:
    pattern, host = pattern.lower().rstrip("."), host.lower().rstrip(".")
    if pattern.startswith("*."):
        # A wildcard covers exactly one left-most label (RFC 6125 6.4.3).
        head, _, rest = host.partition(".")
        return bool(head) and rest == pattern[2:]
    return pattern == host


def matches_host(certificate: x509.Certificate, host: str) -> bool:
    """Return True when the certificate's subjectAltName covers `host`."""
    names = _subject_names(certificate)
    if _is_ip(host):
        address = ipaddress.ip_address(host)
        return any(isinstance(n, x509.IPAddress) and n.value == address for n in names)
    return any(
        isinstance(n, x509.DNSName) and _dns_matches(n.value, host) for n in names
    )


def _name_findings(leaf: x509.Certificate, host: str) -> list[Finding]:
    if matches_host(leaf, host):
        return []
    names = (
        ", ".join(str(getattr(n, "value", n)) for n in _subject_names(leaf)) or "none"
    )
    return [
        _finding(
            f"certificate name mismatch: expected a certificate for {host},"
            f" found one for {names} (subjectAltName)"
        )
    ]


def _own_subject(leaf: x509.Certificate):
    """Return a name the leaf itself carries, so the chain check ignores the host."""
    for name in _subject_names(leaf):
        if isinstance(name, x509.DNSName) and not name.value.startswith("*."):
            return name
        if isinstance(name, x509.IPAddress):
            return name
    return None


def _server_policy() -> ExtensionPolicy:
    # The chain check judges signatures, validity and CA constraints only. The
    # Web PKI rules for server certificates (a non-critical subjectAltName,
    # for one) would reject certificates that TLS clients accept, and the
    # name is judged on its own.
    return ExtensionPolicy.permit_all().require_present(
        x509.SubjectAlternativeName, Criticality.AGNOSTIC, None
    )


def _builds_path(leaf, intermediates, anchors, subject, when) -> bool:
    if not anchors:
        return False
    verifier = (
        PolicyBuilder()
        .store(Store(anchors))
        .time(when)
        .extension_policies(
            ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=_server_policy()
        )
        .build_server_verifier(subject)
    )
    try:
        verifier.verify(leaf, intermediates)
    except VerificationError:
        return False
    return True


def _check_time(leaf: x509.Certificate, now: datetime) -> datetime:
    # Judge the chain at a moment when the leaf is valid, so that an expired
    # certificate is reported once, as expired, and not also as untrusted.
    start, end = leaf.not_valid_before_utc, leaf.not_valid_after_utc
    if start <= now <= end:
        return now
    return start + (end - start) / 2


def _is_self_issued(certificate: x509.Certificate) -> bool:
    return certificate.issuer == certificate.subject


def _chain_findings(chain, bundle, now: datetime) -> list[Finding]:
    leaf, presented = chain[0], chain[1:]
    subject = _own_subject(leaf)
    if subject is None:
        # Already reported as a name mismatch; no path can be checked by name.
        return []

    when = _check_time(leaf, now)
    roots = [cert for cert in bundle if _is_self_issued(cert)]
    if _builds_path(leaf, presented, roots, subject, when):
        return []

    top = chain[-1]
    known = [cert for cert in bundle if cert.subject == top.issuer]
    # When the bundle contains the issuer as an intermediate, clients that have
    # it cached succeed and every other client fails.
    completable = (
        known
        and not _is_self_issued(known[0])
        and _builds_path(leaf, presented + known, roots, subject, when)
    )
    if completable:
        return [
            _finding(
                f"incomplete certificate chain: the server sends {len(chain)}"
                f" certificate(s) but not the intermediate CA {_name(known[0])}"
                f" that issued {_name(top)}; expected the server to send every"
                " intermediate certificate up to the root"
            )
        ]

    if _is_self_issued(top):
        found = (
            f"the self-signed certificate {_name(top)}, which is not in the CA bundle"
        )
    else:
        found = (
            f"a chain ending at {_name(top)}, issued by {top.issuer.rfc4514_string()},"
            " which is neither sent by the server nor in the CA bundle (if it is an"
            " intermediate CA, the server must send it)"
        )
    return [
        _finding(
            "untrusted certificate authority: expected a chain to a CA of the bundle,"
            f" found {found}"
        )
    ]


# -- the checks ------------------------------------------------------------------


def check_tls(
    url: str,
    ca_bundle=None,
    *,
    allow_http: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    now: datetime | None = None,
) -> list[Finding]:
    """Return the TRN-01 findings about the transport of `url`; empty when sound.

    `ca_bundle` is a PEM file of trusted CAs (None: the system's default).
    Plain HTTP is an error, or a warning when `allow_http` is set for a local
    run. A server that cannot be reached over TLS is one error finding.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "http":
        severity = "warning" if allow_http else "error"
        return [
            _finding(
                f"plain HTTP: {url} is not HTTPS; expected an https:// endpoint"
                + (" (allowed for this local run)" if allow_http else ""),
                severity,
            )
        ]
    if scheme != "https" or not parts.hostname:
        return [
            _finding(f"unsupported URL {url!r}: expected an https:// URL with a host")
        ]

    host, port = parts.hostname, parts.port or 443
    now = now or datetime.now(UTC)
    try:
        chain = fetch_chain(host, port, timeout)
    except (OSError, ssl.SSLError) as error:
        return [_finding(f"no TLS connection to {host}:{port}: {error}")]
    if not chain:
        return [_finding(f"the server at {host}:{port} sent no certificate")]

    bundle = load_bundle(ca_bundle)
    findings = _validity_findings(chain, now)
    findings += _name_findings(chain[0], host)
    findings += _chain_findings(chain, bundle, now)
    logger.info("TLS check of %s: %d finding(s)", url, len(findings))
    return findings


def redirect_finding(method: str, url: str, status: int, location: str | None):
    """Return a TRN-01 finding for a 3xx response of a FHIR endpoint, else None.

    The harness does not follow redirects, so the credential of the request
    is never sent to `location`; a redirect to plain HTTP is an error, any
    other a warning.
    """
    if not 300 <= status < 400:
        return None
    target = location or "(no Location header)"
    downgrade = urlsplit(location or "").scheme.lower() == "http"
    return _finding(
        f"{method} {url} answered {status} with a redirect to {target}; expected a"
        " direct answer from the FHIR endpoint. The harness does not follow"
        " redirects, so no credential was sent there"
        + (", and the redirect leaves HTTPS" if downgrade else ""),
        "error" if downgrade else "warning",
    )
