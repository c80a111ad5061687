"""The intake suite catches every deliberate mistake of the mock RIS-PACS.

For each quirk in QUIRKS the suite runs against the bundled mock with that
quirk on, as a user would (`giponext-conformance run --quirk NAME`). Exactly
the rules the quirk lists must stop passing. With fewer, the suite misses the
mistake, and with more, it blames the wrong rule. Against the correct mock
nothing may fail or warn.

The runs are subprocesses started two at a time, since each spends most of
its time starting Python and the mock, and CI machines have two cores.
"""

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from giponext_conformance.catalogue import load_rules
from giponext_conformance.mocks.ris_pacs import QUIRKS

CORRECT = "correct"

# Seconds one run may take before the test gives up on it.
RUN_TIMEOUT = 300


def _run_suite(quirk: str, report_dir) -> dict:
    arguments = [
        sys.executable,
        "-m",
        "giponext_conformance",
        "run",
        "--features",
        "intake",
    ]
    if quirk != CORRECT:
        arguments += ["--quirk", quirk]
    arguments += ["--report-dir", str(report_dir)]

    started = time.monotonic()
    completed = subprocess.run(
        arguments, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False
    )
    elapsed = time.monotonic() - started
    path = report_dir / "conformance.json"
    report = json.loads(path.read_text("utf-8")) if path.is_file() else None
    return {
        "status": completed.returncode,
        "report": report,
        "output": completed.stdout[-4000:] + completed.stderr[-2000:],
        "seconds": elapsed,
    }


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Run the suite once per quirk and once on the correct mock; key by quirk."""
    names = [CORRECT, *QUIRKS]
    folders = {name: tmp_path_factory.mktemp(f"quirk-{name}") for name in names}
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(_run_suite, name, folders[name]) for name in names}
        results = {name: future.result() for name, future in futures.items()}
    print(
        f"\n{len(names)} intake runs took {time.monotonic() - started:.1f} s in total; "
        + ", ".join(
            f"{name} {result['seconds']:.1f} s" for name, result in results.items()
        )
    )
    return results


def _not_passed(report: dict) -> set[str]:
    return {
        rule_id
        for rule_id, entry in report["rules"].items()
        if entry["status"] in ("failed", "warning")
    }


def test_correct_mock_passes_every_rule(runs):
    result = runs[CORRECT]
    report = result["report"]

    assert report is not None, result["output"]
    assert _not_passed(report) == set(), result["output"]
    assert report["verdict"] == "passed"
    assert result["status"] == 0
    assert report["summary"]["passed"] >= 20


@pytest.mark.parametrize("quirk", sorted(QUIRKS))
def test_quirk_breaks_exactly_its_rules(runs, quirk):
    result = runs[quirk]
    report = result["report"]
    expected = set(QUIRKS[quirk][1])

    assert report is not None, result["output"]
    assert report["target"]["quirks"] == [quirk]
    assert _not_passed(report) == expected, result["output"]


@pytest.mark.parametrize("quirk", sorted(QUIRKS))
def test_quirk_exit_status_follows_shall(runs, quirk):
    result = runs[quirk]
    rules = load_rules()
    shall_failed = any(
        entry["status"] == "failed" and rules[rule_id].level == "SHALL"
        for rule_id, entry in result["report"]["rules"].items()
    )

    assert result["status"] == (1 if shall_failed else 0), result["output"]
