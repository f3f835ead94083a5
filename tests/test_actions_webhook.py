"""Webhook delivery through the outbox against a real HTTP receiver on 127.0.0.1 that refuses
connections, fails, answers too late and recovers: every action reaches it exactly once (after the
receiver de-duplicates by idempotency key), on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time

import pytest
from pydantic import SecretStr

from seawall.actions.dispatcher import Dispatcher
from seawall.actions.outbox import Outbox
from seawall.actions.retry import RetryPolicy
from seawall.actions.settings import ActionsSettings
from seawall.actions.webhook import WebhookAdapter
from seawall.storage.sql import open_store

from actions_support import Receiver, commit_actions, free_port

SECRET = "test-secret-0123456789abcdef"
FAST = RetryPolicy(base_delay_s=0.02, max_delay_s=0.05, max_attempts=20, max_age_s=600, jitter=0.5)


def dispatcher(store, url: str, timeout_s: float = 2.0, policy: RetryPolicy = FAST, **settings) -> Dispatcher:
    cfg = ActionsSettings(**{"batch_size": 10, "poll_interval_s": 0.05, **settings})
    return Dispatcher(store.engine, WebhookAdapter(url, SecretStr(SECRET), timeout_s), cfg, policy)


def drain(d: Dispatcher, until, deadline_s: float = 15.0) -> None:
    end = time.monotonic() + deadline_s
    while not until():
        assert time.monotonic() < end, "actions were not delivered in time"
        d.run_once()
        time.sleep(0.02)


def statuses(store) -> dict[str, int]:
    out: dict[str, int] = {}
    for a in store.list_actions(limit=100_000):
        out[a["status"]] = out.get(a["status"], 0) + 1
    return out


def test_every_action_arrives_exactly_once_through_refusals_errors_and_timeouts(store):
    acts = commit_actions(store, 6)
    keys = {a["idempotency_key"] for a in acts}
    receiver = Receiver(SECRET, plan=[500, 500, "slow", 503], slow_s=1.5)
    d = dispatcher(store, receiver.url, timeout_s=0.75)
    try:
        # The platform is down: connections are refused; nothing is lost, everything waits.
        s = d.run_once()
        assert s.enrolled == 6 and s.attempted == 6 and s.retried == 6 and s.delivered == 0
        waiting = Outbox(store.engine).list()
        assert all(a["status"] == "pending" and a["delivery"]["attempts"] == 1 for a in waiting)
        assert all("ConnectError" in a["delivery"]["last_error"] for a in waiting)
        # It comes back, failing twice with 500, once too slowly (it applies the action but answers after
        # the sender's 0.75 s timeout), once with 503, then recovers.
        receiver.start()
        drain(d, lambda: statuses(store) == {"delivered": 6})
    finally:
        d.close()
        receiver.stop()
    assert receiver.rejected == []  # every request carried a valid signature
    assert set(receiver.applied) == keys and all(n >= 1 for n in receiver.applied_count.values())
    # Raw requests: one per action, plus one retry after each failure that reached the receiver: the
    # planned 500, 500, 503 and slow answer (and any answer a loaded machine made late: normally none).
    assert receiver.plan == []
    detail = [Outbox(store.engine).get(a["id"]) for a in acts]
    log = [e for x in detail for e in x["attempts_log"]]
    received_failures = [e for e in log if e["outcome"] == "retry" and "ConnectError" not in e["error"]]
    assert len(received_failures) >= 4 and any("timed out" in e["error"] for e in received_failures)
    assert len(receiver.raw) == 6 + len(received_failures)
    by_key: dict[str, list[dict]] = {}
    for r in receiver.raw:
        by_key.setdefault(r["key"], []).append(r)
        assert r["header_key"] == r["key"]
    retried = {k: rs for k, rs in by_key.items() if len(rs) > 1}
    assert sum(len(rs) - 1 for rs in retried.values()) == len(received_failures)
    for rs in retried.values():  # the same key every time, a fresh delivery id and attempt number
        assert len({r["delivery"] for r in rs}) == len(rs)
        assert [r["body"]["attempt"] for r in rs] == sorted(r["body"]["attempt"] for r in rs)
    # The slow one was applied by the receiver and then arrived again: de-duplicated there, by key.
    [slow] = [r["key"] for r in receiver.raw if r["behaviour"] == "slow"]
    assert receiver.applied_count[slow] >= 2 and len(receiver.applied) == 6
    # Every attempt is on record: 6 refused + every request received.
    assert len(log) == 6 + len(receiver.raw)
    assert all(x["delivery"]["state"] == "delivered" and x["delivery"]["last_status"] == 200 for x in detail)
    assert {e["outcome"] for x in detail for e in x["attempts_log"]} == {"retry", "delivered"}


def test_the_outbox_survives_a_restart(database_url):
    store = open_store(database_url)
    commit_actions(store, 4)
    port = free_port()
    d = dispatcher(store, f"http://127.0.0.1:{port}/hook")
    assert d.run_once().retried == 4  # nobody listening
    d.close()
    store.close()
    # A new process: a new store object on the same database, a new dispatcher.
    store = open_store(database_url)
    try:
        before = Outbox(store.engine).list(status="pending")
        assert len(before) == 4 and all(a["delivery"]["attempts"] == 1 for a in before)
        receiver = Receiver(SECRET, port=port).start()
        d = dispatcher(store, receiver.url)
        try:
            drain(d, lambda: statuses(store) == {"delivered": 4})
        finally:
            d.close()
            receiver.stop()
        assert len(receiver.raw) == 4 and len(receiver.applied) == 4
    finally:
        store.close()


def test_after_max_attempts_an_action_is_failed_visible_and_requeueable(store):
    [act] = commit_actions(store, 1)
    port = free_port()
    d = dispatcher(store, f"http://127.0.0.1:{port}/hook",
                   policy=RetryPolicy(base_delay_s=0.0, max_delay_s=0.0, max_attempts=3, max_age_s=600, jitter=0))
    try:
        for _ in range(3):
            d.run_once()
        outbox = Outbox(store.engine)
        [failed] = outbox.list(status="failed")
        assert failed["id"] == act["id"] and failed["delivery"]["attempts"] == 3 and failed["attempts"] == 3
        assert d.run_once().attempted == 0  # failed actions are not retried on their own
        assert outbox.requeue([act["id"], 424242]).refused == {424242: "no such action"}
        assert outbox.list(status="pending")[0]["delivery"]["attempts"] == 0
        receiver = Receiver(SECRET, port=port).start()
        try:
            drain(d, lambda: statuses(store) == {"delivered": 1})
        finally:
            receiver.stop()
        assert outbox.get(act["id"])["attempts"] == 4  # the history keeps every attempt
        assert outbox.requeue([act["id"]]).refused == {act["id"]: "already delivered"}
    finally:
        d.close()


def test_max_age_fails_an_action_even_with_attempts_left(store):
    commit_actions(store, 1)
    d = dispatcher(store, f"http://127.0.0.1:{free_port()}/hook",
                   policy=RetryPolicy(base_delay_s=0.0, max_delay_s=0.0, max_attempts=100, max_age_s=0.2, jitter=0))
    try:
        d.run_once()
        assert statuses(store) == {"pending": 1}
        time.sleep(0.25)
        d.run_once()
        assert statuses(store) == {"failed": 1}
    finally:
        d.close()


def test_a_refusal_that_retrying_cannot_fix_fails_at_once(store):
    commit_actions(store, 1)
    receiver = Receiver(SECRET, plan=[400]).start()
    d = dispatcher(store, receiver.url)
    try:
        s = d.run_once()
    finally:
        d.close()
        receiver.stop()
    assert s.failed == 1 and statuses(store) == {"failed": 1}
    [a] = Outbox(store.engine).list()
    assert a["delivery"]["last_status"] == 400 and a["delivery"]["last_error"].startswith("HTTP 400")


def test_retry_after_is_honoured(store):
    commit_actions(store, 1)
    receiver = Receiver(SECRET, plan=[429]).start()
    d = dispatcher(store, receiver.url, policy=RetryPolicy(0.0, 30.0, 10, 600, 0.0))
    try:
        d.run_once()
    finally:
        d.close()
        receiver.stop()
    # The receiver sent no Retry-After, so the (zero) backoff applies; now with one:
    [a] = Outbox(store.engine).list()
    assert a["delivery"]["last_status"] == 429 and a["status"] == "pending"
    from seawall.actions.webhook import _retry_after

    assert _retry_after("7") == 7.0 and _retry_after("garbage") is None
    assert RetryPolicy(0.0, 30.0, 10, 600, 0.0).delay_s(1, retry_after_s=7.0) == 7.0
    assert RetryPolicy(0.0, 30.0, 10, 600, 0.0).delay_s(1, retry_after_s=700.0) == 30.0


def test_backoff_is_exponential_capped_and_jittered():
    import random

    p = RetryPolicy(base_delay_s=1.0, max_delay_s=60.0, max_attempts=10, max_age_s=3600, jitter=0.5)
    rng = random.Random(1)
    for attempts, exp in ((1, 1.0), (2, 2.0), (3, 4.0), (7, 60.0), (30, 60.0)):
        waits = [p.delay_s(attempts, rng=rng) for _ in range(200)]
        assert all(exp * 0.5 <= w <= exp for w in waits) and max(waits) - min(waits) > exp * 0.3


def test_a_restore_goes_through_the_same_adapter_after_its_original(store):
    [first, second] = commit_actions(store, 2)
    receiver = Receiver(SECRET).start()
    d = dispatcher(store, receiver.url)
    outbox = Outbox(store.engine)
    try:
        drain(d, lambda: statuses(store) == {"delivered": 2})
        restore_id = outbox.request_restore(first["id"])
        assert outbox.request_restore(first["id"]) == restore_id  # once, however often asked
        drain(d, lambda: statuses(store) == {"delivered": 3})
    finally:
        d.close()
        receiver.stop()
    restore = receiver.applied[f"restore:{first['idempotency_key']}"]
    assert restore["action"]["kind"] == "restore" and restore["action"]["reverses"] == first["idempotency_key"]
    assert restore["action"]["subject"] == {"type": "post", "id": "p0"}
    with pytest.raises(ValueError, match="only remove and suspend"):
        outbox.request_restore(restore_id)


def test_a_restore_never_overtakes_the_action_it_reverses(store):
    [act] = commit_actions(store, 1)
    port = free_port()
    d = dispatcher(store, f"http://127.0.0.1:{port}/hook", policy=RetryPolicy(0.3, 0.3, 20, 600, 0.0))
    outbox = Outbox(store.engine)
    try:
        d.run_once()  # the removal fails (platform down) and waits 0.3 s
        outbox.request_restore(act["id"])
        receiver = Receiver(SECRET, port=port).start()
        try:
            s = d.run_once()
            assert s.deferred == 1 and s.attempted == 0 and receiver.raw == []
            drain(d, lambda: statuses(store) == {"delivered": 2})
        finally:
            receiver.stop()
    finally:
        d.close()
    assert [r["body"]["action"]["kind"] for r in receiver.raw] == ["remove", "restore"]


def test_two_dispatchers_never_deliver_the_same_action_twice(database_url):
    """Several dispatchers share the outbox: on PostgreSQL with SELECT ... FOR UPDATE SKIP LOCKED, on
    SQLite with one atomic UPDATE ... RETURNING. Every action is delivered once, never concurrently."""
    setup = open_store(database_url)
    n = 120
    commit_actions(setup, n)
    receiver = Receiver(SECRET, work_s=0.005).start()
    stores = [open_store(database_url) for _ in range(2)]
    ds = [dispatcher(s, receiver.url, timeout_s=5.0) for s in stores]
    assert ds[0].outbox.enroll(ds[0].settings.kinds, ds[0].settings.evidence) == n  # then both claim
    delivered = [0, 0]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            barrier.wait()
            end = time.monotonic() + 60
            while statuses(stores[i]).get("delivered", 0) < n and time.monotonic() < end:
                delivered[i] += ds[i].run_once().delivered
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
    finally:
        for x in ds:
            x.close()
        for s in stores:
            s.close()
        receiver.stop()
    try:
        assert errors == []
        assert statuses(setup) == {"delivered": n}
        assert len(receiver.raw) == n and len(receiver.applied) == n  # not one duplicate request
        assert receiver.overlaps == []
        assert sum(delivered) == n and min(delivered) > 0, delivered  # both did part of the work
    finally:
        setup.close()
