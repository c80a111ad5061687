"""`giponext-conformance run`: certify a RIS-PACS, or the bundled mock.

Without --ris-url the suite runs against the bundled mock RIS-PACS, started
by the pytest plugin on a free loopback port over TLS. With --ris-url the
target is first probed with one request, so that an unreachable system
stops the run with one sentence instead of a page of failed scenarios.

The run executes the scenarios of the installed features package with
pytest, in this process, and writes conformance.json, junit.xml and the
Allure results into the report folder. Exit status: 0 when every SHALL rule
that ran passed, 1 when one failed, 2 for a usage error or an unreachable
target.

Every option of the pytest plugin (`harness_options()`, extensions
included) is also an option of this command and is passed through.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from importlib.resources import files
from pathlib import Path

from giponext_conformance.errors import HarnessError, UsageError

# pytest exit codes (pytest.ExitCode) that mean the suite did not run as asked.
_PYTEST_PROBLEMS = {
    2: "the run was interrupted",
    3: "pytest stopped on an internal error (see the output above)",
    4: "pytest rejected the options (see the message above)",
    5: "no scenario matched the selection",
}


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run the conformance suite against a RIS-PACS or the bundled mock",
        description=(
            "Run the conformance scenarios against the RIS-PACS at --ris-url, or "
            "against the bundled mock RIS-PACS when no URL is given, and write "
            "conformance.json, junit.xml and Allure results to the report folder."
        ),
        # The harness options come from the pytest plugin, which imports
        # pytest and the HTTP client, so they are added only for `run`.
        complete=_add_options,
    )
    parser.set_defaults(handler=run)


def _add_options(parser) -> None:
    from giponext_conformance.plugin import harness_options

    for option in harness_options():
        option.add_to(parser)
    parser.add_argument(
        "--tags",
        metavar="EXPR",
        help="run only the scenarios whose tags match this expression, "
        "for example 'PR-03 or AUTH-01' (pytest -m syntax)",
    )
    parser.add_argument(
        "--features",
        action="append",
        metavar="NAME",
        help="run only this group of features, for example 'intake' "
        "(repeatable; default: every group)",
    )


def features_folder() -> Path:
    return Path(str(files("giponext_conformance.features")))


def feature_groups() -> dict[str, Path]:
    """Return the groups of features by name: features/test_<name>.py binds <name>/."""
    return {
        module.stem.removeprefix("test_"): module
        for module in sorted(features_folder().glob("test_*.py"))
    }


def selected_paths(names) -> list[str]:
    if not names:
        return [str(features_folder())]
    groups = feature_groups()
    unknown = [name for name in names if name not in groups]
    if unknown:
        raise UsageError(
            f"unknown feature group {', '.join(unknown)}; "
            f"choose from {', '.join(groups)}"
        )
    return [str(groups[name]) for name in names]


def check_options(args) -> None:
    """Raise a HarnessError for options that cannot work, before anything starts."""
    from giponext_conformance.plugin import load_extensions
    from giponext_conformance.target import (
        check_ca_bundle,
        check_reachable,
        external_target,
    )

    if args.quirk:
        if args.ris_url:
            raise UsageError("--quirk applies to the bundled mock only; drop --ris-url")
        from giponext_conformance.mocks.ris_pacs.quirks import check_quirks

        try:
            check_quirks(args.quirk)
        except ValueError as error:
            raise UsageError(str(error)) from None
    if not math.isfinite(args.scenario_timeout) or args.scenario_timeout <= 0:
        raise UsageError("--scenario-timeout must be a positive number of seconds")
    check_ca_bundle(args.ca_bundle)
    selected_paths(args.features)

    for module in load_extensions():
        check = getattr(module, "check_run_options", None)
        if check is not None:
            check(args)

    if args.ris_url:
        target = external_target(
            args.ris_url,
            token=args.ris_token,
            basic=args.ris_basic,
            ca_bundle=args.ca_bundle,
            allow_http=args.allow_http,
        )
        check_reachable(target)


def pytest_arguments(args, report_dir: Path) -> list[str]:
    """Build the pytest command line for the run from the parsed options."""
    from giponext_conformance.plugin import harness_options

    folder = features_folder()
    arguments = [
        *selected_paths(args.features),
        # An empty configuration keeps any pytest.ini of the current folder
        # from changing how the suite runs.
        "-c",
        os.devnull,
        "--rootdir",
        str(folder.parent),
        "-p",
        "no:cacheprovider",
        # allure-pytest would record each scenario a second time beside
        # allure-pytest-bdd, so it stays unloaded wherever it is installed.
        "-p",
        "no:allure_pytest",
        "--strict-markers",
        "-W",
        "error::pytest.PytestUnknownMarkWarning",
        # The command imports the harness before pytest starts, so pytest
        # cannot rewrite asserts in its plugins; plain asserts are enough there.
        "-W",
        "ignore::pytest.PytestAssertRewriteWarning",
        f"--junitxml={report_dir / 'junit.xml'}",
        f"--alluredir={report_dir / 'allure-results'}",
        "--clean-alluredir",
    ]
    for option in harness_options():
        arguments += option.to_args(getattr(args, option.dest))
    if args.tags:
        arguments += ["-m", args.tags]
    return arguments


def run(args) -> int:
    started = time.monotonic()
    check_options(args)

    report_dir = Path(args.report_dir)
    conformance = Path(args.conformance_json or report_dir / "conformance.json")
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
        # A report left by an earlier run must not pass for this run's result.
        conformance.unlink(missing_ok=True)
    except OSError as error:
        raise HarnessError(
            f"cannot prepare the report folder {report_dir}: {error}"
        ) from None

    import pytest

    status = int(pytest.main(pytest_arguments(args, report_dir)))
    elapsed = time.monotonic() - started
    print(f"Run finished in {elapsed:.1f} s.", flush=True)

    if status in _PYTEST_PROBLEMS:
        if status == 5 and args.tags:
            raise UsageError(f"no scenario has tags matching --tags {args.tags!r}")
        raise HarnessError(_PYTEST_PROBLEMS[status])
    return _exit_status(conformance, status)


def _exit_status(conformance: Path, pytest_status: int) -> int:
    try:
        report = json.loads(conformance.read_text("utf-8"))
    except (OSError, ValueError):
        print(
            f"giponext-conformance: no report was written to {conformance}.",
            file=sys.stderr,
        )
        return 1 if pytest_status else 0
    return 0 if report.get("verdict") == "passed" else 1
