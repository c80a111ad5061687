"""HTTP client that the step definitions use to talk FHIR to a target.

`FhirClient` wraps one requests Session per target and credential. It sends
FHIR JSON (or raw bytes with an explicit media type, for the malformed-input
checks), never follows redirects, verifies TLS against the CA bundle given or
the system store, and records every exchange. Each exchange is also attached
to the current Allure step with secrets masked, so a vendor can see exactly
what was sent and received. Failures below HTTP (refused connection, DNS,
timeout, an untrusted certificate) become `TargetUnreachable` with one plain
sentence naming the URL and the cause.
"""

from __future__ import annotations

import base64
import json
import logging
import socket
import ssl
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import allure
import requests
from requests.structures import CaseInsensitiveDict

from giponext_conformance import __version__
from giponext_conformance.errors import TargetUnreachable, UsageError
from giponext_conformance.redact import redact_headers, redact_text, register_secret

logger = logging.getLogger(__name__)

FHIR_JSON = "application/fhir+json"

# Seconds to wait for a TCP and TLS connection, and for each response.
CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 30.0

# Characters of a body that is not JSON kept in a record; the rest is cut.
MAX_RECORDED_TEXT = 200_000


class Authorization:
    """A value for the Authorization header, or None for a request without one."""

    def header_value(self) -> str | None:
        raise NotImplementedError


@dataclass(frozen=True)
class BearerToken(Authorization):
    """`Authorization: <scheme> <token>`; `scheme` is Bearer unless a test varies it."""

    token: str
    scheme: str = "Bearer"

    def __post_init__(self):
        register_secret(self.token)

    def header_value(self) -> str:
        return f"{self.scheme} {self.token}"


@dataclass(frozen=True)
class BasicCredentials(Authorization):
    """HTTP Basic credentials, encoded as UTF-8 before base64 (RFC 7617, 2.1)."""

    user: str
    password: str

    def __post_init__(self):
        register_secret(self.password)

    def header_value(self) -> str:
        pair = f"{self.user}:{self.password}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")

    @classmethod
    def parse(cls, value: str) -> BasicCredentials:
        """Split USER:PASS at the first colon, since only the password may hold one."""
        user, colon, password = value.partition(":")
        if not colon or not user:
            raise UsageError(
                "Basic credentials must be given as USER:PASSWORD, "
                "with a user name before the first colon"
            )
        return cls(user, password)


@dataclass(frozen=True)
class RawAuthorization(Authorization):
    """An Authorization header sent exactly as given (wrong schemes, odd values)."""

    value: str

    def header_value(self) -> str:
        return self.value


NO_AUTHORIZATION = None


def as_authorization(auth) -> Authorization | None:
    """Accept an Authorization, None, a raw header value or a (user, password) pair."""
    if auth is None or isinstance(auth, Authorization):
        return auth
    if isinstance(auth, str):
        return RawAuthorization(auth)
    if isinstance(auth, tuple) and len(auth) == 2:
        return BasicCredentials(*auth)
    raise TypeError(f"unsupported credential type {type(auth).__name__}")


@dataclass
class Exchange:
    """One request and its response, with secrets masked in the recorded headers."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str | bytes | None
    status: int
    headers: CaseInsensitiveDict
    content: bytes
    elapsed_ms: float
    _parsed: object = field(default=None, repr=False)
    _parsed_done: bool = field(default=False, repr=False)

    def __repr__(self) -> str:
        # allure-pytest-bdd records the repr of every step argument, and each
        # recorded text is masked for secrets afterwards; leaving the bodies
        # out keeps a 16 MiB upload from being copied and masked twice more.
        # The bodies are in the exchange's own attachment.
        sent = len(self.request_body) if self.request_body is not None else 0
        return (
            f"Exchange({self.method} {self.url} -> {self.status},"
            f" request body {sent} bytes, response body {len(self.content)} bytes)"
        )

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")

    @property
    def media_type(self) -> str:
        """The media type of the response without parameters, lower case."""
        return self.content_type.split(";", 1)[0].strip().lower()

    @property
    def location(self) -> str | None:
        return self.headers.get("Location") or self.headers.get("Content-Location")

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self):
        """Return the parsed body, or None when it is not JSON."""
        if not self._parsed_done:
            self._parsed_done = True
            try:
                self._parsed = json.loads(self.content) if self.content else None
            except (ValueError, UnicodeDecodeError):
                self._parsed = None
        return self._parsed

    @property
    def resource(self) -> dict | None:
        body = self.json()
        return body if isinstance(body, dict) else None

    @property
    def resource_type(self) -> str | None:
        resource = self.resource
        return resource.get("resourceType") if resource else None

    def describe(self) -> str:
        """Summarise the exchange for a verdict message: method, path, status, type."""
        path = urlsplit(self.url).path
        found = self.resource_type or (self.media_type or "no body")
        return f"{self.method} {path} answered {self.status} ({found})"

    def to_record(self) -> dict:
        """Return a JSON-ready record with credentials masked."""
        record = {
            "request": {
                "method": self.method,
                "url": self.url,
                "headers": self.request_headers,
            },
            "response": {
                "status": self.status,
                "headers": redact_headers(self.headers),
                "elapsedMs": round(self.elapsed_ms, 1),
            },
        }
        if self.request_body is not None:
            record["request"]["body"] = _printable(self.request_body)
        if self.media_type != "application/pdf":
            record["response"]["body"] = _printable(self.text)
        else:
            record["response"]["body"] = f"<PDF, {len(self.content)} bytes>"
        return record


def _printable(body) -> object:
    """Return a body for a JSON record: parsed when it is JSON, else masked text."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    text = redact_text(body)
    try:
        return json.loads(text)
    except ValueError:
        return text[:MAX_RECORDED_TEXT]


