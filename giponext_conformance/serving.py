"""Serving WSGI apps (the mocks) with cheroot, over TLS when given a certificate.

`start_server` runs an app in a background thread and returns once the socket
accepts connections; tests and the suite use it. `serve_forever` is for the
standalone `mock` commands: it prints the URL and blocks until SIGINT or
SIGTERM. Both bind loopback only, unless the caller explicitly allows another
address, because a mock has no real security and must not be reachable from
the network by accident.
"""

from __future__ import annotations

import ipaddress
import logging
import signal
import ssl
import threading

from cheroot import wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter

from giponext_conformance.errors import HarnessError

logger = logging.getLogger(__name__)

# Worker threads per server: enough for the suite's parallel checks and a
# vendor's retries, small enough for CI machines.
DEFAULT_THREADS = 10

# Seconds to wait for the serving thread to finish after stop().
STOP_TIMEOUT = 5.0

# Seconds an idle keep-alive connection stays open.
CONNECTION_TIMEOUT = 10

# Largest request line plus headers, in bytes (cheroot rejects more with 413).
# NOTE: cheroot sends its own plain-text errors for requests it cannot parse
# (a malformed request line, oversized headers), before any app sees them, so
# those errors carry no OperationOutcome.
MAX_HEADER_BYTES = 64 * 1024

# Seconds cheroot's connection loop waits in select() between checks of its
# state. stop() waits for that loop to notice, so a stop takes up to this
# long: cheroot's default of 0.5 s would cost half a second per server, and
# a full run starts and stops about 20 servers. An idle loop wakes 50
# times a second at 0.02 s, about 0.5% of one CPU per server.
SELECT_INTERVAL = 0.02

# Most bytes of an unwanted request body read and discarded before the
# connection closes; a client sending more gets a reset instead of a response.
DRAIN_MAX_BYTES = 64 * 1024 * 1024
DRAIN_CHUNK_BYTES = 64 * 1024
MAX_TRAILER_LINES = 100


class ServerStartError(HarnessError):
    """A server that cannot bind its address or load its certificate."""


