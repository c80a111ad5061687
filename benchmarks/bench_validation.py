"""Measure the throughput of each validation layer on generated payloads.

Run: python benchmarks/bench_validation.py [--sets N] [--repeat R]

Generates N sets of (Patient, ProcedureRequest, DiagnosticReport) with the
Faker fixtures and encodes them as bytes. It then times every layer alone and
the whole engine over the payloads of each type, in R rounds, keeping the best
time of each. The
baseline is what a server using fhir.resources alone would do: json.loads and
model_validate. Prints resources per second and the ratio of the full engine
to that baseline. This is a measurement, not a test: nothing fails.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

from giponext_conformance.breakers import valid_set
from giponext_conformance.validation import attachments, dumps, validate_bytes
from giponext_conformance.validation.base import check_base
from giponext_conformance.validation.italian import check_italian
from giponext_conformance.validation.jsonlayer import parse_json
from giponext_conformance.validation.profiles import (
    check_profile,
    check_profile_reference,
    python_validators,
    rust_validators,
)
from giponext_conformance.validation.stu3types import model_class

RESOURCE_TYPES = ("Patient", "ProcedureRequest", "DiagnosticReport")


def generate(sets: int) -> list[tuple[str, bytes, dict]]:
    payloads = []
    for seed in range(sets):
        resources = valid_set(seed)
        for resource_type in RESOURCE_TYPES:
            body = dumps(resources.of_type(resource_type)).encode("utf-8")
            payloads.append((resource_type, body, parse_json(body).resource))
    return payloads


def fhir_resources_parse(resource_type, body, _parsed):
    model_class(resource_type).model_validate(json.loads(body))


def layers():
    return {
        "fhir.resources parse (baseline)": fhir_resources_parse,
        "json layer": lambda _t, body, _p: parse_json(body),
        "base layer": lambda t, _b, parsed: check_base(parsed, t),
        "profile layer (jsonschema-rs)": lambda t, _b, parsed: check_profile(parsed, t),
        "profile layer (jsonschema)": lambda t, _b, parsed: check_profile_reference(
            parsed, t
        ),
        "italian layer": lambda t, _b, parsed: check_italian(parsed, t),
        "full engine (validate_bytes)": lambda t, body, _p: validate_bytes(body, t),
    }


def time_group(function, group) -> float:
    # Every generated report carries its own PDF; forgetting the parsed ones
    # makes each run pay for opening them, as a server would.
    attachments.clear_pdf_cache()
    start = time.perf_counter()
    for resource_type, body, parsed in group:
        function(resource_type, body, parsed)
    return time.perf_counter() - start


def best_times(payloads, repeat: int) -> dict:
    """Return {(layer, resource type): best seconds} over `repeat` rounds.

    Each round times every layer in turn, so a change in machine load during
    the run affects all layers alike rather than the last ones measured.
    """
    groups = {
        resource_type: [p for p in payloads if p[0] == resource_type]
        for resource_type in RESOURCE_TYPES
    }
    best = {}
    for _ in range(repeat):
        for name, function in layers().items():
            for resource_type, group in groups.items():
                seconds = time_group(function, group)
                key = (name, resource_type)
                best[key] = min(best.get(key, float("inf")), seconds)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sets", type=int, default=1000, help="resource sets (default 1000)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per layer")
    args = parser.parse_args()

    started = time.perf_counter()
    payloads = generate(args.sets)
    print(
        f"generated {len(payloads)} payloads in {time.perf_counter() - started:.1f} s"
    )
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs"
    print(f"python {platform.python_version()}, {machine}")

    # Compile the schemas and warm caches outside the timed runs.
    rust_validators()
    python_validators()
    for resource_type, body, _parsed in payloads[:3]:
        validate_bytes(body, resource_type)

    best = best_times(payloads, args.repeat)
    counts = {t: sum(1 for p in payloads if p[0] == t) for t in RESOURCE_TYPES}
    header = " ".join(f"{t:>17}" for t in RESOURCE_TYPES)
    print(f"\n{'layer (resources per second)':34} {'all':>9} {header}")
    totals = {}
    for name in layers():
        totals[name] = sum(best[(name, t)] for t in RESOURCE_TYPES)
        cells = " ".join(
            f"{counts[t] / best[(name, t)]:>17,.0f}" for t in RESOURCE_TYPES
        )
        print(f"{name:34} {len(payloads) / totals[name]:>9,.0f} {cells}")

    baseline = "fhir.resources parse (baseline)"
    print()
    for name in ("full engine (validate_bytes)", "profile layer (jsonschema)"):
        ratios = " ".join(
            f"{t} {best[(name, t)] / best[(baseline, t)]:.2f}x" for t in RESOURCE_TYPES
        )
        print(f"{name} / baseline: {totals[name] / totals[baseline]:.2f}x ({ratios})")


if __name__ == "__main__":
    main()
