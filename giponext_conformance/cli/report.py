"""`giponext-conformance report`: Allure HTML, certification summary, evidence bundle.

The command reads REPORT_DIR/conformance.json and REPORT_DIR/allure-results
written by `run`, then writes:
- summary.md and summary.html (always);
- allure-report/, the Allure 3 HTML report. It is skipped with --no-allure,
  or with a one-line note when Node.js or the npm package `allure` is missing.
  `npm ci` installs that package from the project's package.json, and no Java
  is involved;
- with --bundle, the evidence archive (see giponext_conformance.bundle).

Allure 3 keeps history in a JSON Lines file, REPORT_DIR/allure-history.jsonl.
Trends and retries therefore carry over between runs as long as the report
folder is kept. An Allure 2 `history/` folder of a previous report is copied
into the results too, because Allure 3 reads that format as well.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from giponext_conformance.bundle import build_bundle, sha256_of_file, verify_bundle
from giponext_conformance.errors import HarnessError
from giponext_conformance.summary import load_results, verdict_of, write_summaries

logger = logging.getLogger(__name__)

DEFAULT_REPORT_DIR = "reports"
ALLURE_RESULTS = "allure-results"
ALLURE_REPORT = "allure-report"
ALLURE_HISTORY = "allure-history.jsonl"
REPORT_NAME = "GipoNext conformance"

# Variable naming an Allure 3 command-line script (cli.js) to use instead of
# searching node_modules.
ALLURE_CLI_VARIABLE = "GIPONEXT_ALLURE_CLI"

# Upper bound for `allure generate`. A run of the bundled suite takes one or two
# seconds, so only a hung Node.js process reaches it.
ALLURE_TIMEOUT_SECONDS = 600


class AllureUnavailable(HarnessError):
    """Node.js or the npm package `allure` cannot be found."""


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "report",
        help="build the Allure HTML report, the certification summary and the bundle",
        description=(
            "Build summary.md and summary.html from conformance.json, the Allure 3 "
            "HTML report from the Allure results and, with --bundle, the evidence "
            "archive with a SHA-256 manifest."
        ),
    )
    parser.add_argument(
        "--report-dir",
        type=Path,
        default=Path(DEFAULT_REPORT_DIR),
        metavar="DIR",
        help=f"folder the run wrote its results to (default: {DEFAULT_REPORT_DIR})",
    )
    parser.add_argument(
        "--bundle",
        nargs="?",
        const=True,
        default=None,
        metavar="PATH",
        help="also write the evidence archive (default path: "
        "DIR/evidence-<UTC time>.zip)",
    )
    parser.add_argument(
        "--no-allure",
        action="store_true",
        help="skip the Allure HTML report (no Node.js needed)",
    )
    parser.add_argument(
        "--verify",
        metavar="BUNDLE",
        type=Path,
        help="only check an existing evidence archive against its manifest",
    )
    parser.set_defaults(handler=run_report)


def run_report(args) -> int:
    try:
        return _run_report(args)
    except OSError as error:
        # A folder given for a file, an unreadable result or a full disk.
        target = error.filename or "a report file"
        reason = error.strerror or str(error)
        raise HarnessError(f"cannot use {target}: {reason.lower()}.") from None


def _run_report(args) -> int:
    if args.verify:
        return _verify(args.verify)

    report_dir = Path(args.report_dir)
    results = load_results(report_dir / "conformance.json")
    markdown_path, html_path = write_summaries(results, report_dir)
    print(f"Verdict: {verdict_of(results).upper()}")
    print(f"Summary: {markdown_path} and {html_path}")

    results_dir = report_dir / ALLURE_RESULTS
    if results_dir.is_dir():
        prepare_results(results_dir, report_dir / ALLURE_REPORT, results)

    # The bundle comes before the HTML report, so a failing Node.js setup never
    # costs the evidence.
    if args.bundle:
        _write_bundle(report_dir, None if args.bundle is True else Path(args.bundle))

    if not args.no_allure:
        _build_allure(report_dir)
    return 0


def _write_bundle(report_dir: Path, output: Path | None) -> None:
    bundle_path = build_bundle(report_dir, output)
    check = verify_bundle(bundle_path)
    if not check.ok:
        raise HarnessError(
            f"the bundle {bundle_path} failed its own check: {check.problems[0]}."
        )
    print(f"Evidence bundle: {bundle_path} (SHA-256 {sha256_of_file(bundle_path)})")


def _verify(path: Path) -> int:
    result = verify_bundle(path)
    if result.ok:
        print(f"{path}: all {result.checked} files match the manifest.")
        return 0
    for problem in result.problems:
        print(f"{path}: {problem}", file=sys.stderr)
    return 1


def _build_allure(report_dir: Path) -> None:
    results_dir = report_dir / ALLURE_RESULTS
    if not results_dir.is_dir():
        print(
            f"Allure report skipped: {results_dir} does not exist, so the run wrote "
            "no Allure results."
        )
        return
    try:
        command = allure_command()
    except AllureUnavailable as error:
        print(f"Allure report skipped: {error}")
        return

    output = generate_allure_report(command, results_dir, report_dir)
    print(f"Allure report: {output / 'index.html'}")


def find_allure_cli(start: Path | None = None) -> Path | None:
    """Return node_modules/allure/cli.js near the working folder or this package."""
    configured = os.environ.get(ALLURE_CLI_VARIABLE)
    if configured:
        return Path(configured) if Path(configured).is_file() else None

    package_root = Path(__file__).resolve().parents[2]
    start = (start or Path.cwd()).resolve()
    for folder in [start, *start.parents, package_root]:
        candidate = folder / "node_modules" / "allure" / "cli.js"
        if candidate.is_file():
            return candidate
    return None


def allure_command() -> list[str]:
    """Return the words that start the Allure 3 CLI, or raise AllureUnavailable."""
    node = shutil.which("node")
    if node is None:
        raise AllureUnavailable(
            "Node.js (node) is not on PATH; install Node.js 20 or later and run "
            "'npm ci' in the project folder."
        )
    cli = find_allure_cli()
    if cli is None:
        raise AllureUnavailable(
            "the npm package 'allure' is not installed; run 'npm ci' in the project "
            f"folder or set {ALLURE_CLI_VARIABLE} to its cli.js."
        )
    return [node, str(cli)]


def prepare_results(results_dir: Path, previous_report: Path, results: dict) -> None:
    """Add environment, categories and an Allure 2 history to the results if missing."""
    # allure_labels is also a pytest plugin and imports pytest, which takes
    # a few tenths of a second, so it is loaded only when a report is built.
    from giponext_conformance.allure_labels import write_categories, write_environment

    if not (results_dir / "environment.properties").is_file():
        write_environment(results_dir, results.get("target"))
    if not (results_dir / "categories.json").is_file():
        write_categories(results_dir)

    previous_history = previous_report / "history"
    if previous_history.is_dir():
        shutil.copytree(previous_history, results_dir / "history", dirs_exist_ok=True)


def allure_config(report_dir: Path) -> dict:
    """Return the Allure 3 configuration: name, history file, categories, grouping."""
    from giponext_conformance.allure_labels import CATEGORIES

    return {
        "name": REPORT_NAME,
        "historyPath": str((report_dir / ALLURE_HISTORY).resolve()),
        "plugins": {
            "awesome": {
                "options": {
                    "reportName": REPORT_NAME,
                    "reportLanguage": "en",
                    "groupBy": ["epic", "feature", "story"],
                }
            }
        },
        "categories": {
            "rules": [
                {key: value for key, value in category.items() if key != "description"}
                for category in CATEGORIES
            ]
        },
    }


def generate_allure_report(
    command: list[str], results_dir: Path, report_dir: Path
) -> Path:
    """Run `allure generate` and return the folder of the HTML report."""
    output = (report_dir / ALLURE_REPORT).resolve()
    with tempfile.TemporaryDirectory(prefix="giponext-allure-") as scratch:
        config_path = Path(scratch) / "allurerc.json"
        config_path.write_text(json.dumps(allure_config(report_dir), indent=2), "utf-8")
        words = [
            *command,
            "generate",
            str(results_dir.resolve()),
            "--config",
            str(config_path),
            "--output",
            str(output),
        ]
        logger.info("running %s", " ".join(words))
        try:
            completed = subprocess.run(
                words,
                capture_output=True,
                text=True,
                timeout=ALLURE_TIMEOUT_SECONDS,
                cwd=scratch,
                env={**os.environ, "ALLURE_AGENT_STATE_DIR": scratch, "NO_COLOR": "1"},
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise HarnessError(
                f"allure generate timed out after {ALLURE_TIMEOUT_SECONDS} s on "
                f"{results_dir}."
            ) from None

    if completed.returncode != 0 or not (output / "index.html").is_file():
        detail = (
            _last_line(completed.stderr) or _last_line(completed.stdout) or "no output"
        )
        raise HarnessError(
            f"allure generate failed with exit status {completed.returncode}: {detail}."
        )
    return output


def _last_line(text: str) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1] if lines else ""