class FhirClient:
    """A FHIR REST client for one base URL and one credential."""

    def __init__(
        self,
        base_url: str,
        auth: Authorization | None = None,
        ca_bundle=None,
        allow_http: bool = False,
        *,
        timeout: float = DEFAULT_READ_TIMEOUT,
        deadline: float | None = None,
        attach: bool = True,
    ):
        scheme = urlsplit(base_url).scheme.lower()
        if scheme not in ("http", "https"):
            raise UsageError(f"target URL {base_url!r} must start with https://")
        if scheme == "http" and not allow_http:
            raise UsageError(
                f"refusing to send requests to {base_url} over plain HTTP: "
                "use an https:// URL, or pass --allow-http for a local test"
            )

        self.base_url = base_url.rstrip("/") + "/"
        self.auth = as_authorization(auth)
        self.ca_bundle = str(ca_bundle) if ca_bundle else None
        self.timeout = timeout
        # time.monotonic() value after which no request may start; set per scenario.
        self.deadline = deadline
        self.attach = attach
        self.exchanges: list[Exchange] = []

        self.session = requests.Session()
        # Ignoring the environment keeps .netrc credentials and proxy settings
        # out of the exchanges, so a request sent without Authorization really
        # goes without one.
        self.session.trust_env = False
        self.session.verify = self.ca_bundle or True
        self.session.headers["User-Agent"] = f"giponext-conformance/{__version__}"
        self.session.headers["Accept"] = FHIR_JSON

    def close(self) -> None:
        self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def with_auth(self, auth) -> FhirClient:
        """Return a client for the same target that sends another credential."""
        return FhirClient(
            self.base_url,
            auth,
            self.ca_bundle,
            allow_http=True,
            timeout=self.timeout,
            deadline=self.deadline,
            attach=self.attach,
        )

    def url_for(self, path: str) -> str:
        return urljoin(self.base_url, path.lstrip("/"))

    def get(self, path: str, *, headers=None) -> Exchange:
        return self.request("GET", path, headers=headers)

    def delete(self, path: str, *, headers=None) -> Exchange:
        return self.request("DELETE", path, headers=headers)

    def put(self, path: str, body, content_type: str | None = None, *, headers=None):
        return self.request("PUT", path, body, content_type, headers=headers)

    def post(self, path: str, body, content_type: str | None = None, *, headers=None):
        return self.request("POST", path, body, content_type, headers=headers)

    def patch(self, path: str, body, content_type: str | None = None, *, headers=None):
        return self.request("PATCH", path, body, content_type, headers=headers)

    def request(
        self, method: str, path: str, body=None, content_type=None, *, headers=None
    ) -> Exchange:
        """Send one request; return the Exchange, whatever the status.

        A dict body is serialised as FHIR JSON; bytes are sent as they are and
        need an explicit `content_type`.
        """
        data, content_type = _encode_body(body, content_type)
        request_headers = {}
        if content_type is not None:
            request_headers["Content-Type"] = content_type
        if self.auth is not None:
            request_headers["Authorization"] = self.auth.header_value()
        request_headers.update(headers or {})

        url = self.url_for(path)
        started = time.monotonic()
        response = self._send(method, url, data, request_headers)
        elapsed_ms = (time.monotonic() - started) * 1000

        exchange = Exchange(
            method=method,
            url=url,
            request_headers=redact_headers(response.request.headers),
            request_body=data,
            status=response.status_code,
            headers=response.headers,
            content=response.content,
            elapsed_ms=elapsed_ms,
        )
        self.exchanges.append(exchange)
        logger.info("%s %s -> %s (%.0f ms)", method, url, exchange.status, elapsed_ms)
        if self.attach:
            _attach_to_allure(exchange)
        return exchange

    def _read_timeout(self, url: str) -> float:
        if self.deadline is None:
            return self.timeout
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TargetUnreachable(
                f"the scenario ran out of time before the request to {url} "
                "(raise --scenario-timeout if the target is slow)",
                url=url,
            )
        return min(self.timeout, remaining)

    def _send(self, method, url, data, headers) -> requests.Response:
        read_timeout = self._read_timeout(url)
        try:
            return self.session.request(
                method,
                url,
                data=data,
                headers=headers,
                allow_redirects=False,
                timeout=(min(CONNECT_TIMEOUT, read_timeout), read_timeout),
            )
        except requests.RequestException as error:
            raise TargetUnreachable(
                describe_transport_error(url, error, read_timeout),
                method=method,
                url=url,
            ) from error


