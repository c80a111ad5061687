"""Tests of the run CA and the cheroot serving layer, over real sockets."""

import signal
import socket
import subprocess
import sys
import textwrap
import threading

import pytest
import requests

from giponext_conformance.serving import (
    ServerStartError,
    format_url,
    is_loopback,
    start_server,
)
from giponext_conformance.tls import RunCA


def hello_app(environ, start_response):
    body = f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}".encode()
    start_response(
        "200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
    )
    return [body]


@pytest.fixture
def run_ca(tmp_path):
    return RunCA(tmp_path / "tls")


def test_run_ca_writes_pem_files(run_ca):
    cert_path, key_path = run_ca.issue()

    assert run_ca.ca_cert_path.read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert cert_path.read_text().count("BEGIN CERTIFICATE") >= 1
    assert "PRIVATE KEY" in key_path.read_text()
    assert key_path.stat().st_mode & 0o077 == 0


def test_run_ca_issues_distinct_files(run_ca):
    first = run_ca.issue(("127.0.0.1",))
    second = run_ca.issue(("localhost",))

    assert first[0] != second[0]
    assert first[1] != second[1]


def test_run_ca_rejects_empty_hostnames(run_ca):
    with pytest.raises(ValueError, match="at least one hostname"):
        run_ca.issue(())


def test_https_server_verified_by_run_ca(run_ca):
    cert_path, key_path = run_ca.issue()

    with start_server(hello_app, cert_path=cert_path, key_path=key_path) as running:
        response = requests.get(
            f"{running.url}/ping", verify=run_ca.ca_cert_path, timeout=5
        )

    assert running.url == f"https://127.0.0.1:{running.port}"
    assert response.status_code == 200
    assert response.text == "GET /ping"


def test_https_server_rejected_without_ca(run_ca):
    cert_path, key_path = run_ca.issue()

    with (
        start_server(hello_app, cert_path=cert_path, key_path=key_path) as running,
        pytest.raises(requests.exceptions.SSLError),
    ):
        requests.get(running.url, timeout=5)


def test_plain_http_server_on_free_port():
    with start_server(hello_app) as running:
        response = requests.post(f"{running.url}/x", timeout=5)

    assert running.url.startswith("http://127.0.0.1:")
    assert running.port > 0
    assert response.text == "POST /x"


def test_stopped_server_refuses_connections():
    running = start_server(hello_app)
    port = running.port

    running.stop()
    running.stop()

    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_ipv6_loopback_url():
    if not socket.has_ipv6:
        pytest.skip("IPv6 is not available on this machine")
    try:
        running = start_server(hello_app, host="::1")
    except ServerStartError as error:
        pytest.skip(f"cannot bind ::1 here: {error}")

    with running:
        response = requests.get(f"{running.url}/six", timeout=5)

    assert running.url == f"http://[::1]:{running.port}"
    assert response.text == "GET /six"


@pytest.mark.parametrize("host", ["0.0.0.0", "::", ""])  # noqa: S104  # rejected values
def test_wildcard_host_rejected(host):
    with pytest.raises(ServerStartError, match="wildcard"):
        start_server(hello_app, host=host, allow_non_loopback=True)


def test_external_host_needs_explicit_permission():
    with pytest.raises(ServerStartError, match="non-loopback"):
        start_server(hello_app, host="192.0.2.10")


def test_half_tls_configuration_rejected(run_ca):
    cert_path, _ = run_ca.issue()

    with pytest.raises(ServerStartError, match="both a certificate and a key"):
        start_server(hello_app, cert_path=cert_path)


def test_unreadable_certificate_rejected(tmp_path):
    bogus = tmp_path / "bogus.pem"
    bogus.write_text("not a certificate")

    with pytest.raises(ServerStartError, match="cannot load TLS certificate"):
        start_server(hello_app, cert_path=bogus, key_path=bogus)


def test_busy_port_rejected():
    with (
        start_server(hello_app) as running,
        pytest.raises(ServerStartError, match="cannot listen"),
    ):
        start_server(hello_app, port=running.port)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", True),
        ("127.5.0.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("10.0.0.1", False),
        ("example.org", False),
        ("::", False),
    ],
)
def test_is_loopback(host, expected):
    assert is_loopback(host) is expected


def test_format_url_brackets_ipv6():
    assert format_url("https", "::1", 8443) == "https://[::1]:8443"
    assert format_url("http", "127.0.0.1", 80) == "http://127.0.0.1:80"


def test_parallel_requests_served(run_ca):
    cert_path, key_path = run_ca.issue()
    statuses = []

    def fetch(url):
        statuses.append(
            requests.get(url, verify=run_ca.ca_cert_path, timeout=10).status_code
        )

    with start_server(hello_app, cert_path=cert_path, key_path=key_path) as running:
        workers = [
            threading.Thread(target=fetch, args=(f"{running.url}/{n}",))
            for n in range(20)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=15)

    assert statuses == [200] * 20


def test_serve_forever_stops_on_sigterm(tmp_path):
    script = textwrap.dedent(
        """
        from giponext_conformance.serving import serve_forever

        def app(environ, start_response):
            start_response("204 No Content", [])
            return [b""]

        serve_forever(app)
        print("done", flush=True)
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True
    )
    try:
        first_line = process.stdout.readline()
        url = first_line.split()[-1]
        status = requests.get(url, timeout=5).status_code
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)

    assert first_line.startswith("Serving at http://127.0.0.1:")
    assert status == 204
    assert process.returncode == 0
    assert output.splitlines()[-1] == "done"
