"""No credential of a run reaches its report folder, logs or the audit journal.

The whole suite runs with `giponext-conformance run` the way a vendor runs
it: against a RIS-PACS (the mock, served by this test with a known token and
Basic password), with the outcome flow on a GipoNext endpoint whose API key,
OAuth client secret and test-user password are set in advance. The mock
RIS-PACS delivers its report with an OAuth token from the device flow. Then
every file under the report folder, archives opened, is searched for each
secret in the encodings it travels in, and for the prefixes that mark the
credentials the mocks generate (access and refresh tokens, client secrets,
passwords, API keys).
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import zipfile
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from giponext_conformance.cli.report import find_allure_cli
from giponext_conformance.mocks.giponext import GipoNextConfig, TenantConfig, create_app
from giponext_conformance.mocks.giponext import mock_of as giponext_mock_of
from giponext_conformance.mocks.giponext.oauth import oauth_of, scripted
from giponext_conformance.mocks.ris_pacs import create_app as create_ris_app
from giponext_conformance.mocks.ris_pacs.config import RisPacsConfig
from giponext_conformance.mocks.ris_pacs.oauth_client import SenderOAuthConfig
from giponext_conformance.serving import start_server
from giponext_conformance.tls import RunCA

BASIC_USER = "giponext"
TENANT = "tenant-leakcheck"

# Credentials the mocks generate carry these prefixes (access token, refresh
# token, client secret, test-user password, API key), so any of them is
# found even when this test never learns its value.
GENERATED_CREDENTIAL = re.compile(rb"\bg(?:at|rt|cs|pw|pn)_[A-Za-z0-9_-]{16,}")

# Seconds the whole run may take.
RUN_TIMEOUT = 900


def _recognisable(kind: str) -> str:
    return f"leak{kind}{secrets.token_hex(12)}"


SECRETS = {
    "RIS token": _recognisable("ristoken"),
    "Basic password": _recognisable("basicpw"),
    "API key": _recognisable("apikey"),
    "OAuth client secret": _recognisable("clientsecret"),
    "user password": _recognisable("userpw"),
}


def _needles() -> dict[bytes, str]:
    """Return each secret in every encoding it may travel in, mapped to its kind."""
    needles = {}
    for kind, value in SECRETS.items():
        for variant in (value, quote(value, safe=""), json.dumps(value)[1:-1]):
            needles[variant.encode()] = kind
        needles[base64.b64encode(value.encode())] = f"{kind} (base64)"
    pair = f"{BASIC_USER}:{SECRETS['Basic password']}".encode()
    needles[base64.b64encode(pair)] = "Basic credentials (base64)"
    client_pair = f"ris-pacs:{SECRETS['OAuth client secret']}".encode()
    needles[base64.b64encode(client_pair)] = "client credentials (base64)"
    return needles


def _contents(path: Path):
    """Yield (name, bytes) for a file and, for archives, for each member."""
    data = path.read_bytes()
    yield str(path), data
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                yield f"{path}!{member}", archive.read(member)
    elif data[:2] == b"\x1f\x8b":
        yield f"{path}!gunzip", gzip.decompress(data)


def find_leaks(folder: Path) -> list[str]:
    """Return 'file: kind' for every secret found under `folder`, never the secret."""
    needles = _needles()
    leaks = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        for name, data in _contents(path):
            leaks += [
                f"{name}: {kind}" for needle, kind in needles.items() if needle in data
            ]
            if GENERATED_CREDENTIAL.search(data):
                leaks.append(f"{name}: a generated credential")
    return leaks


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def vendor_run(tmp_path_factory):
    """Run the whole suite with the secrets in use; return the report folder."""
    work = tmp_path_factory.mktemp("leakcheck")
    authority = RunCA(work / "ca")
    ca = str(authority.ca_cert_path)
    cert_path, key_path = authority.issue()
    giponext_port = _free_port()

    ris_config = RisPacsConfig(
        token=SECRETS["RIS token"],
        basic_user=BASIC_USER,
        basic_password=SECRETS["Basic password"],
        db_path=work / "ris.sqlite",
        giponext_url=f"https://127.0.0.1:{giponext_port}/fhir/r3/{TENANT}",
        giponext_ca_bundle=ca,
        report_delay=0.5,
        giponext_oauth=SenderOAuthConfig(
            "ris-pacs",
            f"operator@{TENANT}",
            SECRETS["user password"],
            client_secret=SECRETS["OAuth client secret"],
        ),
    )
    report_dir = work / "reports"
    command = [
        sys.executable, "-m", "giponext_conformance", "-v", "run",
        "--ris-url", "",  # filled in below, once the RIS-PACS listens
        "--ris-token", SECRETS["RIS token"],
        "--ris-basic", f"{BASIC_USER}:{SECRETS['Basic password']}",
        "--ca-bundle", ca,
        "--outcome",
        "--outcome-timeout", "60",
        "--giponext-listen", f"127.0.0.1:{giponext_port}",
        "--giponext-cert", str(cert_path),
        "--giponext-key", str(key_path),
        "--giponext-api-key", SECRETS["API key"],
        "--giponext-tenant", TENANT,
        "--report-dir", str(report_dir),
    ]  # fmt: skip
    environment = {
        **os.environ,
        "GIPONEXT_OAUTH_PASSWORD": SECRETS["user password"],
        "GIPONEXT_OAUTH_CLIENT_SECRET": SECRETS["OAuth client secret"],
    }

    with start_server(
        create_ris_app(ris_config), cert_path=cert_path, key_path=key_path
    ) as ris:
        command[command.index("--ris-url") + 1] = ris.url
        completed = subprocess.run(
            command,
            env=environment,
            cwd=work,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            check=False,
        )
    _build_reports(report_dir, work)
    return report_dir, completed


def _build_reports(report_dir: Path, work: Path) -> None:
    """Build the summaries, the Allure HTML report and the evidence archive."""
    command = [
        sys.executable, "-m", "giponext_conformance", "report",
        "--report-dir", str(report_dir), "--bundle",
    ]  # fmt: skip
    if find_allure_cli() is None:
        # Without Node.js the summaries and the archive are still checked.
        command.append("--no-allure")
    completed = subprocess.run(
        command, cwd=work, capture_output=True, text=True, timeout=600, check=False
    )
    assert completed.returncode == 0, (
        completed.stdout[-2000:] + completed.stderr[-2000:]
    )


@pytest.fixture(scope="module")
def bundled_run(tmp_path_factory):
    """Run the whole suite on the bundled mock, MOCK scenarios included."""
    work = tmp_path_factory.mktemp("leakcheck-bundled")
    report_dir = work / "reports"
    environment = {
        **os.environ,
        "GIPONEXT_OAUTH_PASSWORD": SECRETS["user password"],
        "GIPONEXT_OAUTH_CLIENT_SECRET": SECRETS["OAuth client secret"],
    }
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "giponext_conformance",
            "-v",
            "run",
            "--giponext-api-key",
            SECRETS["API key"],
            "--report-dir",
            str(report_dir),
        ],  # fmt: skip
        env=environment,
        cwd=work,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    _build_reports(report_dir, work)
    return report_dir, completed


def test_bundled_run_leaks_nothing(bundled_run, tmp_path):
    report_dir, completed = bundled_run
    rules = json.loads((report_dir / "conformance.json").read_text())["rules"]
    (tmp_path / "stderr.txt").write_text(completed.stderr)

    assert completed.returncode == 0, (
        completed.stdout[-3000:] + completed.stderr[-3000:]
    )
    # GAUTH-02 and GAUTH-05 are MOCK rules: they run on the bundled mock only.
    # GAUTH-01 passes only after a code flow with the client secret and the
    # user's password.
    assert rules["GAUTH-01"]["status"] == "passed"
    assert rules["GAUTH-02"]["status"] == "passed"
    assert rules["GAUTH-05"]["status"] == "passed"
    assert find_leaks(report_dir) == []
    assert find_leaks(tmp_path) == []


def test_run_used_every_secret(vendor_run):
    report_dir, completed = vendor_run
    assert completed.returncode == 0, (
        completed.stdout[-3000:] + completed.stderr[-3000:]
    )

    rules = json.loads((report_dir / "conformance.json").read_text())["rules"]
    # AUTH-04 runs only with Basic credentials; FLOW-02 passes only when the
    # OAuth sender delivered. The GipoNext mock's own scenarios, which use the
    # client secret in a code flow, run in the bundled run only.
    assert rules["AUTH-02"]["status"] == "passed"
    assert rules["AUTH-04"]["status"] != "not-run"
    assert rules["FLOW-02"]["status"] == "passed"
    assert rules["GAUTH-01"]["status"] == "not-run"


def test_report_folder_holds_no_secret(vendor_run):
    report_dir, _completed = vendor_run
    files = [path for path in report_dir.rglob("*") if path.is_file()]

    leaks = find_leaks(report_dir)

    assert len(files) > 10
    assert any(path.suffix == ".zip" for path in files)
    assert leaks == []


def test_run_logs_hold_no_secret(vendor_run, tmp_path):
    _report_dir, completed = vendor_run
    # The endpoint banner shows the API key on purpose, so the vendor can
    # configure it; every other line of the output must be clean.
    stdout = "\n".join(
        line
        for line in completed.stdout.splitlines()
        if not line.startswith("API key:")
    )
    (tmp_path / "stdout.txt").write_text(stdout)
    (tmp_path / "stderr.txt").write_text(completed.stderr)

    assert "GET" in completed.stderr or "POST" in completed.stderr
    assert find_leaks(tmp_path) == []


def test_journal_export_holds_no_secret(tmp_path):
    """The audit journal, exported as HAR and JSON, after traffic with every secret."""
    authority = RunCA(tmp_path / "ca")
    ca = str(authority.ca_cert_path)
    cert_path, key_path = authority.issue()
    db_path = tmp_path / "giponext.sqlite"
    os.environ["GIPONEXT_OAUTH_PASSWORD"] = SECRETS["user password"]
    os.environ["GIPONEXT_OAUTH_CLIENT_SECRET"] = SECRETS["OAuth client secret"]
    try:
        app = create_app(
            GipoNextConfig(
                tenants={TENANT: TenantConfig(api_keys=[SECRETS["API key"]])},
                db_path=str(db_path),
            )
        )
    finally:
        del os.environ["GIPONEXT_OAUTH_PASSWORD"]
        del os.environ["GIPONEXT_OAUTH_CLIENT_SECRET"]

    with start_server(app, cert_path=cert_path, key_path=key_path) as server:
        _journal_traffic(server.url, ca, app)
        exports = tmp_path / "exports"
        exports.mkdir()
        for fmt in ("har", "json"):
            completed = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "giponext_conformance",
                    "journal",
                    "export",
                    "--db",
                    str(db_path),
                    "--format",
                    fmt,
                    "--output",
                    str(exports / f"journal.{fmt}"),
                ],  # fmt: skip
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert completed.returncode == 0, completed.stderr[-2000:]
    giponext_mock_of(app).close()

    har = json.loads((exports / "journal.har").read_text())
    assert len(har["log"]["entries"]) >= 6
    assert find_leaks(exports) == []


def _journal_traffic(base_url: str, ca: str, app) -> None:
    """Send requests that carry each secret in a header, a form or a URL."""
    reports = f"{base_url}/fhir/r3/{TENANT}/DiagnosticReport"
    basic = base64.b64encode(
        f"{BASIC_USER}:{SECRETS['Basic password']}".encode()
    ).decode()

    def get(url, authorization):
        return requests.get(
            url, headers={"Authorization": authorization}, verify=ca, timeout=10
        )

    assert get(f"{reports}/r1", f"Bearer {SECRETS['API key']}").status_code == 404
    assert get(f"{reports}/r1", f"Basic {basic}").status_code == 401
    assert get(f"{reports}/r1", f"Bearer {SECRETS['RIS token']}").status_code == 401
    # A credential misplaced in the query string must be masked in the URL too.
    get(f"{reports}/r1?access_token={SECRETS['API key']}", "")

    user = oauth_of(app).test_user(TENANT)
    token = scripted.obtain_token_by_device_flow(
        base_url,
        "ris-pacs",
        SECRETS["OAuth client secret"],
        scripted.ScriptedUser(user.username, SECRETS["user password"], verify=ca),
        "reports",
        verify=ca,
    )
    assert get(f"{reports}/r2", f"Bearer {token['access_token']}").status_code == 404
