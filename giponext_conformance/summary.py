"""Certification summary in Markdown and HTML, built from conformance.json.

A vendor or an auditor reads the summary first. It shows the overall verdict,
the target, when the run happened and the harness version. Then it lists one
row per rule with its level, status and evidence, which is the
expected-versus-found messages and the scenarios that checked the rule. Failed
rules come first, then warnings, rules never run and passed rules, each group
in catalogue order. The HTML page is self-contained (inline CSS, no script, no
external resource), so it opens from an archive or a CI artifact.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path

from giponext_conformance import __version__
from giponext_conformance.catalogue import load_rules
from giponext_conformance.errors import InputFileError
from giponext_conformance.redact import redact_text

STATUS_ORDER = ("failed", "warning", "not-run", "passed")

STATUS_LABELS = {
    "failed": "FAILED",
    "warning": "WARNING",
    "not-run": "NOT RUN",
    "passed": "PASSED",
}

# Plain-text markers keep the Markdown readable where colour is not available.
STATUS_MARKERS = {"failed": "✗", "warning": "!", "not-run": "–", "passed": "✓"}

SUMMARY_MARKDOWN = "summary.md"
SUMMARY_HTML = "summary.html"


@dataclass(frozen=True)
class RuleRow:
    """One line of the rule table."""

    rule_id: str
    level: str
    status: str
    statement: str
    messages: tuple[str, ...]
    scenarios: tuple[dict, ...]


def load_results(path: str | Path) -> dict:
    """Read conformance.json, raising InputFileError when it is missing or invalid."""
    path = Path(path)
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise InputFileError(
            f"{path} does not exist. Run 'giponext-conformance run' first."
        ) from None
    except OSError as error:
        raise InputFileError(f"{path} cannot be read: {error.strerror}.") from None

    try:
        results = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputFileError(
            f"{path} is not valid JSON (line {error.lineno}, column {error.colno})."
        ) from None

    if not isinstance(results, dict) or not isinstance(results.get("rules"), dict):
        raise InputFileError(
            f"{path} has no 'rules' object, so it is not a conformance.json."
        )
    return results


def rule_rows(results: dict) -> list[RuleRow]:
    """Return the rule rows, failed first, each status in catalogue order."""
    catalogue_order = {rule_id: index for index, rule_id in enumerate(load_rules())}
    rows = [_rule_row(rule_id, entry) for rule_id, entry in results["rules"].items()]

    def sort_key(row: RuleRow):
        status_rank = (
            STATUS_ORDER.index(row.status) if row.status in STATUS_ORDER else 0
        )
        return (
            status_rank,
            catalogue_order.get(row.rule_id, len(catalogue_order)),
            row.rule_id,
        )

    return sorted(rows, key=sort_key)


def _rule_row(rule_id: str, entry: dict) -> RuleRow:
    catalogue = load_rules()
    known = catalogue.get(rule_id)
    return RuleRow(
        rule_id=rule_id,
        level=entry.get("level") or (known.level if known else "?"),
        status=entry.get("status", "not-run"),
        statement=entry.get("statement") or (known.statement if known else ""),
        messages=tuple(
            redact_text(str(message)) for message in entry.get("messages", [])
        ),
        scenarios=tuple(entry.get("scenarios", [])),
    )


def verdict_of(results: dict) -> str:
    """Return "passed" or "failed". Any failed SHALL rule makes the verdict "failed"."""
    verdict = results.get("verdict")
    failed_shall = any(
        entry.get("status") == "failed" and entry.get("level") == "SHALL"
        for entry in results["rules"].values()
    )
    if failed_shall:
        return "failed"
    return verdict if verdict in ("passed", "failed") else "failed"


def target_lines(results: dict) -> list[tuple[str, str]]:
    """Return (label, value) pairs describing the target, credentials masked."""
    target = results.get("target") or {}
    quirks = ", ".join(target.get("quirks") or []) or "none"
    return [
        ("RIS-PACS", redact_text(str(target.get("ris_url") or "not given"))),
        ("GipoNext", redact_text(str(target.get("giponext_url") or "bundled mock"))),
        ("Bundled mocks", "yes" if target.get("bundled") else "no"),
        ("Quirks", quirks),
        ("Outcome flow", "checked" if target.get("outcome") else "not checked"),
    ]


def run_lines(results: dict) -> list[tuple[str, str]]:
    """Return (label, value) pairs for when the run happened and what ran it."""
    harness = results.get("harness") or {}
    duration = results.get("duration_seconds")
    return [
        ("Started", str(results.get("started") or "unknown")),
        ("Finished", str(results.get("finished") or "unknown")),
        (
            "Duration",
            f"{duration:.1f} s" if isinstance(duration, int | float) else "unknown",
        ),
        (
            "Harness",
            f"{harness.get('name', 'giponext-conformance')} "
            f"{harness.get('version', 'unknown')}",
        ),
        ("Summary built by", f"giponext-conformance {__version__}"),
    ]


def count_statuses(rows: list[RuleRow]) -> dict[str, int]:
    counts = dict.fromkeys(STATUS_ORDER, 0)
    for row in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    return counts


def scenario_evidence(row: RuleRow) -> list[str]:
    """Return one "outcome: feature / scenario" line per scenario of a rule."""
    return [
        f"{scenario.get('outcome', '?')}: {scenario.get('feature', '?')} / "
        f"{scenario.get('name', '?')}"
        for scenario in row.scenarios
    ]


# ---------------------------------------------------------------- Markdown


def _markdown_cell(text: str) -> str:
    # A pipe or a line break would end the table cell early.
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", "<br>")


def render_markdown(results: dict) -> str:
    """Render the certification summary as GitHub-flavoured Markdown."""
    rows = rule_rows(results)
    verdict = verdict_of(results)
    counts = count_statuses(rows)
    lines = [
        "# GipoNext conformance summary",
        "",
        f"**Verdict: {verdict.upper()}**  ",
        ", ".join(
            f"{counts[status]} {STATUS_LABELS[status].lower()}"
            for status in STATUS_ORDER
        ),
        "",
        "| Target | |",
        "|---|---|",
        *(
            f"| {label} | {_markdown_cell(value)} |"
            for label, value in target_lines(results)
        ),
        "",
        "| Run | |",
        "|---|---|",
        *(
            f"| {label} | {_markdown_cell(value)} |"
            for label, value in run_lines(results)
        ),
        "",
    ]

    failed = [row for row in rows if row.status == "failed"]
    if failed:
        lines += ["## Failed rules", ""]
        for row in failed:
            reason = row.messages[0] if row.messages else "no message recorded"
            lines.append(f"- **{row.rule_id}** ({row.level}): {_markdown_cell(reason)}")
        lines.append("")

    lines += [
        "## Rules",
        "",
        "| Rule | Level | Status | Evidence |",
        "|---|---|---|---|",
    ]
    for row in rows:
        marker = STATUS_MARKERS.get(row.status, "?")
        status = f"{marker} {STATUS_LABELS.get(row.status, row.status)}"
        if row.status == "failed":
            status = f"**{status}**"
        evidence = list(row.messages) + scenario_evidence(row)
        evidence_cell = (
            "<br>".join(_markdown_cell(item) for item in evidence) or "no scenario"
        )
        lines.append(f"| {row.rule_id} | {row.level} | {status} | {evidence_cell} |")

    lines += [
        "",
        "## Scenarios",
        "",
        "| Outcome | Feature | Scenario | Rules |",
        "|---|---|---|---|",
    ]
    for scenario in _ordered_scenarios(results):
        lines.append(
            f"| {scenario.get('outcome', '?')} "
            f"| {_markdown_cell(str(scenario.get('feature', '')))} "
            f"| {_markdown_cell(str(scenario.get('name', '')))} "
            f"| {', '.join(scenario.get('rules', []))} |"
        )
    return "\n".join(lines) + "\n"


def _ordered_scenarios(results: dict) -> list[dict]:
    order = {"failed": 0, "skipped": 1, "passed": 2}
    scenarios = list(results.get("scenarios") or [])
    return sorted(scenarios, key=lambda scenario: order.get(scenario.get("outcome"), 0))


# -------------------------------------------------------------------- HTML

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1b1f24; }
h1 { margin-bottom: 0.5rem; }
.verdict { display: inline-block; padding: 0.4rem 1rem; border-radius: 4px;
  font-size: 1.4rem; font-weight: bold; color: #fff; }
.verdict.passed { background: #1a7f37; }
.verdict.failed { background: #cf222e; }
table { border-collapse: collapse; margin: 1rem 0; width: 100%; }
th, td { border: 1px solid #d0d7de; padding: 0.35rem 0.6rem; text-align: left;
  vertical-align: top; }
th { background: #f6f8fa; }
table.facts { width: auto; }
tr.failed td { background: #ffebe9; }
tr.warning td { background: #fff8c5; }
tr.not-run td { background: #f6f8fa; color: #57606a; }
tr.passed td { background: #dafbe1; }
td.status { font-weight: bold; white-space: nowrap; }
tr.failed td.status { color: #cf222e; }
ul.evidence { margin: 0; padding-left: 1.1rem; }
.statement { color: #57606a; font-size: 0.9rem; }
"""


