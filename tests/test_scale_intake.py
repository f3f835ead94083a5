"""Intake onto the stream and what workers do with entries that cannot be processed: back-pressure
(the API answers 503 with Retry-After, replay waits; nothing is dropped), entries that keep
killing their worker, unreadable entries. Real Redis and PostgreSQL; workers in process."""

from __future__ import annotations

import io
import threading

import orjson
import pytest
from fastapi.testclient import TestClient

from seawall.api.app import create_app
from seawall.api.auth import create_key
from seawall.config import load_settings
from seawall.pipeline.pipeline import Pipeline
from seawall.scale.broker import GROUP, BrokerConfig, connect, encode, ensure_group
from seawall.scale.enqueue import Enqueuer, enqueue_stream
from seawall.scale.runtime import BrokerRuntime
from seawall.scale.worker import StreamWorker, WorkerOptions
from seawall.storage.sql import open_store

from scale_support import broker_url, pg_db, redis_server_url, wait_for  # noqa: F401 (fixtures)

pytestmark = pytest.mark.postgres


def post(i: int) -> dict:
    return {"type": "post", "id": f"p{i}", "account_id": "a1", "text": f"hello {i}", "created_at": "2015-06-01T10:00:00Z"}


@pytest.fixture
def settings(tmp_path, pg_db, monkeypatch):
    monkeypatch.setenv("SEAWALL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SEAWALL_DATABASE_URL", pg_db)
    return load_settings()


def test_api_answers_503_with_retry_after_over_the_bound_and_never_drops(settings, broker_url):
    runtime = BrokerRuntime(settings, broker_url, max_backlog=50)
    runtime.start()
    key = create_key(runtime.store, "ingest")
    client = TestClient(create_app(runtime))
    headers = {"Authorization": f"Bearer {key}"}
    accepted, refused = 0, None
    for batch in range(10):
        res = client.post("/v1/events", json=[post(batch * 20 + i) for i in range(20)], headers=headers)
        if res.status_code == 202:
            accepted += res.json()["accepted"]
            continue
        refused = res
        break
    assert refused is not None and refused.status_code == 503
    assert int(refused.headers["Retry-After"]) > 0
    assert "wait for workers" in refused.json()["error"]["reason"]
    r = connect(broker_url)
    assert r.xlen("seawall:events") == accepted  # every 202 is on the stream; nothing refused is
    assert 50 <= accepted < 50 + 20
    # Workers catch up; intake opens again.
    worker = StreamWorker(runtime.pipeline, r, runtime.cfg, WorkerOptions(name="w", block_ms=50, exit_when_idle=True))
    worker.run()
    res = client.post("/v1/events", json=[post(999)], headers=headers)
    assert res.status_code == 202 and res.json()["accepted"] == 1
    assert runtime.store.known_keys([f"post:p{i}" for i in range(accepted)]) == {f"post:p{i}" for i in range(accepted)}


def test_api_answers_503_when_the_broker_is_away(settings):
    runtime = BrokerRuntime(settings, "redis://127.0.0.1:1/0")  # nothing listens on port 1
    key = create_key(runtime.store, "ingest")
    client = TestClient(create_app(runtime))
    res = client.post("/v1/events", json=[post(1)], headers={"Authorization": f"Bearer {key}"})
    assert res.status_code == 503 and "broker is unavailable" in res.json()["error"]["reason"]
    assert client.get("/readyz").status_code == 503


def test_replay_waits_while_the_backlog_is_full_and_enqueues_everything(settings, broker_url):
    store = open_store(settings.database_url)
    pipeline = Pipeline.from_settings(settings, store)
    r = connect(broker_url)
    cfg = BrokerConfig(broker_url, max_backlog=100)
    ensure_group(r, cfg)
    peak = [0]
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], r.xlen(cfg.stream))

    def drain() -> None:  # a slow worker: starts late, small batches
        stop.wait(1.0)
        w = StreamWorker(pipeline, connect(broker_url), cfg, WorkerOptions(name="slow", batch_size=25, block_ms=50))
        threading.Thread(target=lambda: (stop.wait(), w.request_stop()), daemon=True).start()
        w.run()

    threads = [threading.Thread(target=watch, daemon=True), threading.Thread(target=drain, daemon=True)]
    for t in threads:
        t.start()
    data = b"\n".join(orjson.dumps(post(i)) for i in range(600)) + b"\n"
    summary = enqueue_stream(Enqueuer(r, cfg), store, io.BytesIO(data), "replay:test", batch_size=50)
    wait_for(lambda: r.xlen(cfg.stream) == 0, 60, "drained")
    stop.set()
    assert summary["enqueued"] == summary["events_read"] == 600
    assert summary["held_back_s"] > 0.5  # it waited for the worker instead of overfilling
    assert peak[0] <= 100 + 50  # the bound, overshot by at most one chunk
    assert len(store.known_keys([f"post:p{i}" for i in range(600)])) == 600


def test_an_entry_that_keeps_killing_workers_is_dead_lettered_and_unreadable_ones_kept(settings, broker_url):
    store = open_store(settings.database_url)
    pipeline = Pipeline.from_settings(settings, store)
    r = connect(broker_url)
    cfg = BrokerConfig(broker_url)
    ensure_group(r, cfg)
    from seawall.ingest.intake import Intake

    [item] = Intake().accept_objects([(1, post(1), b"")]).items
    poison_id = r.xadd(cfg.stream, encode(item, "api"))
    # Six workers in a row took it and died (each delivery counts; XCLAIM is how a taker gets it).
    r.xreadgroup(GROUP, "dead-1", {cfg.stream: ">"}, count=1)
    for n in range(2, 7):
        r.xclaim(cfg.stream, GROUP, f"dead-{n}", 0, [poison_id])
    garbage_id = r.xadd(cfg.stream, {"k": "x", "e": b"\xff not json"})
    r.xadd(cfg.stream, encode(Intake().accept_objects([(1, post(2), b"")]).items[0], "api"))
    w = StreamWorker(pipeline, r, cfg, WorkerOptions(name="w", block_ms=50, claim_idle_ms=100, reclaim_every_s=0.1,
                                                     max_deliveries=5, exit_when_idle=True))
    import time

    time.sleep(0.2)  # let the poison entry be idle longer than claim_idle_ms
    w.run()
    assert w.poisoned == 1 and r.xlen(cfg.stream) == 0
    letters = {d.reason.split(";")[0]: d for d in store.list_dead_letters(kind="failed")}
    assert any("delivered 7 times" in reason for reason in letters), letters
    assert any(f"stream entry {garbage_id.decode()} unreadable" in reason for reason in letters), letters
    assert store.known_keys(["post:p1", "post:p2"]) == {"post:p2"}  # the poison is a dead letter, not a decision
