"""Steps shared by every intake feature: how the RIS-PACS answered.

Phrases offered:
    Then the RIS-PACS rejects the request as invalid
    Then the RIS-PACS rejects the request as unprocessable
    Then the RIS-PACS rejects the request as too large
    Then the RIS-PACS rejects the media type
    Then the RIS-PACS asks for authentication
    Then the answer is labelled as FHIR JSON
    Then the answer explains the error with an OperationOutcome

The rejection steps judge the one rule tagged on the scenario, so a phrase
serves TRN-06, TRN-07, PAT-02 and others alike. They read the `response`
fixture, the Exchange that the scenario's last When step returned.

Helpers for the other step modules: `judge_status`, `scenario_rule`,
`RecordedResource` and `check_unchanged`.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from pytest_bdd import then

from giponext_conformance.client import FHIR_JSON, Exchange, FhirClient
from giponext_conformance.errors import UsageError
from giponext_conformance.results import Verdicts

# Elements a server maintains itself; they are left out when stored content is
# compared with what GipoNext sent.
SERVER_ELEMENTS = ("meta", "text")

STATUS_NAMES = {
    200: "200 OK",
    201: "201 Created",
    400: "400 Bad Request",
    401: "401 Unauthorized",
    404: "404 Not Found",
    409: "409 Conflict",
    413: "413 Payload Too Large",
    415: "415 Unsupported Media Type",
    422: "422 Unprocessable Entity",
}


@dataclass
class RecordedResource:
    """A resource GipoNext built, its path on the RIS-PACS and what was read back.

    `stored` is the resource as last read from the RIS-PACS, or None when it
    was never sent or the RIS-PACS does not support reading it.
    """

    resource: dict
    path: str
    stored: dict | None = None

    @property
    def id(self) -> str:
        return self.resource["id"]

    @property
    def type(self) -> str:
        return self.resource["resourceType"]


def scenario_rule(scenario_rules: list[str]) -> str:
    """Return the one rule a shared step judges; the scenario must tag exactly one."""
    if len(scenario_rules) != 1:
        raise UsageError(
            "this step judges the rule tagged on its scenario, so the scenario "
            f"needs exactly one rule tag; it has {scenario_rules or 'none'}"
        )
    return scenario_rules[0]


def status_name(status: int) -> str:
    return STATUS_NAMES.get(status, str(status))


def judge_status(
    verdicts: Verdicts, rule: str, response: Exchange, expected: int, **options
) -> bool:
    """Check that `response` has status `expected`; the message compares the two."""
    message = f"expected {status_name(expected)}; {response.describe()}"
    return verdicts.check(rule, response.status == expected, message, **options)


def content_of(resource: dict | None) -> dict | None:
    """Return a resource without the elements that the server maintains."""
    if resource is None:
        return None
    return {key: value for key, value in resource.items() if key not in SERVER_ELEMENTS}


def id_from_location(location: str | None, resource_type: str) -> str | None:
    """Return the logical id in a Location URL ([base]/Type/id[/_history/v])."""
    if not location:
        return None
    segments = urlsplit(location).path.strip("/").split("/")
    for index, segment in enumerate(segments[:-1]):
        if segment == resource_type:
            return segments[index + 1]
    return None


def check_unchanged(verdicts: Verdicts, rule: str, ris: FhirClient, recorded) -> None:
    """Read the resource again and check that a rejected request changed nothing."""
    if recorded.stored is None:
        verdicts.warn(
            rule,
            f"could not confirm that {recorded.path} is unchanged, because the "
            "RIS-PACS did not return it when it was read before the request",
        )
        return

    now = ris.get(recorded.path)
    found = now.resource if now.status == 200 else None
    before_version = (recorded.stored.get("meta") or {}).get("versionId")
    now_version = ((found or {}).get("meta") or {}).get("versionId")
    unchanged = content_of(found) == content_of(recorded.stored) and (
        before_version == now_version
    )
    verdicts.check(
        rule,
        unchanged,
        f"expected {recorded.path} unchanged after the rejected request "
        f"(version {before_version}); {now.describe()}, version {now_version}",
    )


def _judge_rejection(verdicts, scenario_rules, response, expected: int) -> None:
    rule = scenario_rule(scenario_rules)
    judge_status(verdicts, rule, response, expected)


@then("the RIS-PACS rejects the request as invalid")
def rejects_as_invalid(verdicts, scenario_rules, response):
    _judge_rejection(verdicts, scenario_rules, response, 400)


@then("the RIS-PACS rejects the request as unprocessable")
def rejects_as_unprocessable(verdicts, scenario_rules, response):
    _judge_rejection(verdicts, scenario_rules, response, 422)


@then("the RIS-PACS rejects the request as too large")
def rejects_as_too_large(verdicts, scenario_rules, response):
    _judge_rejection(verdicts, scenario_rules, response, 413)


@then("the RIS-PACS rejects the media type")
def rejects_media_type(verdicts, scenario_rules, response):
    _judge_rejection(verdicts, scenario_rules, response, 415)


@then("the RIS-PACS asks for authentication")
def asks_for_authentication(verdicts, scenario_rules, response):
    _judge_rejection(verdicts, scenario_rules, response, 401)


@then("the answer is labelled as FHIR JSON")
def labelled_as_fhir_json(verdicts, response):
    # The rule covers responses that carry a resource or an OperationOutcome.
    # A plain-text error is judged by the OperationOutcome step instead.
    if response.resource_type is None:
        return
    verdicts.check(
        "TRN-04",
        response.media_type == FHIR_JSON,
        f"expected Content-Type {FHIR_JSON}; {response.describe()} "
        f"with Content-Type {response.content_type or 'missing'!r}",
    )


@then("the answer explains the error with an OperationOutcome")
def explains_error(verdicts, response):
    if response.status < 400:
        verdicts.warn(
            "TRN-05",
            f"could not judge the error body, because {response.describe()} "
            "instead of an error",
        )
        return
    verdicts.check(
        "TRN-05", not _outcome_problems(response), _outcome_message(response)
    )


def _outcome_problems(response: Exchange) -> list[str]:
    body = response.resource
    if body is None or body.get("resourceType") != "OperationOutcome":
        return ["no OperationOutcome"]
    issues = body.get("issue")
    if not isinstance(issues, list) or not issues or not isinstance(issues[0], dict):
        return ["an OperationOutcome without issues"]
    issue = issues[0]
    problems = []
    if not issue.get("severity"):
        problems.append("an issue without severity")
    if not issue.get("code"):
        problems.append("an issue without a type code")
    details = issue.get("details") if isinstance(issue.get("details"), dict) else {}
    if not issue.get("diagnostics") and not details.get("text"):
        problems.append("an issue without diagnostics or details.text")
    return problems


def _outcome_message(response: Exchange) -> str:
    problems = _outcome_problems(response)
    found = (
        ", ".join(problems) if problems else "an OperationOutcome with a readable issue"
    )
    return (
        "expected an OperationOutcome with severity, code and diagnostics; "
        f"{response.describe()} carrying {found}"
    )
