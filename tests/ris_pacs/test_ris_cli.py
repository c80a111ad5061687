"""`giponext-conformance mock ris-pacs` as a standalone process."""

import os
import signal
import subprocess
import sys

import pytest
import requests

TOKEN = "cli-token-Zr81Lw0p"  # noqa: S105  # a test credential


def start_mock(*arguments, env_token=TOKEN):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("GIPONEXT_RIS_TOKEN", None)
    if env_token is not None:
        env["GIPONEXT_RIS_TOKEN"] = env_token
    return subprocess.Popen(
        [sys.executable, "-m", "giponext_conformance", "mock", "ris-pacs", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def read_banner(process, count):
    lines = [process.stdout.readline().strip() for _ in range(count)]
    return dict(line.split(": ", 1) for line in lines if ": " in line), lines


def stop(process):
    process.send_signal(signal.SIGINT)
    try:
        stdout, stderr = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)
    return stdout, stderr


def run_failing(*arguments, env_token=TOKEN):
    process = start_mock(*arguments, env_token=env_token)
    try:
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)
    return process.returncode, stdout, stderr


def test_serves_with_throwaway_ca(tmp_path, intake):
    patient, _ = intake
    process = start_mock(
        "--db", str(tmp_path / "cli.sqlite3"), "--quirk", "bare-errors"
    )
    try:
        banner, lines = read_banner(process, 4)
        session = requests.Session()
        session.trust_env = False
        session.verify = banner["CA certificate"]
        created = session.put(
            f"{banner['FHIR base URL']}/Patient/{patient['id']}",
            json=patient,
            headers={
                "Authorization": f"Bearer {TOKEN}",
                "Content-Type": "application/fhir+json",
            },
            timeout=30,
        )
    finally:
        stdout, stderr = stop(process)

    assert lines[1].startswith("Serving at https://127.0.0.1:")
    assert banner["FHIR base URL"].startswith("https://127.0.0.1:")
    assert banner["Quirks"] == "bare-errors"
    assert created.status_code == 201
    assert process.returncode == 0
    assert "Stopping." in stdout
    assert f"PUT /Patient/{patient['id']} 201" in stderr
    assert TOKEN not in "\n".join(lines) + stdout + stderr
    assert not os.path.exists(banner["CA certificate"])


def test_given_certificate_used(tmp_path, ris_tls, intake):
    patient, _ = intake
    ca_path, cert_path, key_path = ris_tls
    process = start_mock(
        "--cert",
        str(cert_path),
        "--key",
        str(key_path),
        "--token",
        TOKEN,
        env_token=None,
    )
    try:
        banner, lines = read_banner(process, 2)
        response = requests.get(
            f"{banner['FHIR base URL']}/metadata", verify=str(ca_path), timeout=30
        )
    finally:
        stop(process)

    assert "CA certificate" not in banner
    assert response.status_code == 200
    assert response.json()["resourceType"] == "CapabilityStatement"


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        (["--no-such-flag"], "unrecognized arguments"),
        (["--quirk", "bogus"], "invalid choice"),
        (["--port", "70000"], "outside 0-65535"),
        (["--max-body-bytes", "0"], "not positive"),
        (
            ["--cert", "/nonexistent/cert.pem", "--key", "/nonexistent/key.pem"],
            "cannot read TLS file",
        ),
        (["--cert", "/nonexistent/cert.pem"], "must be given together"),
        (["--basic", "nocolon"], "USER:PASS"),
        (["--host", "0.0.0.0"], "wildcard"),  # noqa: S104  # the rejected value
        (["--host", "192.0.2.7"], "non-loopback"),
        (["--db", "/nonexistent/dir/x.sqlite3"], "cannot open database"),
    ],
)
def test_bad_options_exit_2(arguments, fragment):
    status, stdout, stderr = run_failing(*arguments)

    assert status == 2
    assert fragment in stderr
    assert stderr.strip().count("\n") == 0, stderr
    assert "Traceback" not in stderr
    assert TOKEN not in stdout + stderr


def test_missing_token_exit_2():
    status, _, stderr = run_failing(env_token=None)

    assert status == 2
    assert "GIPONEXT_RIS_TOKEN" in stderr


def test_invalid_token_exit_2():
    status, stdout, stderr = run_failing(env_token="has space")  # noqa: S106

    assert status == 2
    assert "characters" in stderr
    assert "has space" not in stdout + stderr


def test_unreadable_certificate_exit_2(tmp_path):
    bogus = tmp_path / "bogus.pem"
    bogus.write_text("not a certificate\n")

    status, _, stderr = run_failing("--cert", str(bogus), "--key", str(bogus))

    assert status == 2
    assert "cannot load TLS certificate" in stderr
    assert "Traceback" not in stderr
