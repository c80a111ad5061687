"""Concurrent corrections and withdrawals of one report stay consistent."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from conftest import TENANT

WORKERS = 8
ROUNDS = 3


def _race(server, path, requests_to_send):
    barrier = threading.Barrier(len(requests_to_send))

    def send(arguments):
        method, body, headers = arguments
        barrier.wait()
        return server.request(method, path, body, headers=headers).status_code

    with ThreadPoolExecutor(len(requests_to_send)) as pool:
        return list(pool.map(send, requests_to_send))


def test_same_if_match_has_one_winner(giponext_server):
    server = giponext_server()
    server.request("POST", body=server.report)
    path = f"/{server.report['id']}"

    for round_number in range(1, ROUNDS + 1):
        tag = {"If-Match": f'W/"{round_number}"'}
        bodies = [
            (
                "PUT",
                {**server.report, "status": "corrected", "conclusion": f"w{worker}"},
                tag,
            )
            for worker in range(WORKERS)
        ]
        statuses = _race(server, path, bodies)

        assert sorted(statuses) == [200] + [409] * (WORKERS - 1)

    versions = server.mock.state.report_versions(TENANT, server.report["id"])
    assert [version for version, _withdrawn in versions] == list(range(1, ROUNDS + 2))


def test_put_and_delete_race(giponext_server):
    server = giponext_server()
    server.request("POST", body=server.report)
    path = f"/{server.report['id']}"
    tag = {"If-Match": 'W/"1"'}
    racing = [("PUT", {**server.report, "status": "corrected"}, tag)] * (WORKERS // 2)
    racing += [("DELETE", None, tag)] * (WORKERS // 2)

    statuses = _race(server, path, racing)

    # Exactly one request names version 1 while it is current. The others
    # see version 2 (a correction or a withdrawal) and are rejected.
    assert statuses.count(200) == 1
    assert all(status in (409, 410) for status in statuses if status != 200)
    versions = server.mock.state.report_versions(TENANT, server.report["id"])
    assert [version for version, _withdrawn in versions] == [1, 2]


def test_unconditional_updates_never_lost(giponext_server):
    server = giponext_server()
    server.request("POST", body=server.report)
    path = f"/{server.report['id']}"
    bodies = [
        ("PUT", {**server.report, "status": "amended", "conclusion": f"w{worker}"}, {})
        for worker in range(WORKERS)
    ]

    statuses = _race(server, path, bodies)

    assert statuses == [200] * WORKERS
    versions = server.mock.state.report_versions(TENANT, server.report["id"])
    assert [version for version, _withdrawn in versions] == list(range(1, WORKERS + 2))
    conclusions = {server.mock.state.report(TENANT, server.report["id"])["conclusion"]}
    assert conclusions <= {f"w{worker}" for worker in range(WORKERS)}
