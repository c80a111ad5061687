"""`giponext-conformance run` as a user runs it: a subprocess against real servers.

The RIS-PACS under test is the mock started as its own process with
`giponext-conformance mock ris-pacs`, so the run sees it exactly as it would
see a vendor's system: a URL, a token and a CA bundle.
"""

import json
import os
import re
import socket
import subprocess
import sys
import time

import pytest

from giponext_conformance.mocks.ris_pacs import RisPacsConfig, close_app, create_app
from giponext_conformance.serving import start_server

TOKEN = "run-cli-token-7d2e9a"  # noqa: S105  # credential of the local mock
COMMAND = [sys.executable, "-m", "giponext_conformance"]

# Seconds to wait for the mock process to print its URL.
START_TIMEOUT = 30


def _run(*arguments, env=None, timeout=300):
    started = time.monotonic()
    completed = subprocess.run(
        [*COMMAND, *arguments],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )
    print(f"run {' '.join(arguments[:4])}... took {time.monotonic() - started:.1f} s")
    return completed


@pytest.fixture(scope="module")
def mock_process(tmp_path_factory):
    """The mock RIS-PACS in its own process; yields (url, ca_path)."""
    log_path = tmp_path_factory.mktemp("mock") / "mock.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [*COMMAND, "mock", "ris-pacs"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "GIPONEXT_RIS_TOKEN": TOKEN},
        )
    try:
        url = ca_path = None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and not (url and ca_path):
            text = log_path.read_text()
            url_match = re.search(r"FHIR base URL: (\S+)", text)
            ca_match = re.search(r"CA certificate: (\S+)", text)
            url = url_match.group(1) if url_match else None
            ca_path = ca_match.group(1) if ca_match else None
            time.sleep(0.1)
        assert url and ca_path, log_path.read_text()
        yield url, ca_path
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def plain_http_ris(tmp_path_factory):
    """The mock RIS-PACS served over plain HTTP, for the TRN-01 failure."""
    config = RisPacsConfig(
        token=TOKEN, db_path=tmp_path_factory.mktemp("http") / "r.sqlite"
    )
    app = create_app(config)
    with start_server(app) as server:
        yield server.url
    close_app(app)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_run_external_target_passes(mock_process, tmp_path):
    url, ca_path = mock_process

    completed = _run(
        "run",
        "--ris-url",
        url,
        "--ca-bundle",
        ca_path,
        "--features",
        "intake",
        "--report-dir",
        str(tmp_path),
        env={"GIPONEXT_RIS_TOKEN": TOKEN},
    )
    report = json.loads((tmp_path / "conformance.json").read_text("utf-8"))

    assert completed.returncode == 0, completed.stdout[-3000:]
    assert report["verdict"] == "passed"
    assert report["target"]["ris_url"] == url
    assert report["target"]["bundled"] is False
    assert report["rules"]["FLOW-01"]["status"] == "passed"
    assert report["rules"]["TRN-01"]["status"] == "passed"
    # MOCK rules describe the bundled mock only, so they are skipped here.
    assert report["rules"]["TRN-08"]["status"] == "not-run"
    assert (tmp_path / "junit.xml").is_file()
    assert "Run finished in" in completed.stdout
    assert TOKEN not in completed.stdout + completed.stderr


def test_run_tags_select_scenarios(mock_process, tmp_path):
    url, ca_path = mock_process

    completed = _run(
        "run",
        "--ris-url",
        url,
        "--ris-token",
        TOKEN,
        "--ca-bundle",
        ca_path,
        "--tags",
        "PR-03 or AUTH-01",
        "--report-dir",
        str(tmp_path),
    )
    report = json.loads((tmp_path / "conformance.json").read_text("utf-8"))
    ran = {
        rule for rule, entry in report["rules"].items() if entry["status"] != "not-run"
    }

    assert completed.returncode == 0, completed.stdout[-3000:]
    assert ran == {"PR-03", "AUTH-01"}


def test_run_untrusted_certificate_exit_2(mock_process, tmp_path):
    url, _ = mock_process

    completed = _run(
        "run", "--ris-url", url, "--ris-token", TOKEN, "--report-dir", str(tmp_path)
    )

    assert completed.returncode == 2
    assert "not trusted" in completed.stderr
    assert "--ca-bundle" in completed.stderr
    assert completed.stderr.count("\n") == 1
    assert "Traceback" not in completed.stderr


def test_run_refused_target_exit_2(tmp_path):
    url = f"https://127.0.0.1:{_free_port()}"

    completed = _run(
        "run", "--ris-url", url, "--ris-token", TOKEN, "--report-dir", str(tmp_path)
    )

    assert completed.returncode == 2
    assert completed.stderr.startswith("giponext-conformance: the connection to")
    assert "refused" in completed.stderr
    assert completed.stderr.count("\n") == 1


def test_run_wrong_flag_exit_2():
    completed = _run("run", "--no-such-flag")

    assert completed.returncode == 2
    assert "unrecognized arguments: --no-such-flag" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_run_unreadable_ca_bundle_exit_2(tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("this is not a certificate\n")

    completed = _run(
        "run",
        "--ris-url",
        "https://127.0.0.1:9",
        "--ris-token",
        TOKEN,
        "--ca-bundle",
        str(bundle),
    )

    assert completed.returncode == 2
    assert f"the CA bundle {bundle} cannot be read" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_run_missing_credentials_exit_2():
    completed = _run(
        "run", "--ris-url", "https://127.0.0.1:9", env={"GIPONEXT_RIS_TOKEN": ""}
    )

    assert completed.returncode == 2
    assert "--ris-token" in completed.stderr


def test_run_plain_http_fails_trn01(plain_http_ris, tmp_path):
    completed = _run(
        "run",
        "--ris-url",
        plain_http_ris,
        "--ris-token",
        TOKEN,
        "--features",
        "intake",
        "--report-dir",
        str(tmp_path),
    )
    report = json.loads((tmp_path / "conformance.json").read_text("utf-8"))

    assert completed.returncode == 1, completed.stdout[-3000:]
    assert report["verdict"] == "failed"
    assert report["rules"]["TRN-01"]["status"] == "failed"
    assert f"found {plain_http_ris}" in report["rules"]["TRN-01"]["messages"][0]
    # Nothing else is sent over plain HTTP without --allow-http.
    assert report["rules"]["PAT-01"]["status"] == "not-run"


def test_run_plain_http_allowed_warns(plain_http_ris, tmp_path):
    completed = _run(
        "run",
        "--ris-url",
        plain_http_ris,
        "--ris-token",
        TOKEN,
        "--allow-http",
        "--features",
        "intake",
        "--tags",
        "TRN-01 or PAT-01",
        "--report-dir",
        str(tmp_path),
    )
    report = json.loads((tmp_path / "conformance.json").read_text("utf-8"))

    assert completed.returncode == 0, completed.stdout[-3000:]
    assert report["rules"]["TRN-01"]["status"] == "warning"
    assert report["rules"]["PAT-01"]["status"] == "passed"