def is_loopback(host: str) -> bool:
    """Return True when `host` names the loopback interface only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def format_url(scheme: str, host: str, port: int) -> str:
    """Build a base URL, bracketing IPv6 literals as RFC 3986 requires."""
    host = host.strip("[]")
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}"


class RunningServer:
    """A cheroot server running in a background thread."""

    def __init__(self, server: wsgi.Server, thread: threading.Thread, scheme: str):
        self._server = server
        self._thread = thread
        self.host, self.port = server.bind_addr[:2]
        self.url = format_url(scheme, self.host, self.port)
        self._stopped = False

    def stop(self) -> None:
        """Stop accepting, close open connections and join the serving thread."""
        if self._stopped:
            return
        self._stopped = True
        self._server.stop()
        self._thread.join(timeout=STOP_TIMEOUT)
        logger.info("stopped server at %s", self.url)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()

    def __repr__(self):
        return f"RunningServer({self.url!r})"


def check_host(host: str, allow_non_loopback: bool = False) -> None:
    """Raise ServerStartError unless `host` may be bound (see start_server)."""
    if is_loopback(host):
        return
    if not host or host in ("0.0.0.0", "::"):  # noqa: S104  # names the rejected value
        raise ServerStartError(
            f"refusing to bind the wildcard address {host!r}: "
            "give the address of one interface"
        )
    if not allow_non_loopback:
        raise ServerStartError(
            f"refusing to bind non-loopback address {host!r}: mocks listen on "
            "127.0.0.1 or ::1 unless an external address is requested explicitly"
        )


def _make_ssl_adapter(cert_path, key_path) -> BuiltinSSLAdapter:
    # Without a chain file cheroot builds its contexts (the server's and one
    # for a loopback handshake that reads the certificate) with the system
    # trust store, which takes about 60 ms per server. The served chain is
    # enough there: it only affects verifying client certificates, and the
    # server context never requests one (verify_mode CERT_NONE).
    try:
        adapter = BuiltinSSLAdapter(
            str(cert_path), str(key_path), certificate_chain=str(cert_path)
        )
    except (OSError, ssl.SSLError) as error:
        raise ServerStartError(
            f"cannot load TLS certificate {cert_path} with key {key_path}: {error}"
        ) from error
    adapter.context.minimum_version = ssl.TLSVersion.TLSv1_2
    return adapter


class DrainRequestBody:
    """WSGI middleware that reads what the app left of a request body.

    A server that responds before reading the whole body (401, 413, 415) and
    then closes the connection makes the client's kernel reset it, so a
    client still sending sees a broken connection instead of the response.
    Reading the rest first, up to DRAIN_MAX_BYTES, lets the client read the
    response. cheroot drains bodies with a Content-Length itself, except
    after 413, and never drains chunked bodies.
    """

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        result = self.app(environ, start_response)
        _drain(environ)
        return result


def _skip_trailer(stream) -> None:
    # A chunked body ends with an optional trailer and a blank line. Left
    # unread, cheroot takes that line as the start of the next request on the
    # connection and waits for the rest until it times out.
    read_trailer_lines = getattr(stream, "read_trailer_lines", None)
    if read_trailer_lines is None:
        return
    for count, _line in enumerate(read_trailer_lines()):
        if count >= MAX_TRAILER_LINES:
            raise ValueError(f"more than {MAX_TRAILER_LINES} trailer lines")


def _drain(environ) -> None:
    declared = environ.get("CONTENT_LENGTH")
    if not declared and not environ.get("wsgi.input_terminated"):
        return
    stream = environ.get("wsgi.input")
    drained = 0
    try:
        while drained < DRAIN_MAX_BYTES:
            chunk = stream.read(DRAIN_CHUNK_BYTES)
            if not chunk:
                _skip_trailer(stream)
                return
            drained += len(chunk)
    except (OSError, ValueError) as error:
        # The client stopped sending or broke the chunked encoding; cheroot
        # closes the connection, and no response can reach the client.
        logger.info("stopped reading a request body: %s", error)
        return
    logger.info("request body larger than %d bytes left unread", DRAIN_MAX_BYTES)


def start_server(
    app,
    host: str = "127.0.0.1",
    port: int = 0,
    cert_path=None,
    key_path=None,
    *,
    allow_non_loopback: bool = False,
    threads: int = DEFAULT_THREADS,
) -> RunningServer:
    """Serve `app` in a background thread; return once it accepts connections.

    Port 0 picks a free port (read it from `.port` or `.url`). TLS is used when
    both `cert_path` and `key_path` are given. A host other than loopback is
    rejected unless `allow_non_loopback` is True, and the wildcard addresses
    are rejected always.
    """
    check_host(host, allow_non_loopback)
    if (cert_path is None) != (key_path is None):
        raise ServerStartError("TLS needs both a certificate and a key file")

    server = wsgi.Server(
        (host.strip("[]"), port),
        DrainRequestBody(app),
        numthreads=threads,
        timeout=CONNECTION_TIMEOUT,
        server_name="giponext-conformance",
    )
    server.max_request_header_size = MAX_HEADER_BYTES
    server.expiration_interval = SELECT_INTERVAL
    scheme = "http"
    if cert_path is not None:
        server.ssl_adapter = _make_ssl_adapter(cert_path, key_path)
        scheme = "https"

    try:
        server.prepare()
    except OSError as error:
        raise ServerStartError(f"cannot listen on {host}:{port}: {error}") from error

    # prepare() has put the socket in the listening state, so connections
    # made from now on wait in the backlog until the thread accepts them.
    thread = threading.Thread(target=server.serve, name=f"cheroot-{port}", daemon=True)
    thread.start()
    running = RunningServer(server, thread, scheme)
    logger.info("serving at %s", running.url)
    return running


def serve_forever(
    app,
    host: str = "127.0.0.1",
    port: int = 0,
    cert_path=None,
    key_path=None,
    *,
    allow_non_loopback: bool = False,
    banner=None,
) -> None:
    """Serve `app` until SIGINT or SIGTERM, then stop cleanly.

    Prints the base URL once the server accepts connections; `banner`, when
    given, is called with the RunningServer to print more lines. Must run in
    the main thread, where Python delivers signals.
    """
    stop_requested = threading.Event()

    def request_stop(signum, _frame):
        logger.info("received signal %s, stopping", signum)
        stop_requested.set()

    previous = {
        signum: signal.signal(signum, request_stop)
        for signum in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        with start_server(
            app, host, port, cert_path, key_path, allow_non_loopback=allow_non_loopback
        ) as running:
            print(f"Serving at {running.url}", flush=True)
            if banner is not None:
                banner(running)
            # Waiting in short slices keeps the main thread responsive to signals.
            while not stop_requested.wait(timeout=0.5):
                pass
            print("Stopping.", flush=True)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