def _encode_body(body, content_type):
    if body is None:
        return None, content_type
    if isinstance(body, dict | list):
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        return text.encode("utf-8"), content_type or FHIR_JSON
    if isinstance(body, str):
        body = body.encode("utf-8")
    if content_type is None:
        raise ValueError("a raw body needs an explicit content type")
    return body, content_type


def _attach_to_allure(exchange: Exchange) -> None:
    path = urlsplit(exchange.url).path
    name = f"{exchange.method} {path} -> {exchange.status}"
    text = json.dumps(exchange.to_record(), indent=2, ensure_ascii=False)
    allure.attach(
        redact_text(text), name=name, attachment_type=allure.attachment_type.JSON
    )
    if exchange.media_type == "application/pdf":
        allure.attach(
            exchange.content,
            name=f"{name} (PDF)",
            attachment_type=allure.attachment_type.PDF,
        )


def _causes(error: BaseException):
    """Yield the error and the chain of exceptions behind it, bounded."""
    seen = 0
    while error is not None and seen < 10:
        yield error
        error = error.__cause__ or error.__context__ or _wrapped_reason(error)
        seen += 1


def _wrapped_reason(error):
    # urllib3 keeps the underlying error in `reason` instead of chaining it.
    reason = getattr(error, "reason", None)
    return reason if isinstance(reason, BaseException) else None


def describe_transport_error(url: str, error: BaseException, timeout: float) -> str:
    """Return one plain sentence naming the URL and why no HTTP answer came."""
    causes = list(_causes(error))
    text = " ".join(str(cause) for cause in causes)

    if isinstance(error, requests.exceptions.SSLError) or any(
        isinstance(cause, ssl.SSLError) for cause in causes
    ):
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
            return (
                f"the TLS certificate of {url} is not trusted "
                f"({_verify_reason(text)}): "
                "pass --ca-bundle with the CA certificate that signed it"
            )
        return f"the TLS handshake with {url} failed: {_short(text)}"
    if isinstance(error, requests.exceptions.Timeout):
        return f"{url} did not answer within {timeout:g} seconds"
    if any(isinstance(cause, socket.gaierror) for cause in causes) or (
        "NameResolutionError" in text or "Name or service not known" in text
    ):
        host = urlsplit(url).hostname
        return f"the host name {host!r} of {url} could not be resolved (DNS)"
    if any(isinstance(cause, ConnectionRefusedError) for cause in causes) or (
        "Connection refused" in text
    ):
        return (
            f"the connection to {url} was refused: check that the RIS-PACS "
            "is running and listening on that port"
        )
    if isinstance(
        error, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema
    ):
        return f"the URL {url} is invalid: {_short(text)}"
    return f"the request to {url} failed before any answer: {_short(text)}"


def _verify_reason(text: str) -> str:
    marker = "certificate verify failed:"
    if marker in text:
        reason = text.split(marker, 1)[1].split("(", 1)[0].split(")", 1)[0]
        return reason.strip(" _")
    return "certificate verify failed"


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