def render_html(results: dict) -> str:
    """Render the certification summary as one self-contained HTML page."""
    rows = rule_rows(results)
    verdict = verdict_of(results)
    counts = count_statuses(rows)
    escape = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>GipoNext conformance summary</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>GipoNext conformance summary</h1>",
        f'<p><span id="verdict" class="verdict {verdict}">'
        f"Verdict: {verdict.upper()}</span></p>",
        "<p>"
        + ", ".join(
            f"{counts[status]} {STATUS_LABELS[status].lower()}"
            for status in STATUS_ORDER
        )
        + "</p>",
        _html_facts("Target", target_lines(results)),
        _html_facts("Run", run_lines(results)),
    ]

    failed = [row for row in rows if row.status == "failed"]
    if failed:
        parts.append('<h2>Failed rules</h2><ul id="failed-rules">')
        for row in failed:
            reason = row.messages[0] if row.messages else "no message recorded"
            parts.append(
                f"<li><strong>{escape(row.rule_id)}</strong> ({escape(row.level)}): "
                f"{escape(reason)}</li>"
            )
        parts.append("</ul>")

    parts.append(
        '<h2>Rules</h2><table id="rules"><thead><tr><th>Rule</th><th>Level</th>'
        "<th>Status</th><th>Evidence</th></tr></thead><tbody>"
    )
    for row in rows:
        parts.append(_html_rule_row(row))
    parts.append("</tbody></table>")

    parts.append(
        '<h2>Scenarios</h2><table id="scenarios"><thead><tr><th>Outcome</th>'
        "<th>Feature</th><th>Scenario</th><th>Rules</th></tr></thead><tbody>"
    )
    for scenario in _ordered_scenarios(results):
        outcome = str(scenario.get("outcome", "?"))
        css_class = {"failed": "failed", "skipped": "not-run"}.get(outcome, "passed")
        parts.append(
            f'<tr class="{css_class}"><td class="status">{escape(outcome)}</td>'
            f"<td>{escape(str(scenario.get('feature', '')))}</td>"
            f"<td>{escape(str(scenario.get('name', '')))}</td>"
            f"<td>{escape(', '.join(scenario.get('rules', [])))}</td></tr>"
        )
    parts.append("</tbody></table></body></html>")
    return "\n".join(parts) + "\n"


