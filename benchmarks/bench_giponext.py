"""Measure the GipoNext mock's report intake over TLS on this machine.

Run: python benchmarks/bench_giponext.py [--reports N] [--threads T]

Starts the GipoNext mock with a per-run CA under cheroot and a SQLite file in
a temporary folder, registers N generated orders, and POSTs one generated
DiagnosticReport (with a real PDF) for each from T client threads, each with
its own keep-alive session. Then it corrects every report with PUT and
If-Match. Every request is validated, cross-checked, stored and journalled.
Prints requests per second and latency percentiles for both passes. This is
a measurement, not a test: nothing fails.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from giponext_conformance.breakers import valid_set
from giponext_conformance.mocks.giponext import GipoNextConfig, TenantConfig, create_app
from giponext_conformance.serving import start_server
from giponext_conformance.tls import RunCA

TENANT = "tenant-bench"
API_KEY = "gpn_bench_key_Hq7Zx2"

_sessions = threading.local()


def session_for(ca_path) -> requests.Session:
    session = getattr(_sessions, "session", None)
    if session is None:
        session = requests.Session()
        session.trust_env = False
        session.verify = str(ca_path)
        session.headers["Authorization"] = f"Bearer {API_KEY}"
        session.headers["Content-Type"] = "application/fhir+json"
        _sessions.session = session
    return session


def timed(job, ca_path) -> tuple[float, int]:
    method, url, body, headers = job
    started = time.perf_counter()
    response = session_for(ca_path).request(method, url, data=body, headers=headers)
    return time.perf_counter() - started, response.status_code


def run_pass(name, jobs, threads, ca_path) -> None:
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(lambda job: timed(job, ca_path), jobs))
    elapsed = time.perf_counter() - started

    latencies = sorted(seconds * 1000 for seconds, _status in results)
    statuses = sorted({status for _seconds, status in results})
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    print(
        f"{name:<12} {len(jobs) / elapsed:8.1f} req/s   median"
        f" {statistics.median(latencies):6.1f} ms   p95 {p95:6.1f} ms"
        f"   statuses {statuses}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=200, help="reports to send")
    parser.add_argument("--threads", type=int, default=4, help="client threads")
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="bench-giponext-")
    authority = RunCA(os.path.join(folder, "tls"))
    cert_path, key_path = authority.issue()
    config = GipoNextConfig(
        tenants={TENANT: TenantConfig([API_KEY])},
        db_path=os.path.join(folder, "giponext.sqlite3"),
    )
    app = create_app(config)

    sets = [valid_set(seed) for seed in range(args.reports)]
    for resources in sets:
        app.giponext.register_order(
            TENANT, resources.procedure_request, resources.patient
        )
    bodies = [json.dumps(resources.diagnostic_report).encode() for resources in sets]
    size = statistics.mean(len(body) for body in bodies) / 1024

    print(
        f"Python {platform.python_version()} on {platform.machine()},"
        f" {os.cpu_count()} CPUs"
    )
    print(
        f"{args.reports} reports of {size:.0f} KiB on average, {args.threads} threads"
    )
    with start_server(app, cert_path=cert_path, key_path=key_path) as server:
        url = f"{server.url}/fhir/r3/{TENANT}/DiagnosticReport"
        posts = [("POST", url, body, None) for body in bodies]
        run_pass("POST", posts, args.threads, authority.ca_cert_path)

        corrections = []
        for resources in sets:
            report = {**resources.diagnostic_report, "status": "corrected"}
            corrections.append(
                (
                    "PUT",
                    f"{url}/{report['id']}",
                    json.dumps(report).encode(),
                    {"If-Match": 'W/"1"'},
                )
            )
        run_pass("PUT If-Match", corrections, args.threads, authority.ca_cert_path)
    app.giponext.close()


if __name__ == "__main__":
    main()
