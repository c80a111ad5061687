"""`giponext-conformance generate`: print valid or rule-breaking payloads.

Valid payloads come from the Faker fixtures (all personal data generated);
with --break RULE-ID each payload breaks exactly that rule, as the engine
reports it. Output is JSON, an array when --count is above 1; a payload that
breaks TRN-06 is malformed JSON on purpose, so those are printed one after
the other, separated by a blank line.
"""

from __future__ import annotations

from giponext_conformance.errors import UsageError

RESOURCE_NAMES = {
    "patient": "Patient",
    "procedure-request": "ProcedureRequest",
    "diagnostic-report": "DiagnosticReport",
}
MAX_COUNT = 10_000


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "generate",
        help="print generated payloads, valid or breaking one rule",
        description=(
            "Print generated FHIR STU3 payloads shaped as GipoNext sends and "
            "expects them. With --break, each payload breaks exactly the named rule."
        ),
    )
    parser.add_argument(
        "resource", choices=tuple(RESOURCE_NAMES), help="resource to generate"
    )
    parser.add_argument(
        "--count",
        type=int,
        default=1,
        help=f"number of payloads, 1 to {MAX_COUNT} (default 1)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the first payload; payload n uses seed + n (default 0)",
    )
    parser.add_argument(
        "--break",
        dest="break_rule",
        metavar="RULE-ID",
        help="make every payload break this rule, such as PR-06",
    )
    parser.set_defaults(handler=run_generate)


def run_generate(args) -> int:
    # The generators and the validation engine take about a second to
    # import, so they are loaded only when payloads are generated.
    from giponext_conformance.validation import dumps

    if not 1 <= args.count <= MAX_COUNT:
        raise UsageError(
            f"--count must be between 1 and {MAX_COUNT}, not {args.count}."
        )
    resource_type = RESOURCE_NAMES[args.resource]
    rule_id = args.break_rule.strip().upper() if args.break_rule else None

    payloads = [
        _payload(resource_type, rule_id, args.seed + offset)
        for offset in range(args.count)
    ]
    if any(isinstance(payload, bytes) for payload in payloads):
        print("\n\n".join(payload.decode("utf-8") for payload in payloads))
    elif len(payloads) == 1:
        print(dumps(payloads[0], indent=2))
    else:
        print(dumps(payloads, indent=2))
    return 0


def _payload(resource_type: str, rule_id: str | None, seed: int):
    from giponext_conformance import breakers

    if rule_id is None:
        return breakers.valid_payload(resource_type, seed)
    return breakers.break_payload(resource_type, rule_id, seed)
