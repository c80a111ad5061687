"""The Allure report and the summary, opened in headless Chromium after a quirk run.

The suite runs against the bundled mock RIS-PACS with the `mutable-orders`
quirk, which breaks PR-03, then `report --bundle` builds everything. The
Allure 3 report loads its data with fetch(), so it is served over HTTP on
127.0.0.1. Screenshots go to the report folder's screenshots/ and, for a
person to look at, to the project's reports/screenshots/.
"""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest

from giponext_conformance.bundle import verify_bundle
from giponext_conformance.cli import main
from giponext_conformance.cli.report import find_allure_cli

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PROJECT_SCREENSHOTS = Path(__file__).resolve().parents[1] / "reports" / "screenshots"
FAILED_SCENARIO = "Changing a created order is refused"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - name fixed by the base class
        pass


@pytest.fixture(scope="module")
def quirk_report_dir(tmp_path_factory):
    """A report folder of a real run against the mock with PR-03 broken."""
    if shutil.which("node") is None or find_allure_cli() is None:
        pytest.fail("Node.js and the npm package allure are required: run 'npm ci'")
    report_dir = tmp_path_factory.mktemp("quirk-run") / "reports"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "giponext_conformance",
            "run",
            "--quirk",
            "mutable-orders",
            "--report-dir",
            str(report_dir),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 1, (
        completed.stdout[-3000:] + completed.stderr[-3000:]
    )
    assert (report_dir / "junit.xml").is_file()

    status = main(["report", "--report-dir", str(report_dir), "--bundle"])
    assert status == 0
    return report_dir


@pytest.fixture(scope="module")
def served(quirk_report_dir):
    """Base URL of an HTTP server on 127.0.0.1 serving the report folder."""
    handler = functools.partial(_QuietHandler, directory=str(quirk_report_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: install it with 'apt-get install chromium'"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


def _save_screenshot(page, report_dir: Path, name: str) -> Path:
    path = report_dir / "screenshots" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    PROJECT_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, PROJECT_SCREENSHOTS / name)
    return path


def test_allure_report_shows_failed_scenario(browser, served, quirk_report_dir):
    results = json.loads((quirk_report_dir / "conformance.json").read_text("utf-8"))
    failed_count = sum(1 for s in results["scenarios"] if s["outcome"] == "failed")
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{served}/allure-report/index.html")

    page.get_by_text(FAILED_SCENARIO).first.wait_for(timeout=60_000)
    text = page.inner_text("body")
    screenshot = _save_screenshot(page, quirk_report_dir, "allure-report.png")
    page.close()

    assert "GipoNext conformance" in text
    assert failed_count >= 2
    assert f"{failed_count} failed" in text
    assert "PR-03" in text
    assert "Intake" in text
    assert "target.quirks\nmutable-orders" in text
    assert screenshot.read_bytes().startswith(b"\x89PNG")


def test_summary_page_puts_failed_rule_first(browser, served, quirk_report_dir):
    results = json.loads((quirk_report_dir / "conformance.json").read_text("utf-8"))
    failed_rules = [
        rule_id
        for rule_id, entry in results["rules"].items()
        if entry["status"] == "failed"
    ]
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{served}/summary.html")

    verdict = page.inner_text("#verdict")
    rows = page.locator("#rules tbody tr")
    statuses = rows.evaluate_all("rows => rows.map(row => row.dataset.status)")
    first_rule = rows.first.get_attribute("data-rule")
    background = rows.first.locator("td").first.evaluate(
        "cell => getComputedStyle(cell).backgroundColor"
    )
    failed_list = page.inner_text("#failed-rules")
    screenshot = _save_screenshot(page, quirk_report_dir, "summary.png")
    page.close()

    assert "PR-03" in failed_rules
    assert verdict == "Verdict: FAILED"
    assert statuses[: len(failed_rules)] == ["failed"] * len(failed_rules)
    assert "failed" not in statuses[len(failed_rules) :]
    assert first_rule in failed_rules
    assert background == "rgb(255, 235, 233)"
    assert "PR-03 (SHALL): " in failed_list
    assert "expected a 4xx refusal" in failed_list
    assert screenshot.read_bytes().startswith(b"\x89PNG")


def test_quirk_run_markdown_and_bundle(quirk_report_dir):
    markdown = (quirk_report_dir / "summary.md").read_text("utf-8")
    bundles = sorted(quirk_report_dir.glob("evidence-*.zip"))

    assert "**Verdict: FAILED**" in markdown
    assert markdown.index("- **PR-03** (SHALL)") < markdown.index("## Rules")
    assert len(bundles) == 1
    result = verify_bundle(bundles[0])
    assert result.ok, result.problems
    assert result.checked > 40
    with zipfile.ZipFile(bundles[0]) as archive:
        names = set(archive.namelist())
        har = json.loads(archive.read("journals/giponext.har"))
    assert {"conformance.json", "junit.xml", "summary.html", "manifest.json"} <= names
    assert har["log"]["version"] == "1.2"
    assert har["log"]["entries"]
