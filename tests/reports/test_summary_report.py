"""Certification summary rendered from a hand-made conformance.json."""

from __future__ import annotations

import json
import re

import pytest

from giponext_conformance.errors import InputFileError
from giponext_conformance.summary import (
    load_results,
    render_html,
    render_markdown,
    rule_rows,
    verdict_of,
    write_summaries,
)


def test_rows_put_failed_rule_first(quirk_results):
    rows = rule_rows(quirk_results)

    assert [row.rule_id for row in rows] == [
        "PR-03",
        "AUTH-04",
        "DR-05",
        "TRN-01",
        "PAT-01",
    ]
    assert rows[0].status == "failed"
    assert rows[0].messages == (
        "expected 4xx for PUT ProcedureRequest/PR-7001, found 200",
    )


def test_verdict_failed_when_shall_failed(quirk_results):
    quirk_results["verdict"] = "passed"

    assert verdict_of(quirk_results) == "failed"


def test_verdict_passed_without_failures(passing_results):
    assert verdict_of(passing_results) == "passed"


def test_markdown_lists_failed_rule_at_top(quirk_results):
    text = render_markdown(quirk_results)

    assert "**Verdict: FAILED**" in text
    failed_section = text.index("## Failed rules")
    rules_section = text.index("## Rules")
    assert failed_section < rules_section
    assert (
        "- **PR-03** (SHALL): expected 4xx for PUT ProcedureRequest/PR-7001, found 200"
        in text
    )
    table_rows = [
        line for line in text.splitlines() if re.match(r"\| [A-Z]+-\d\d \|", line)
    ]
    assert table_rows[0].startswith("| PR-03 | SHALL | **✗ FAILED** |")
    assert "| Harness | giponext-conformance 0.1.0 |" in text
    assert "| RIS-PACS | https://127.0.0.1:8443/fhir |" in text
    assert "| Quirks | mutable-procedurerequest |" in text


def test_markdown_escapes_pipes_in_messages(quirk_results):
    quirk_results["rules"]["PR-03"]["messages"] = ["expected a|b, found c"]

    text = render_markdown(quirk_results)

    assert "expected a\\|b, found c" in text


def test_html_colours_failed_row(quirk_results):
    page = render_html(quirk_results)

    first_row = re.search(r'<tr class="(\w[\w-]*)" data-rule="([^"]+)"', page)
    assert first_row.group(1) == "failed"
    assert first_row.group(2) == "PR-03"
    assert "tr.failed td { background: #ffebe9; }" in page
    assert '<span id="verdict" class="verdict failed">Verdict: FAILED</span>' in page


def test_html_is_self_contained(quirk_results):
    page = render_html(quirk_results)

    assert "<script" not in page
    assert "http://" not in page
    assert re.search(r'(src|href)="https?:', page) is None


def test_html_escapes_markup_in_messages(quirk_results):
    quirk_results["rules"]["PR-03"]["messages"] = ["expected <b>4xx</b>, found 200"]

    page = render_html(quirk_results)

    assert "expected &lt;b&gt;4xx&lt;/b&gt;, found 200" in page
    assert "<b>4xx</b>" not in page


def test_secrets_in_target_are_masked(quirk_results):
    quirk_results["target"]["ris_url"] = (
        "https://127.0.0.1:8443/fhir?api_key=s3cr3tvalue"
    )

    text = render_markdown(quirk_results)
    page = render_html(quirk_results)

    assert "s3cr3tvalue" not in text
    assert "s3cr3tvalue" not in page
    assert "[REDACTED]" in text


def test_write_summaries_creates_both_files(tmp_path, quirk_results):
    markdown_path, html_path = write_summaries(quirk_results, tmp_path / "out")

    assert markdown_path.read_text("utf-8").startswith("# GipoNext conformance summary")
    assert html_path.read_text("utf-8").startswith("<!DOCTYPE html>")


def test_load_results_rejects_missing_file(tmp_path):
    with pytest.raises(
        InputFileError, match="does not exist. Run 'giponext-conformance run'"
    ):
        load_results(tmp_path / "conformance.json")


def test_load_results_rejects_invalid_json(tmp_path):
    path = tmp_path / "conformance.json"
    path.write_text("{not json", "utf-8")

    with pytest.raises(InputFileError, match=r"is not valid JSON \(line 1, column 2\)"):
        load_results(path)


def test_load_results_rejects_other_json(tmp_path):
    path = tmp_path / "conformance.json"
    path.write_text(json.dumps({"rules": []}), "utf-8")

    with pytest.raises(InputFileError, match="has no 'rules' object"):
        load_results(path)
