"""Measure the mock RIS-PACS intake throughput over TLS on this machine.

Run: python benchmarks/bench_ris_pacs.py [--intakes N] [--threads T]

Starts the mock with a per-run CA under cheroot and a SQLite file in a
temporary folder, generates N (Patient, ProcedureRequest) pairs with the
Faker fixtures, and sends each pair as GipoNext does (PUT Patient, then POST
ProcedureRequest) from T client threads, each with its own keep-alive
session. Then it repeats every request, which the mock must recognise as
unchanged. Prints requests per second and latency percentiles for both
passes. This is a measurement, not a test: nothing fails.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from giponext_conformance.fixtures.providers import build_intake
from giponext_conformance.mocks.ris_pacs import RisPacsConfig, close_app, create_app
from giponext_conformance.serving import start_server
from giponext_conformance.tls import RunCA
from giponext_conformance.validation import dumps

TOKEN = "bench-token-Q8v3Kd"  # noqa: S105  # a throwaway credential for this run

_sessions = threading.local()


def session_for(ca_path) -> requests.Session:
    session = getattr(_sessions, "session", None)
    if session is None:
        session = requests.Session()
        # The run CA must win over any CA bundle variable in the environment.
        session.trust_env = False
        session.verify = str(ca_path)
        session.headers.update(
            {
                "Authorization": f"Bearer {TOKEN}",
                "Content-Type": "application/fhir+json",
            }
        )
        _sessions.session = session
    return session


def send_intake(url, ca_path, pair) -> list[tuple[int, float]]:
    patient_body, order_body, patient_id = pair
    session = session_for(ca_path)
    timings = []
    for method, path, body in (
        ("PUT", f"/Patient/{patient_id}", patient_body),
        ("POST", "/ProcedureRequest", order_body),
    ):
        started = time.perf_counter()
        response = session.request(method, f"{url}{path}", data=body, timeout=60)
        timings.append((response.status_code, time.perf_counter() - started))
    return timings


def run_pass(url, ca_path, pairs, threads) -> tuple[float, list[tuple[int, float]]]:
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(pool.map(lambda pair: send_intake(url, ca_path, pair), pairs))
    elapsed = time.perf_counter() - started
    return elapsed, [timing for intake in results for timing in intake]


def report(label, elapsed, timings) -> None:
    latencies = sorted(seconds * 1000 for _, seconds in timings)
    statuses = sorted({status for status, _ in timings})
    percentiles = statistics.quantiles(latencies, n=100)
    print(
        f"{label:<22} {len(timings):>6} requests {len(timings) / elapsed:>8.1f}/s"
        f"  p50 {percentiles[49]:6.1f} ms  p95 {percentiles[94]:6.1f} ms"
        f"  statuses {statuses}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--intakes", type=int, default=200)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()

    pairs = []
    for seed in range(args.intakes):
        patient, order, _ = build_intake(seed)
        pairs.append((dumps(patient).encode(), dumps(order).encode(), patient["id"]))

    with tempfile.TemporaryDirectory() as folder:
        authority = RunCA(folder)
        cert_path, key_path = authority.issue()
        app = create_app(RisPacsConfig(token=TOKEN, db_path=f"{folder}/bench.sqlite3"))
        try:
            with start_server(app, cert_path=cert_path, key_path=key_path) as server:
                ca_path = authority.ca_cert_path
                print(
                    f"Python {platform.python_version()}, {os.cpu_count()} CPUs, "
                    f"{args.threads} client threads, {args.intakes} intakes"
                )
                report(
                    "first delivery",
                    *run_pass(server.url, ca_path, pairs, args.threads),
                )
                report(
                    "identical repeat",
                    *run_pass(server.url, ca_path, pairs, args.threads),
                )
        finally:
            close_app(app)


if __name__ == "__main__":
    main()
