"""Redaction of Allure results: step parameters, failure details and attachments.

allure-pytest-bdd records every argument of a step function as a step
parameter, using the argument's repr, so an object that contains a credential
would write it into the results. This pytest plugin (its own pytest11 entry
point) registers an Allure reporter hook that runs before the file writer
and masks secrets (redact.py) in parameter values and failure messages, and
one that runs after it and rewrites text attachments with secrets masked.
"""

from __future__ import annotations

import logging
from pathlib import Path

import allure_commons
from allure_commons import hookimpl

from giponext_conformance.redact import redact_text

logger = logging.getLogger(__name__)


def _redact_details(item) -> None:
    details = getattr(item, "statusDetails", None)
    if details is not None:
        details.message = (
            redact_text(details.message) if details.message else details.message
        )
        details.trace = redact_text(details.trace) if details.trace else details.trace


def redact_result(item) -> None:
    """Mask secrets in the parameters and failure details of a result and its steps."""
    for parameter in getattr(item, "parameters", None) or ():
        if isinstance(parameter.value, str):
            parameter.value = redact_text(parameter.value)
    _redact_details(item)
    for step in getattr(item, "steps", None) or ():
        redact_result(step)


def _redact_file(path: Path) -> None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        # Binary attachments (screenshots, PDFs) carry no text to mask.
        return
    masked = redact_text(text)
    if masked != text:
        path.write_text(masked, encoding="utf-8")


class RedactingReporter:
    """Allure reporter hooks that mask secrets before and after the file writer."""

    def __init__(self, results_dir):
        self.results_dir = Path(results_dir).absolute()

    @hookimpl(tryfirst=True)
    def report_result(self, result):
        redact_result(result)

    @hookimpl(tryfirst=True)
    def report_container(self, container):
        redact_result(container)

    @hookimpl(trylast=True)
    def report_attached_data(self, body, file_name):
        _redact_file(self.results_dir / file_name)

    @hookimpl(trylast=True)
    def report_attached_file(self, source, file_name):
        _redact_file(self.results_dir / file_name)


def pytest_configure(config):
    results_dir = getattr(config.option, "allure_report_dir", None)
    if not results_dir:
        return
    reporter = RedactingReporter(results_dir)
    allure_commons.plugin_manager.register(reporter)
    config.add_cleanup(lambda: allure_commons.plugin_manager.unregister(reporter))
