"""Rule verdicts: recording checks in scenarios and summing them up per rule.

Steps report what they checked through `Verdicts` (the `verdicts` fixture).
`RunRecorder` keeps one record per scenario, derives the status of every rule
of the catalogue, writes conformance.json and formats the console summary.

Status of a rule across the run, strongest first:
- failed: a check of a SHALL or MOCK rule failed, or a scenario tagged with
  the rule stopped on an error before it checked the rule;
- warning: a check of a SHOULD rule (or a SHOULD clause of a SHALL rule)
  failed, or the rule got only notes from `warn()` and no passing check;
- passed: at least one check passed;
- not-run: no scenario checked it.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from giponext_conformance import __version__
from giponext_conformance.catalogue import LEVELS, load_rules

RULE_STATUSES = ("passed", "failed", "warning", "not-run")

# Kinds of recorded check results.
PASSED = "pass"
FAIL = "fail"
SHORTFALL = "shortfall"  # a failed check at SHOULD level
NOTE = "note"  # a warning that is not a failed check, such as Basic in use


class RuleCheckFailed(AssertionError):
    """A failed check of a SHALL or MOCK rule; it fails the scenario."""

    def __init__(self, rule: str, message: str):
        super().__init__(f"{rule}: {message}")
        self.rule = rule
        self.message = message


@dataclass(frozen=True)
class CheckResult:
    rule: str
    kind: str
    message: str


class Verdicts:
    """Check results of one scenario, keyed by rule id of the catalogue."""

    def __init__(self):
        self.results: list[CheckResult] = []
        self.failed_check = False

    def check(self, rule_id: str, ok: bool, message: str, *, level: str | None = None):
        """Record whether the target met `rule_id`; return `ok`.

        `message` states expected versus found. A failed check raises
        RuleCheckFailed when the rule (or `level`, for a SHOULD clause inside a
        SHALL rule) is SHALL or MOCK; at SHOULD it records a warning and the
        scenario goes on.
        """
        rule = _rule(rule_id)
        level = level or rule.level
        if level not in LEVELS:
            raise ValueError(f"unknown level {level!r}; use one of {LEVELS}")

        if ok:
            self.results.append(CheckResult(rule_id, PASSED, message))
            return True
        if level == "SHOULD":
            self.results.append(CheckResult(rule_id, SHORTFALL, message))
            return False
        self.results.append(CheckResult(rule_id, FAIL, message))
        self.failed_check = True
        raise RuleCheckFailed(rule_id, message)

    def warn(self, rule_id: str, message: str) -> None:
        """Record a warning about `rule_id` without failing or passing it."""
        _rule(rule_id)
        self.results.append(CheckResult(rule_id, NOTE, message))

    def checked(self, rule_id: str) -> bool:
        return any(result.rule == rule_id for result in self.results)


def _rule(rule_id: str):
    rules = load_rules()
    if rule_id not in rules:
        raise KeyError(f"unknown rule id {rule_id!r}; known ids: {', '.join(rules)}")
    return rules[rule_id]


@dataclass
class ScenarioRecord:
    """What one scenario did: outcome, duration, tags and its check results."""

    name: str
    feature: str
    tags: list[str]
    outcome: str  # passed, failed or skipped
    duration: float
    results: list[CheckResult] = field(default_factory=list)
    # One line explaining a failure that no check explains, or a skip.
    reason: str | None = None
    # True when the scenario failed on a failed check rather than an error.
    failed_on_check: bool = False

    @property
    def rule_ids(self) -> list[str]:
        """Rules tagged on the scenario or checked by it, in catalogue order."""
        rules = load_rules()
        named = set(self.tags) | {result.rule for result in self.results}
        return [rule_id for rule_id in rules if rule_id in named]


@dataclass
class RuleVerdict:
    status: str = "not-run"
    messages: list[str] = field(default_factory=list)
    scenarios: list[dict] = field(default_factory=list)


class RunRecorder:
    """Collects scenario records for one run and builds conformance.json."""

    def __init__(self, target: dict | None = None):
        self.started = datetime.now(UTC)
        self._started_monotonic = time.monotonic()
        self.target = target or {}
        self.scenarios: list[ScenarioRecord] = []
        # Check results that belong to the run rather than one scenario.
        self.run_results: list[CheckResult] = []

    def add(self, record: ScenarioRecord) -> None:
        self.scenarios.append(record)

    def rule_verdicts(self) -> dict[str, RuleVerdict]:
        verdicts = {rule_id: RuleVerdict() for rule_id in load_rules()}
        kinds: dict[str, set[str]] = {rule_id: set() for rule_id in verdicts}

        for result in self.run_results:
            _note_result(verdicts, kinds, result)
        for record in self.scenarios:
            for result in record.results:
                _note_result(verdicts, kinds, result)
            _note_unchecked_rules(verdicts, kinds, record)
            entry = {
                "name": record.name,
                "feature": record.feature,
                "outcome": record.outcome,
            }
            for rule_id in record.rule_ids:
                verdicts[rule_id].scenarios.append(entry)

        for rule_id, verdict in verdicts.items():
            verdict.status = _status(kinds[rule_id])
        _explain_not_run(verdicts, self.scenarios)
        return verdicts

    def build_report(self) -> dict:
        finished = datetime.now(UTC)
        rules = load_rules()
        verdicts = self.rule_verdicts()
        summary = dict.fromkeys(RULE_STATUSES, 0)
        for verdict in verdicts.values():
            summary[verdict.status] += 1

        shall_failed = any(
            verdict.status == "failed" and rules[rule_id].level == "SHALL"
            for rule_id, verdict in verdicts.items()
        )
        return {
            "harness": {"name": "giponext-conformance", "version": __version__},
            "target": self.target,
            "started": self.started.isoformat(timespec="seconds"),
            "finished": finished.isoformat(timespec="seconds"),
            "duration_seconds": round(time.monotonic() - self._started_monotonic, 3),
            "verdict": "failed" if shall_failed else "passed",
            "summary": summary,
            "rules": {
                rule_id: {
                    "level": rules[rule_id].level,
                    "statement": rules[rule_id].statement,
                    "status": verdict.status,
                    "messages": verdict.messages,
                    "scenarios": verdict.scenarios,
                }
                for rule_id, verdict in verdicts.items()
            },
            "scenarios": [
                {
                    "name": record.name,
                    "feature": record.feature,
                    "tags": record.tags,
                    "outcome": record.outcome,
                    "duration": round(record.duration, 3),
                    "rules": record.rule_ids,
                }
                for record in self.scenarios
            ],
        }


def _note_result(verdicts, kinds, result: CheckResult) -> None:
    kinds[result.rule].add(result.kind)
    if result.kind != PASSED and result.message not in verdicts[result.rule].messages:
        verdicts[result.rule].messages.append(result.message)


def _note_unchecked_rules(verdicts, kinds, record: ScenarioRecord) -> None:
    """Fail the tagged rules that a scenario never reached because of an error.

    A scenario that stops on a failed check has already said why; one that
    stops on anything else (an unreachable target, a broken step) leaves its
    tagged rules unproven, and a run must not report them as merely not run.
    """
    if record.outcome != "failed" or record.failed_on_check:
        return
    checked = {result.rule for result in record.results}
    reason = record.reason or "the scenario failed"
    for rule_id in record.tags:
        if rule_id in verdicts and rule_id not in checked:
            message = f"scenario '{record.name}' stopped before checking it: {reason}"
            _note_result(verdicts, kinds, CheckResult(rule_id, FAIL, message))


def _explain_not_run(verdicts, records) -> None:
    """Give each not-run rule the reasons its tagged scenarios were skipped.

    conformance.json then states why a rule was not checked, for example
    that the RIS-PACS delivered no report within the timeout.
    """
    for record in records:
        if record.outcome != "skipped" or not record.reason:
            continue
        message = f"scenario '{record.name}' was skipped: {record.reason}"
        for rule_id in record.tags:
            verdict = verdicts.get(rule_id)
            if verdict is None or verdict.status != "not-run":
                continue
            if message not in verdict.messages:
                verdict.messages.append(message)


def _status(kinds: set[str]) -> str:
    if FAIL in kinds:
        return "failed"
    if SHORTFALL in kinds:
        return "warning"
    if PASSED in kinds:
        return "passed"
    if NOTE in kinds:
        return "warning"
    return "not-run"


def write_report(report: dict, path) -> Path:
    """Write conformance.json atomically, so a reader never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", "utf-8")
    os.replace(partial, path)
    return path


