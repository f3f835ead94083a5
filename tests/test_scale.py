"""Scale-out on real Redis and PostgreSQL with `seawall worker` as real subprocesses: every event
processed once, a worker killed mid-batch is taken over, a redelivery after commit makes nothing
twice, concurrent workers keep one case per subject, SIGTERM finishes the batch."""

from __future__ import annotations

import io
import time

import orjson
import pytest
import redis
from sqlalchemy import text

from seawall.config import load_settings
from seawall.demo.generate import generate_events
from seawall.pipeline.pipeline import Batch, Pipeline
from seawall.pipeline.replay import replay_stream
from seawall.scale.broker import GROUP, BrokerConfig, connect, decode, ensure_group
from seawall.scale.enqueue import Enqueuer, enqueue_stream
from seawall.scale.verify import exactly_once_report
from seawall.storage.sql import open_store

from scale_support import WorkerProcess, broker_url, pg_db, redis_server_url, wait_for  # noqa: F401 (fixtures)

pytestmark = pytest.mark.postgres


def demo_stream(posts: int, seed: int = 11) -> bytes:
    events = generate_events(seed=seed, accounts=max(50, posts // 20), posts=posts)
    return b"\n".join(orjson.dumps(e) for e in events) + b"\n"


def enqueue(broker: str, db: str, data: bytes, batch: int = 500) -> dict:
    client = connect(broker)
    cfg = BrokerConfig(broker)
    ensure_group(client, cfg)
    store = open_store(db)
    try:
        return enqueue_stream(Enqueuer(client, cfg), store, io.BytesIO(data), "test", batch_size=batch)
    finally:
        store.close()
        client.close()


def event_count(db: str) -> int:
    store = open_store(db, migrate=False)
    try:
        with store.engine.connect() as conn:
            return int(conn.execute(text("SELECT COUNT(*) FROM events")).scalar())
    finally:
        store.close()


def report(db: str, keys=None) -> dict:
    store = open_store(db, migrate=False)
    try:
        return exactly_once_report(store.engine, keys)
    finally:
        store.close()


def pending_of(r: redis.Redis, consumer: str) -> int:
    for c in r.xinfo_consumers("seawall:events", GROUP):
        if c["name"].decode() == consumer:
            return int(c["pending"])
    return 0


def keys_of(data: bytes) -> list[str]:
    from seawall.events import parse_event

    return [parse_event(orjson.loads(line)).key() for line in data.splitlines() if line.strip()]


def test_two_workers_process_every_event_once_and_decide_as_the_embedded_default(broker_url, pg_db, tmp_path):
    data = demo_stream(1500)
    sent = enqueue(broker_url, pg_db, data)
    workers = [WorkerProcess(broker_url, pg_db, tmp_path / "home", f"w{i}", "--batch-size", "200") for i in (1, 2)]
    try:
        wait_for(lambda: event_count(pg_db) == sent["enqueued"], 120, "every event stored")
        wait_for(lambda: connect(broker_url).xlen("seawall:events") == 0, 30, "stream drained")
        states = [w.state() for w in workers]
        assert sum(s["acked"] for s in states) == sent["enqueued"]
        assert all(s["acked"] > 0 for s in states), states  # both took work
        from click.testing import CliRunner

        from seawall.cli import main

        out = CliRunner().invoke(main, ["--database", pg_db, "stats", "--json", "--broker", broker_url])
        assert out.exit_code == 0, out.output
        stats = orjson.loads(out.output)
        assert stats["broker"]["backlog"] == 0 and stats["broker"]["pending"] == 0
        assert stats["broker"]["processed_total"] == sent["enqueued"]
        assert sorted(stats["broker"]["workers_alive"]) == ["w1", "w2"]
        assert stats["dead_letters_open"]["total"] == 0
    finally:
        for w in workers:
            w.stop()
    got = report(pg_db, keys_of(data))
    assert got["lost"] == 0 and got["duplicate_cases"] == 0 and got["duplicate_actions"] == 0
    assert got["case_count_mismatch"] == 0
    # The same stream through the embedded default decides the same. Signals that remember what
    # their process saw (campaigns, returning accounts) see each worker's share of the stream only,
    # so their hits may differ (docs/operations.md); the classifier's second stage sees at most a
    # share of each batch, so its hits depend (by a post or two) on how the stream is cut into
    # batches, which differs between one process and two workers. Every other signal must agree
    # exactly, and so must the decisions whenever those three agree.
    home = tmp_path / "embedded"
    settings = load_settings(home, database=f"sqlite:///{home / 'e.db'}")
    embedded = Pipeline.from_settings(settings, open_store(settings.database_url))
    replay_stream(embedded, io.BytesIO(data))
    scaled, local = open_store(pg_db, migrate=False).stats(), embedded.store.stats()
    assert scaled["events"] == local["events"]
    varies = {"campaign", "account_link", "classifier"}
    assert ({k: v for k, v in scaled["signal_hits"].items() if k not in varies}
            == {k: v for k, v in local["signal_hits"].items() if k not in varies})
    by_batch = scaled["signal_hits"].get("classifier", 0), local["signal_hits"].get("classifier", 0)
    assert by_batch[1] > 0 and abs(by_batch[0] - by_batch[1]) <= max(2, 0.02 * by_batch[1]), by_batch
    stateful_hits = {"campaign", "account_link"} & (set(scaled["signal_hits"]) | set(local["signal_hits"]))
    if by_batch[0] == by_batch[1] and not stateful_hits:
        for key in ("verdicts", "actions"):
            assert scaled[key] == local[key], key
        assert scaled["cases"]["by_status"] == local["cases"]["by_status"]


def test_a_worker_killed_mid_batch_is_taken_over_without_duplicates(broker_url, pg_db, tmp_path):
    data = demo_stream(2500, seed=12)
    sent = enqueue(broker_url, pg_db, data)
    r = connect(broker_url)
    a = WorkerProcess(broker_url, pg_db, tmp_path / "home", "doomed", "--batch-size", "400")
    try:
        wait_for(lambda: pending_of(r, "doomed") > 0 and event_count(pg_db) > 0, 90, "worker mid-batch")
        a.kill9()
        left = pending_of(r, "doomed")
        assert left > 0  # it died holding a batch
        b = WorkerProcess(broker_url, pg_db, tmp_path / "home", "heir", "--batch-size", "400", "--claim-idle-ms", "1500")
        try:
            wait_for(lambda: event_count(pg_db) == sent["enqueued"] and r.xlen("seawall:events") == 0, 120,
                     "everything processed after the takeover")
            assert b.state()["reclaimed"] >= left
            assert pending_of(r, "doomed") == 0
        finally:
            b.stop()
    finally:
        a.stop()
    got = report(pg_db, keys_of(data))
    assert got["lost"] == 0, got
    assert got["duplicate_cases"] == 0 and got["duplicate_actions"] == 0 and got["case_count_mismatch"] == 0, got


def test_redelivery_after_commit_before_ack_makes_no_second_case_or_action(broker_url, pg_db, tmp_path):
    data = demo_stream(400, seed=13)
    sent = enqueue(broker_url, pg_db, data)
    r = connect(broker_url)
    # A worker that reads everything, commits it, and dies before acknowledging: done here with
    # the same Pipeline a worker runs, reading as consumer "ghost" and never sending XACK.
    got = r.xreadgroup(GROUP, "ghost", {"seawall:events": ">"}, count=10_000)
    entries = got[0][1]
    assert len(entries) == sent["enqueued"]
    settings = load_settings(tmp_path / "ghost", database=pg_db)
    pipeline = Pipeline.from_settings(settings, open_store(pg_db))
    pipeline.run_stream([Batch([decode(f)[0] for _, f in entries], "test")])
    before = report(pg_db)
    assert before["cases"] > 0 and before["actions"] > 0
    assert pending_of(r, "ghost") == sent["enqueued"]
    heir = WorkerProcess(broker_url, pg_db, tmp_path / "home", "heir", "--claim-idle-ms", "1000")
    try:
        wait_for(lambda: r.xlen("seawall:events") == 0, 90, "the ghost's entries taken over and acknowledged")
        state = heir.state()
    finally:
        heir.stop()
    assert state["reclaimed"] == sent["enqueued"]
    assert state["duplicates"] == sent["enqueued"] and state["accepted"] == 0
    after = report(pg_db, keys_of(data))
    for key in ("processed", "cases", "actions"):
        assert after[key] == before[key], key
    assert after["duplicate_cases"] == 0 and after["duplicate_actions"] == 0 and after["lost"] == 0


def test_concurrent_workers_keep_one_case_per_subject_and_lose_no_merge(broker_url, pg_db, tmp_path):
    # 12 threatening posts, then 40 reports on each, interleaved: small batches on three workers
    # keep opening and merging the same cases at the same moment.
    lines = [orjson.dumps({"type": "account", "id": "a1", "handle": "x", "created_at": "2015-06-01T10:00:00Z"})]
    lines += [orjson.dumps({"type": "report", "id": f"r{p}-{i}", "target_type": "post", "target_id": f"p{p}",
                            "reason": "violent_threat", "at": "2015-06-01T11:00:00Z"})
              for i in range(40) for p in range(12)]
    data = b"\n".join(lines) + b"\n"
    sent = enqueue(broker_url, pg_db, data, batch=50)
    workers = [WorkerProcess(broker_url, pg_db, tmp_path / "home", f"c{i}", "--batch-size", "7") for i in range(3)]
    try:
        wait_for(lambda: event_count(pg_db) == sent["enqueued"], 150, "every report stored")
    finally:
        for w in workers:
            w.stop()
    got = report(pg_db)
    store = open_store(pg_db, migrate=False)
    with store.engine.connect() as conn:
        per_subject = dict(conn.execute(text(
            "SELECT subject_id, SUM(event_count) FROM cases WHERE status = 'open' GROUP BY subject_id")).all())
        open_counts = set(conn.execute(text(
            "SELECT COUNT(*) FROM cases WHERE status = 'open' GROUP BY subject_id")).scalars())
    store.close()
    assert per_subject and open_counts == {1}
    assert all(int(n) == 40 for n in per_subject.values()), per_subject  # every report merged
    assert got["duplicate_cases"] == 0 and got["case_count_mismatch"] == 0


def test_sigterm_finishes_the_batch_acknowledges_and_exits(broker_url, pg_db, tmp_path):
    data = demo_stream(2000, seed=14)
    enqueue(broker_url, pg_db, data)
    r = connect(broker_url)
    w = WorkerProcess(broker_url, pg_db, tmp_path / "home", "polite", "--batch-size", "300")
    wait_for(lambda: pending_of(r, "polite") > 0, 90, "worker mid-batch")
    assert w.terminate(timeout=60) == 0
    assert pending_of(r, "polite") == 0  # the batch in hand was finished and acknowledged
    last = orjson.loads(w.log.read_text().strip().splitlines()[-1])
    assert last["worker"] == "polite" and last["acked"] > 0
    assert event_count(pg_db) == last["acked"]  # what it acknowledged is exactly what is stored
    assert r.xlen("seawall:events") > 0  # and it left the rest for others


def test_a_suspension_and_a_bank_entry_reach_every_worker_within_seconds(broker_url, pg_db, tmp_path):
    from seawall.banks.model import EntryIn
    from seawall.banks.store import BankStore

    workers = [WorkerProcess(broker_url, pg_db, tmp_path / "home", f"s{i}", "--resync-seconds", "600")
               for i in (1, 2)]
    try:
        for w in workers:
            w.wait_ready()
        assert [w.state()["suspended_accounts"] for w in workers] == [0, 0]
        # One worker processes a suspension; both hold it in memory within seconds.
        enqueue(broker_url, pg_db, orjson.dumps({"type": "enforcement", "account_id": "bad1", "action": "suspend",
                                                 "at": "2015-06-01T10:00:00Z"}) + b"\n")
        started = time.monotonic()
        wait_for(lambda: all(w.state()["suspended_accounts"] == 1 for w in workers), 10, "suspension everywhere")
        assert time.monotonic() - started < 10
        # A bank entry stored by an operator tool, announced once: every worker matches it at once
        # (resync is 10 minutes away and no event has flowed to trigger the signal's own refresh).
        store = open_store(pg_db, migrate=False)
        banks = BankStore(store.engine)
        banks.create_bank("test-links", "terror_link")
        banks.add_entries("test-links", [EntryIn.make("url", "https://files.example/terror.zip")])
        before = [w.state()["bank_entries"] for w in workers]
        connect(broker_url).xadd("seawall:changes", {"kind": "banks", "data": b"{}"})
        wait_for(lambda: all(w.state()["bank_entries"] == b + 1 for w, b in zip(workers, before)), 10,
                 "bank entry everywhere")
        post = {"type": "post", "id": "pb", "account_id": "a9", "created_at": "2015-06-01T10:00:00Z",
                "text": "download https://files.example/terror.zip"}
        enqueue(broker_url, pg_db, orjson.dumps(post) + b"\n")
        wait_for(lambda: event_count(pg_db) == 2, 30, "post processed")
        with store.engine.connect() as conn:
            hits = conn.execute(text("SELECT signal, label FROM signal_hits h JOIN events e ON e.pk = h.event_pk "
                                     "WHERE e.key = 'post:pb'")).all()
        store.close()
        assert ("hashbank", "terror_link") in [tuple(h) for h in hits]
    finally:
        for w in workers:
            w.stop()
