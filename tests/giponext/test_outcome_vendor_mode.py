"""Vendor mode: `run --ris-url ... --outcome` against a RIS-PACS in another process.

The vendor is the mock RIS-PACS started as `mock ris-pacs` with its report
sender pointed at a GipoNext address fixed in advance, as a vendor would
configure it before the run.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
import requests

from giponext_conformance.tls import RunCA
from giponext_conformance.vendor import (
    EndpointSettings,
    GipoNextEndpoint,
    parse_listen,
    run_trigger,
    wait_for_report,
)

RIS_TOKEN = "vendor-ris-token-123456"  # noqa: S105  # a test credential
GIPONEXT_KEY = "gpn_vendor_fixed_key_0123456789"
TENANT = "tenant-vendor"
BANNER_TIMEOUT = 30.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _banner(process) -> dict[str, str]:
    fields = {}
    deadline = time.monotonic() + BANNER_TIMEOUT
    while time.monotonic() < deadline and "FHIR base URL" not in fields:
        line = process.stdout.readline()
        if not line:
            break
        name, _, value = line.strip().partition(": ")
        fields[name] = value
    assert "FHIR base URL" in fields, f"the mock RIS-PACS printed {fields}"
    return fields


@pytest.fixture
def vendor(tmp_path):
    """A mock RIS-PACS process that reports to a GipoNext endpoint yet to start."""
    authority = RunCA(tmp_path / "giponext-ca")
    cert, key = authority.issue()
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "giponext_conformance",
            "mock",
            "ris-pacs",
            "--giponext-url",
            f"https://127.0.0.1:{port}/fhir/r3/{TENANT}",
            "--giponext-ca-bundle",
            str(authority.ca_cert_path),
            "--report-delay",
            "0.5",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "GIPONEXT_RIS_TOKEN": RIS_TOKEN,
            "GIPONEXT_API_KEY": GIPONEXT_KEY,
        },
    )
    try:
        fields = _banner(process)
        yield {
            "ris_url": fields["FHIR base URL"],
            "ris_ca": fields["CA certificate"],
            "listen": f"127.0.0.1:{port}",
            "cert": str(cert),
            "key": str(key),
        }
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _run(vendor, tmp_path, *extra, api_key=GIPONEXT_KEY):
    report_dir = tmp_path / "report"
    environment = {**os.environ, "GIPONEXT_RIS_TOKEN": RIS_TOKEN}
    environment.pop("GIPONEXT_API_KEY", None)
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "giponext_conformance",
            "run",
            "--ris-url",
            vendor["ris_url"],
            "--ca-bundle",
            vendor["ris_ca"],
            "--outcome",
            "--giponext-listen",
            vendor["listen"],
            "--giponext-cert",
            vendor["cert"],
            "--giponext-key",
            vendor["key"],
            "--giponext-api-key",
            api_key,
            "--giponext-tenant",
            TENANT,
            "--features",
            "outcome",
            "--report-dir",
            str(report_dir),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=environment,
        check=False,
    )
    report = json.loads((report_dir / "conformance.json").read_text())
    return completed, report


def test_vendor_report_judged(vendor, tmp_path):
    completed, report = _run(
        vendor, tmp_path, "--tags", "FLOW-02", "--outcome-timeout", "30"
    )

    assert completed.returncode == 0, completed.stdout[-2000:]
    assert f"Tenant id (userId): {TENANT}" in completed.stdout
    assert report["target"]["outcome"] is True
    assert report["rules"]["FLOW-02"]["status"] == "passed"
    assert report["rules"]["DR-10"]["status"] == "passed"
    assert report["rules"]["DR-03"]["status"] == "passed"
    assert report["rules"]["PR-02"]["status"] == "passed"


def test_vendor_timeout_is_not_run(vendor, tmp_path):
    completed, report = _run(
        vendor,
        tmp_path,
        "--tags",
        "FLOW-02",
        "--outcome-timeout",
        "6",
        api_key="gpn_key_the_vendor_does_not_have_00",
    )

    assert completed.returncode == 0, completed.stdout[-2000:]
    assert "meanwhile rejected: 1 x POST 401" in completed.stdout
    assert report["rules"]["FLOW-02"]["status"] == "not-run"
    assert "Traceback" not in completed.stdout + completed.stderr


def test_mock_scenarios_skipped_for_vendor(vendor, tmp_path):
    completed, report = _run(
        vendor, tmp_path, "--tags", "MOCK and DR-05", "--outcome-timeout", "5"
    )

    assert completed.returncode == 0
    assert report["rules"]["DR-05"]["status"] == "not-run"
    assert all(scenario["outcome"] == "skipped" for scenario in report["scenarios"])


def test_endpoint_wait_reports_progress():
    endpoint = GipoNextEndpoint(
        EndpointSettings(tenant="t-wait", api_key="k" * 24)
    ).start()
    lines = []

    def send_with_wrong_key():
        time.sleep(0.2)
        with requests.Session() as session:
            session.trust_env = False
            session.post(
                f"{endpoint.local_fhir_base}/DiagnosticReport",
                data=b"{}",
                headers={"Authorization": "Bearer wrong-key-000000"},
                verify=str(endpoint.ca_path),
                timeout=10,
            )

    sender = threading.Thread(target=send_with_wrong_key)
    try:
        sender.start()
        found = wait_for_report(
            endpoint,
            "ORDER-1",
            endpoint.last_seq(),
            1.5,
            lines.append,
            progress_every=0.5,
        )
        sender.join()
    finally:
        endpoint.stop()

    assert found is None
    assert lines[0].startswith("waiting for the report of ProcedureRequest/ORDER-1: ")
    assert lines[-1].endswith("meanwhile rejected: 1 x POST 401")


def test_banner_lines_name_configuration():
    endpoint = GipoNextEndpoint(
        EndpointSettings(tenant="t-banner", api_key="banner-key-0123456789")
    ).start()
    try:
        lines = endpoint.banner_lines()
        url = endpoint.url
    finally:
        endpoint.stop()

    assert lines[0] == f"GipoNext base URL: {url}"
    assert "Tenant id (userId): t-banner" in lines
    assert "API key: banner-key-0123456789" in lines
    assert lines[-1].startswith("CA certificate to trust: ")


def test_trigger_gets_order_ids():
    command = (
        f'{sys.executable} -c "import os,sys; '
        "e = os.environ; "
        "print(e['GIPONEXT_ORDER_ID'], e['GIPONEXT_PATIENT_ID'], sys.argv[1])\""
        " {order_id}"
    )

    result = run_trigger(command, "A1R2I3", "P-9")

    assert result == "trigger command succeeded: A1R2I3 P-9 A1R2I3"


def test_trigger_failures_are_reported():
    failing = run_trigger(f'{sys.executable} -c "raise SystemExit(3)"', "O", "P")
    missing = run_trigger("no-such-command-giponext", "O", "P")

    assert failing.startswith("trigger command exited with status 3")
    assert missing == "trigger command 'no-such-command-giponext' was not found"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("127.0.0.1:0", ("127.0.0.1", 0)), ("[::1]:8443", ("::1", 8443))],
)
def test_parse_listen(text, expected):
    assert parse_listen(text) == expected


@pytest.mark.parametrize("text", ["127.0.0.1", ":80", "host:port", "127.0.0.1:70000"])
def test_parse_listen_rejects(text):
    from giponext_conformance.errors import UsageError

    with pytest.raises(UsageError, match="--giponext-listen"):
        parse_listen(text)


def test_busy_listen_port_is_usage_error(tmp_path, capsys):
    from giponext_conformance.cli import main

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        status = main(
            [
                "run",
                "--ris-url",
                "https://127.0.0.1:9",
                "--ris-token",
                "token-unused-1",
                "--outcome",
                "--giponext-listen",
                f"127.0.0.1:{port}",
                "--report-dir",
                str(tmp_path),
            ]
        )

    error = capsys.readouterr().err
    assert status == 2
    assert f"--giponext-listen 127.0.0.1:{port} cannot be used" in error
    assert error.count("\n") == 1
