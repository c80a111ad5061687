"""Tests of the versioned SQLite resource store used by the mocks."""

import threading

import pytest

from giponext_conformance.mocks.storage import (
    ResourceExistsError,
    ResourceStore,
    content_of,
)


@pytest.fixture
def store(tmp_path):
    with ResourceStore(tmp_path / "mock.sqlite3") as store:
        yield store


def patient(family="Bianchi", **extra):
    return {
        "resourceType": "Patient",
        "id": "p1",
        "name": [{"family": family}],
        **extra,
    }


def test_put_creates_version_one(store):
    result = store.put("Patient", "p1", patient())

    assert result.created is True
    assert result.changed is True
    assert result.resource["meta"]["versionId"] == "1"
    assert result.resource["meta"]["lastUpdated"].endswith("Z")
    assert store.get("Patient", "p1")["name"] == [{"family": "Bianchi"}]


def test_identical_put_keeps_version(store):
    first = store.put("Patient", "p1", patient())

    second = store.put("Patient", "p1", first.resource)
    third = store.put("Patient", "p1", patient())

    assert second.changed is False
    assert third.changed is False
    assert third.created is False
    assert third.resource["meta"] == first.resource["meta"]
    assert store.count_versions() == 1


def test_changed_put_adds_version(store):
    store.put("Patient", "p1", patient())

    result = store.put("Patient", "p1", patient("Verdi"))

    assert result.created is False
    assert result.changed is True
    assert result.resource["meta"]["versionId"] == "2"
    assert store.get("Patient", "p1", version_id=1)["name"] == [{"family": "Bianchi"}]
    assert [v.version_id for v in store.history("Patient", "p1")] == [2, 1]


def test_put_keeps_other_meta_elements(store):
    resource = patient(meta={"profile": ["http://example.org/p"], "versionId": "9"})

    stored = store.put("Patient", "p1", resource).resource

    assert stored["meta"]["profile"] == ["http://example.org/p"]
    assert stored["meta"]["versionId"] == "1"


def test_create_rejects_existing_id(store):
    store.create("ProcedureRequest", "A1", {"resourceType": "ProcedureRequest"})

    with pytest.raises(ResourceExistsError, match="ProcedureRequest/A1"):
        store.create("ProcedureRequest", "A1", {"resourceType": "ProcedureRequest"})

    assert store.count_versions() == 1


def test_create_sets_type_and_id(store):
    stored = store.create("ProcedureRequest", "A1", {"status": "active"})

    assert stored["resourceType"] == "ProcedureRequest"
    assert stored["id"] == "A1"
    assert stored["meta"]["versionId"] == "1"


def test_delete_then_create_again(store):
    store.create("ProcedureRequest", "A1", {"status": "active"})

    assert store.delete("ProcedureRequest", "A1") is True
    assert store.delete("ProcedureRequest", "A1") is False
    assert store.get("ProcedureRequest", "A1") is None
    assert store.is_deleted("ProcedureRequest", "A1") is True

    again = store.create("ProcedureRequest", "A1", {"status": "active"})
    assert again["meta"]["versionId"] == "3"
    assert [v.deleted for v in store.history("ProcedureRequest", "A1")] == [
        False,
        True,
        False,
    ]


def test_get_missing_returns_none(store):
    assert store.get("Patient", "nobody") is None
    assert store.history("Patient", "nobody") == []
    assert store.is_deleted("Patient", "nobody") is False


def test_count_current_resources(store):
    store.put("Patient", "p1", patient())
    store.put("Patient", "p1", patient("Verdi"))
    store.put("Patient", "p2", patient())
    store.create("ProcedureRequest", "A1", {})
    store.create("ProcedureRequest", "A2", {})
    store.delete("ProcedureRequest", "A2")

    assert store.count() == 3
    assert store.count("Patient") == 2
    assert store.count("ProcedureRequest") == 1
    assert store.count_versions() == 6


def test_reopened_file_keeps_everything(tmp_path):
    path = tmp_path / "persist.sqlite3"
    with ResourceStore(path) as first:
        first.put("Patient", "p1", patient())
        first.put("Patient", "p1", patient("Verdi"))

    with ResourceStore(path) as second:
        assert second.get("Patient", "p1")["name"] == [{"family": "Verdi"}]
        assert len(second.history("Patient", "p1")) == 2
        assert second.put("Patient", "p1", patient("Verdi")).changed is False


def test_failed_transaction_rolls_back(store):
    store.put("Patient", "p1", patient())

    with pytest.raises(RuntimeError, match="abort"), store.transaction():
        store.put("Patient", "p1", patient("Verdi"))
        store.create("ProcedureRequest", "A1", {})
        raise RuntimeError("abort")

    assert store.get("Patient", "p1")["name"] == [{"family": "Bianchi"}]
    assert store.get("ProcedureRequest", "A1") is None
    assert store.count_versions() == 1


def test_extra_tables_share_transaction(store):
    with store.transaction() as connection:
        connection.execute("CREATE TABLE IF NOT EXISTS journal (entry TEXT)")

    with pytest.raises(ResourceExistsError), store.transaction() as connection:
        connection.execute("INSERT INTO journal VALUES ('x')")
        store.create("Patient", "p9", {})
        store.create("Patient", "p9", {})

    rows = store._connection().execute("SELECT COUNT(*) FROM journal").fetchone()
    assert rows[0] == 0
    assert store.get("Patient", "p9") is None


def test_wal_mode_enabled(store):
    mode = store._connection().execute("PRAGMA journal_mode").fetchone()[0]

    assert mode == "wal"


def test_temporary_store_removed_on_close():
    store = ResourceStore()
    path = store.path
    store.put("Patient", "p1", patient())

    store.close()

    assert not path.exists()


def test_closed_store_raises():
    store = ResourceStore()
    store.close()

    with pytest.raises(RuntimeError, match="closed"):
        store.get("Patient", "p1")


def test_concurrent_creates_single_winner(store):
    outcomes = []
    lock = threading.Lock()

    def attempt(n):
        try:
            store.create("ProcedureRequest", "same", {"note": [{"text": str(n)}]})
            result = "created"
        except ResourceExistsError:
            result = "exists"
        with lock:
            outcomes.append(result)

    workers = [threading.Thread(target=attempt, args=(n,)) for n in range(16)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)

    assert sorted(outcomes) == ["created"] + ["exists"] * 15
    assert store.count_versions() == 1


def test_concurrent_puts_distinct_versions(store):
    def update(n):
        for round_number in range(5):
            store.put("Patient", "p1", patient(f"F{n}-{round_number}"))

    workers = [threading.Thread(target=update, args=(n,)) for n in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)

    versions = [v.version_id for v in store.history("Patient", "p1")]
    assert versions == list(range(40, 0, -1))


def test_content_of_strips_store_meta():
    resource = {"id": "1", "meta": {"versionId": "3", "lastUpdated": "x"}}

    assert content_of(resource) == {"id": "1"}
    assert content_of({"meta": {"tag": [1], "versionId": "1"}}) == {
        "meta": {"tag": [1]}
    }
