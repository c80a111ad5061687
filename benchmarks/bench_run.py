"""Wall time of the full default run against the bundled mocks.

Runs `giponext-conformance run` (every feature group, bundled mock RIS-PACS
and GipoNext mock) several times, each in a fresh Python process as a user
would start it. Prints the minimum and median wall time, the run's own "Run
finished in" figure, and the slowest scenarios by median duration
(`scenarios[].duration` in conformance.json). The machine's CPU count and load
average are printed before and after, since other jobs on the machine change
the figures. A slow run never fails the benchmark, and a run that exits
non-zero is reported.

    /tmp/venv/bin/python benchmarks/bench_run.py --runs 3 --top 10
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMAND = [sys.executable, "-m", "giponext_conformance", "run"]

# Seconds one run may take before the benchmark stops it.
RUN_TIMEOUT = 600

FINISHED = re.compile(r"Run finished in ([0-9.]+) s\.")


def machine_line() -> str:
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return (
        f"{os.cpu_count()} CPUs, {platform.system()} {platform.machine()},"
        f" Python {platform.python_version()}, load average {load}"
    )


def run_once(report_dir: Path, extra: list[str]) -> dict:
    """Run the suite once; return its wall time, exit status and scenarios."""
    started = time.monotonic()
    completed = subprocess.run(
        [*COMMAND, "--report-dir", str(report_dir), *extra],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    wall = time.monotonic() - started

    reported = FINISHED.search(completed.stdout)
    scenarios = []
    conformance = report_dir / "conformance.json"
    if conformance.is_file():
        scenarios = json.loads(conformance.read_text("utf-8")).get("scenarios", [])
    return {
        "wall": wall,
        "reported": float(reported.group(1)) if reported else None,
        "status": completed.returncode,
        "scenarios": scenarios,
        "tail": completed.stderr.strip().splitlines()[-3:],
    }


def slowest(runs: list[dict], top: int) -> list[tuple[float, str]]:
    """Return (median seconds, 'feature | scenario') of the slowest scenarios."""
    durations: dict[str, list[float]] = {}
    for run in runs:
        for scenario in run["scenarios"]:
            key = f"{scenario['feature']} | {scenario['name']}"
            durations.setdefault(key, []).append(scenario["duration"])
    ranked = sorted(
        ((statistics.median(values), key) for key, values in durations.items()),
        reverse=True,
    )
    return ranked[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs", type=int, default=3, help="number of runs (default 3)"
    )
    parser.add_argument(
        "--top", type=int, default=10, help="slowest scenarios to list (default 10)"
    )
    parser.add_argument(
        "run_options",
        nargs="*",
        help="options passed on to `run`, after `--` (e.g. -- --features intake)",
    )
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    print(f"Machine: {machine_line()}")
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-run-") as folder:
        for number in range(1, args.runs + 1):
            run = run_once(Path(folder) / f"run-{number}", args.run_options)
            runs.append(run)
            reported = run["reported"]
            print(
                f"run {number}: {run['wall']:.1f} s wall, exit status {run['status']},"
                f" {len(run['scenarios'])} scenarios"
                + (f", 'Run finished in {reported:.1f} s'" if reported else "")
            )
            if run["status"] != 0:
                for line in run["tail"]:
                    print(f"    {line}")

    walls = [run["wall"] for run in runs]
    print(
        f"Wall time over {len(walls)} runs: min {min(walls):.1f} s,"
        f" median {statistics.median(walls):.1f} s, max {max(walls):.1f} s"
    )
    print(f"Slowest scenarios (median of {len(runs)} runs):")
    for seconds, name in slowest(runs, args.top):
        print(f"  {seconds:6.2f} s  {name}")
    print(f"Machine after the runs: {machine_line()}")


if __name__ == "__main__":
    main()
