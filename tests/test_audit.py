"""The audit log: a hash chain that catches edited, deleted and inserted rows, on both databases."""

from __future__ import annotations

import threading

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, update

from seawall.api.app import create_app
from seawall.api.auth import create_key
from seawall.audit import entries, record, record_store, verify
from seawall.audit.schema import audit_head, audit_log
from seawall.cli import main
from seawall.embedded import Embedded


def _fill(store, n: int = 5) -> None:
    for i in range(n):
        record_store(store, actor=f"user:{i % 2}", action="case.view", target=f"case:{i}", details={"i": i, "note": "ü"})


def test_chain_verifies_and_reads_back(store):
    _fill(store)
    result = verify(store)
    assert result["ok"], result
    assert result["entries"] == 5 and result["head"]["seq"] == 5
    rows = entries(store, actor="user:1")
    assert [e.target for e in rows] == ["case:1", "case:3"]
    assert rows[0].details == {"i": 1, "note": "ü"}
    assert rows[1].prev_hash == entries(store, target="case:2")[0].hash


def test_record_rolls_back_with_the_change(store):
    with pytest.raises(RuntimeError):
        with store.engine.begin() as conn:
            record(conn, actor="user:1", action="case.decide", target="case:9")
            raise RuntimeError("the decision failed")
    assert entries(store) == []
    _fill(store, 2)
    assert verify(store)["ok"] and [e.seq for e in entries(store)] == [1, 2]


def test_edited_row_is_named(store):
    _fill(store)
    with store.engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == 3).values(actor="user:someone-else"))
    result = verify(store)
    assert not result["ok"]
    assert {p["seq"] for p in result["problems"]} == {3}
    assert "edited" in result["problems"][0]["reason"]


def test_deleted_middle_row_is_caught(store):
    _fill(store)
    with store.engine.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.seq == 2))
    result = verify(store)
    assert not result["ok"]
    assert any("missing" in p["reason"] and p["seq"] == 3 for p in result["problems"])


def test_deleted_newest_row_is_caught_by_the_head(store):
    _fill(store)
    with store.engine.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.seq == 5))
    result = verify(store)
    assert not result["ok"] and "head" in result["problems"][0]["reason"]


def test_rewritten_row_with_recomputed_hash_breaks_the_next_link(store):
    _fill(store)
    import hashlib

    with store.engine.begin() as conn:
        row = conn.execute(select(audit_log).where(audit_log.c.seq == 2)).one()
        forged = hashlib.sha256(b"forged").hexdigest()
        conn.execute(update(audit_log).where(audit_log.c.seq == 2).values(hash=forged))
    result = verify(store)
    seqs = {p["seq"] for p in result["problems"]}
    assert 2 in seqs and 3 in seqs, result
    assert row.hash != forged


def test_chain_key_makes_the_hash_unforgeable_without_it(store, monkeypatch):
    monkeypatch.setenv("SEAWALL_AUDIT_KEY", "k" * 32)
    _fill(store, 3)
    assert verify(store)["ok"] and verify(store)["keyed"]
    monkeypatch.setenv("SEAWALL_AUDIT_KEY", "a-different-key")
    assert not verify(store)["ok"]


def test_anchor_must_still_be_in_the_log(store):
    _fill(store, 3)
    head = verify(store)["head"]
    assert verify(store, [(head["seq"], head["hash"])])["ok"]
    assert not verify(store, [(head["seq"], "f" * 64)])["ok"]
    assert not verify(store, [(99, head["hash"])])["ok"]


def test_concurrent_writers_keep_one_chain(store):
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(25):
                record_store(store, actor=f"user:{n}", action="case.view", target=f"case:{i}")
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    result = verify(store)
    assert result["ok"], result["problems"][:3]
    assert result["entries"] == 100
    with store.engine.connect() as conn:
        assert conn.execute(select(audit_head.c.last_seq)).scalar_one() == 100


def test_cli_verify_fails_on_tampering_and_anchor_round_trips(store, database_url):
    runner = CliRunner()
    db = ["--database", database_url]
    r = runner.invoke(main, [*db, "keys", "create", "--role", "auditor", "--name", "ops"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(main, [*db, "audit", "list"])
    assert '"action": "key.create"' in r.output and '"role": "auditor"' in r.output
    anchor = runner.invoke(main, [*db, "audit", "anchor"]).output.strip()
    assert runner.invoke(main, [*db, "audit", "verify", "--anchor", anchor]).exit_code == 0
    assert runner.invoke(main, [*db, "audit", "verify", "--anchor", "1:nothex"]).exit_code == 2
    with store.engine.begin() as conn:
        conn.execute(update(audit_log).values(details='{"role":"admin"}'))
    r = runner.invoke(main, [*db, "audit", "verify"])
    assert r.exit_code == 1 and "edited" in r.output


def test_api_audits_case_views_and_serves_the_log(settings):
    runtime = Embedded(settings)
    try:
        client = TestClient(create_app(runtime))
        ingest = create_key(runtime.store, "ingest")
        auditor = create_key(runtime.store, "auditor")
        reviewer = create_key(runtime.store, "reviewer")
        post = {"type": "post", "id": "p9", "account_id": "a9", "text": "I will kill you all at the office",
                "created_at": "2015-06-01T10:00:00Z"}
        assert client.post("/v1/events", json=[post], headers={"Authorization": f"Bearer {ingest}"}).status_code == 202
        runtime.worker.drain()
        cases = client.get("/v1/cases", headers={"Authorization": f"Bearer {reviewer}"}).json()["cases"]
        assert cases, "the threat should have opened a case"
        case_id = cases[0]["id"]
        assert client.get(f"/v1/cases/{case_id}", headers={"Authorization": f"Bearer {reviewer}"}).status_code == 200
        log = client.get("/v1/audit", params={"action": "case.view"},
                         headers={"Authorization": f"Bearer {auditor}"}).json()["entries"]
        assert [(e["actor"], e["target"]) for e in log] == [(f"key:{reviewer[3:15]}", f"case:{case_id}")]
        assert client.get("/v1/audit/verify", headers={"Authorization": f"Bearer {auditor}"}).json()["ok"]
        assert client.get("/v1/audit", headers={"Authorization": f"Bearer {reviewer}"}).status_code == 403
    finally:
        runtime.stop()
        runtime.store.close()