def summary_lines(report: dict, conformance_path=None) -> list[str]:
    """Format the console summary: failed rules first, one line each, then totals."""
    rules = report["rules"]
    target = report.get("target") or {}
    where = target.get("ris_url") or "unknown target"
    if target.get("bundled"):
        where += " (bundled mock RIS-PACS"
        where += (
            f", quirks: {', '.join(target['quirks'])})" if target.get("quirks") else ")"
        )

    lines = [f"GipoNext conformance of {where}: {report['verdict'].upper()}"]
    # Passed rules with messages carry notes, such as Basic authentication in use.
    sections = (
        ("failed", "Failed rules"),
        ("warning", "Warnings"),
        ("passed", "Notes"),
    )
    for status, title in sections:
        listed = [
            (rule_id, entry)
            for rule_id, entry in rules.items()
            if entry["status"] == status and (entry["messages"] or status != "passed")
        ]
        if listed:
            lines.append(f"{title}:")
        for rule_id, entry in listed:
            reason = entry["messages"][0] if entry["messages"] else "no reason recorded"
            lines.append(f"  {rule_id:<8} {entry['level']:<6} {_one_line(reason)}")

    passed = [
        rule_id for rule_id, entry in rules.items() if entry["status"] == "passed"
    ]
    if passed:
        lines.append(f"Passed: {', '.join(passed)}")
    counts = report["summary"]
    lines.append(
        f"Rules: {counts['passed']} passed, {counts['failed']} failed, "
        f"{counts['warning']} warning, {counts['not-run']} not run; "
        f"{len(report['scenarios'])} scenarios in {report['duration_seconds']:.1f} s"
    )
    seed = report["harness"].get("seed")
    if seed is not None:
        lines.append(f"Seed: {seed} (pass --seed {seed} to generate the same data)")
    if conformance_path is not None:
        lines.append(f"Report: {conformance_path}")
    return lines


def _one_line(text: str, limit: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