def _html_facts(title: str, facts: list[tuple[str, str]]) -> str:
    cells = "".join(
        f"<tr><th>{html.escape(label)}</th><td>{html.escape(value)}</td></tr>"
        for label, value in facts
    )
    return f'<h2>{html.escape(title)}</h2><table class="facts">{cells}</table>'


def _html_rule_row(row: RuleRow) -> str:
    escape = html.escape
    evidence = [escape(message) for message in row.messages]
    evidence += [escape(line) for line in scenario_evidence(row)]
    evidence_html = (
        '<ul class="evidence">'
        + "".join(f"<li>{item}</li>" for item in evidence)
        + "</ul>"
        if evidence
        else "no scenario"
    )
    status_class = row.status if row.status in STATUS_ORDER else "failed"
    return (
        f'<tr class="{status_class}" data-rule="{escape(row.rule_id)}" '
        f'data-status="{escape(row.status)}">'
        f"<td>{escape(row.rule_id)}"
        f'<div class="statement">{escape(row.statement)}</div></td>'
        f"<td>{escape(row.level)}</td>"
        f'<td class="status">{STATUS_MARKERS.get(row.status, "?")} '
        f"{escape(STATUS_LABELS.get(row.status, row.status))}</td>"
        f"<td>{evidence_html}</td></tr>"
    )


def write_summaries(results: dict, directory: str | Path) -> tuple[Path, Path]:
    """Write summary.md and summary.html into directory and return both paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    markdown_path = directory / SUMMARY_MARKDOWN
    html_path = directory / SUMMARY_HTML
    markdown_path.write_text(render_markdown(results), "utf-8")
    html_path.write_text(render_html(results), "utf-8")
    return markdown_path, html_path
