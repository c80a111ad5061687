"""The outcome suite catches every report quirk of the mock RIS-PACS's sender.

For each quirk in REPORT_QUIRKS the outcome scenarios run against the
bundled mock as a user would run them (`giponext-conformance run
--report-quirk NAME`). Exactly the rules the quirk lists must stop passing,
and with no quirk nothing may fail or warn. The runs are subprocesses, two
at a time.
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from giponext_conformance.mocks.ris_pacs.report_quirks import REPORT_QUIRKS

CORRECT = "correct"
RUN_TIMEOUT = 300

# The scenarios where the bundled RIS-PACS's sender delivers reports.
FLOW_TAGS = "FLOW-02 or GAUTH-06"


def _run(quirk: str, report_dir) -> dict:
    arguments = [
        sys.executable,
        "-m",
        "giponext_conformance",
        "run",
        "--features",
        "outcome",
        "--tags",
        FLOW_TAGS,
        "--report-dir",
        str(report_dir),
    ]
    if quirk != CORRECT:
        arguments += ["--report-quirk", quirk]
    completed = subprocess.run(
        arguments, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False
    )
    path = report_dir / "conformance.json"
    return {
        "status": completed.returncode,
        "report": json.loads(path.read_text("utf-8")) if path.is_file() else None,
        "output": completed.stdout[-3000:] + completed.stderr[-1000:],
    }


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    names = [CORRECT, *sorted(REPORT_QUIRKS)]
    folders = {name: tmp_path_factory.mktemp(f"report-quirk-{name}") for name in names}
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(_run, name, folders[name]) for name in names}
        return {name: future.result() for name, future in futures.items()}


def _not_passed(report: dict) -> set[str]:
    return {
        rule_id
        for rule_id, entry in report["rules"].items()
        if entry["status"] in ("failed", "warning")
    }


def test_correct_sender_passes(runs):
    result = runs[CORRECT]

    assert result["status"] == 0, result["output"]
    assert _not_passed(result["report"]) == set()
    assert result["report"]["rules"]["FLOW-02"]["status"] == "passed"
    assert result["report"]["rules"]["GAUTH-06"]["status"] == "passed"


@pytest.mark.parametrize("quirk", sorted(REPORT_QUIRKS))
def test_quirk_breaks_its_rules(runs, quirk):
    result = runs[quirk]
    expected = set(REPORT_QUIRKS[quirk][1])

    assert result["report"] is not None, result["output"]
    assert _not_passed(result["report"]) == expected, result["output"]


@pytest.mark.parametrize("quirk", sorted(REPORT_QUIRKS))
def test_exit_status_follows_shall_rules(runs, quirk):
    result = runs[quirk]
    shall_broken = REPORT_QUIRKS[quirk][1] != ("GAUTH-06",)

    assert result["status"] == (1 if shall_broken else 0), result["output"]
