"""The Store on SQLite and PostgreSQL: idempotent writes, cases, actions, dead letters, keys."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest
from sqlalchemy import inspect

from seawall.events import parse_event
from seawall.normalize.item import Item
from seawall.pipeline.result import ProcessedEvent
from seawall.policy.engine import Decision, RuleMatch
from seawall.signals.base import SignalHit
from seawall.storage import migrate
from seawall.storage.base import ApiKey, DeadLetter
from seawall.storage.schema import metadata


def _post(pid: str, account: str = "a1", text: str = "hello") -> Item:
    ev = parse_event({"type": "post", "id": pid, "account_id": account, "text": text,
                      "created_at": "2015-06-01T10:00:00Z"})
    return Item(event=ev, key=ev.key(), received_at=time.time() - 0.01)


def _decided(item: Item, verdict: str = "allow", actions=(), queue=None, priority=0, rule="r1",
             hits=()) -> ProcessedEvent:
    matched = [] if verdict == "allow" else [
        RuleMatch(rule=rule, verdict=verdict, queue=queue, priority=priority, labels=[], shadow=False, evidence=[])
    ]
    d = Decision(verdict=verdict, actions=list(actions), queue=queue, priority=priority, labels=["l"] if matched else [],
                 matched=matched)
    return ProcessedEvent(item, list(hits), d, time.time(), "test", "v1")


def test_migrations_create_exactly_the_declared_schema(store):
    assert migrate.current_revisions(store.engine) == migrate.head_revisions()
    tables = set(inspect(store.engine).get_table_names()) - {"alembic_version"}
    assert tables == set(metadata.tables)


def test_commit_is_idempotent_by_event_key(store):
    hit = SignalHit("watchterms", "1", "violent_threat", 0.9, {"matches": ["kill"]})
    batch = [_decided(_post("p1"), "queue", (), "threats", 80, hits=[hit]), _decided(_post("p2"))]
    first = store.commit_batch(batch)
    assert (first.stored, first.duplicates, first.hits, first.cases_opened) == (2, 0, 1, 1)
    again = store.commit_batch([_decided(_post("p1"), "queue", (), "threats", 80, hits=[hit])])
    assert (again.stored, again.duplicates, again.cases_opened) == (0, 1, 0)
    assert store.known_keys(["post:p1", "post:p2", "post:p3"]) == {"post:p1", "post:p2"}
    s = store.stats()
    assert s["events"]["total"] == 2
    assert s["signal_hits"] == {"watchterms": 1}
    assert s["cases"]["open_by_queue"] == {"threats": 1}


def test_duplicate_within_one_batch_is_stored_once(store):
    summary = store.commit_batch([_decided(_post("p1")), _decided(_post("p1"))])
    assert (summary.stored, summary.duplicates) == (1, 1)


def test_open_case_merges_new_signals_and_keeps_highest_priority(store):
    post = _post("p9")
    store.commit_batch([_decided(post, "queue", (), "reports", 30, rule="report")])
    report = parse_event({"type": "report", "id": "r1", "target_type": "post", "target_id": "p9",
                          "reason": "violent_threat", "at": "2015-06-01T11:00:00Z"})
    store.commit_batch([_decided(Item(report, report.key(), time.time()), "queue", (), "threats", 90, rule="threat")])
    cases = store.list_cases()
    assert len(cases) == 1
    case = cases[0]
    assert case["subject"] == {"type": "post", "id": "p9"}
    assert case["priority"] == 90 and case["queue"] == "threats" and case["event_count"] == 2
    assert case["rules"] == ["report", "threat"]


def test_actions_carry_idempotency_keys_and_never_repeat(store):
    p = _post("p5", account="bad1")
    store.commit_batch([_decided(p, "suspend", ("remove", "suspend"), None, 0, rule="auto")])
    # Another post of the same account asks for the same suspension: one suspend action in all.
    store.commit_batch([_decided(_post("p6", account="bad1"), "suspend", ("remove", "suspend"), None, 0)])
    acts = store.list_actions()
    kinds = sorted((a["kind"], a["subject_id"]) for a in acts)
    assert kinds == [("remove", "p5"), ("remove", "p6"), ("suspend", "bad1")]
    assert len({a["idempotency_key"] for a in acts}) == 3
    assert store.get_account("bad1")["status"] == "suspended"
    # A restore by the platform makes a later suspension a new action.
    restore = parse_event({"type": "enforcement", "account_id": "bad1", "action": "restore", "at": "2015-06-02T00:00:00Z"})
    store.commit_batch([_decided(Item(restore, restore.key(), time.time()))])
    assert store.get_account("bad1")["status"] == "active"
    store.commit_batch([_decided(_post("p7", account="bad1"), "suspend", ("suspend",), None, 0)])
    assert sum(a["kind"] == "suspend" for a in store.list_actions()) == 2


def test_auto_actioned_case_is_not_left_open(store):
    store.commit_batch([_decided(_post("p1"), "remove", ("remove",), None, 0)])
    assert store.list_cases() == []
    assert [c["status"] for c in store.list_cases(status=None)] == ["actioned"]


def test_account_events_upsert_profile(store):
    ev = parse_event({"type": "account", "id": "a1", "handle": "first", "created_at": "2015-06-01T10:00:00Z"})
    ev2 = parse_event({"type": "account", "action": "updated", "id": "a1", "handle": "second",
                       "created_at": "2015-06-01T10:00:00Z", "updated_at": "2015-06-03T10:00:00Z"})
    store.commit_batch([_decided(Item(ev, ev.key(), time.time()))])
    store.commit_batch([_decided(Item(ev2, ev2.key(), time.time()))])
    acct = store.get_account("a1")
    assert acct["handle"] == "second" and acct["status"] == "active"


def test_inbox_is_durable_and_deduplicated(store):
    accepted, dup = store.enqueue([("post:p1", "api", "{}"), ("post:p1", "api", "{}"), ("post:p2", "api", "{}")])
    assert (accepted, dup) == (2, 1)
    assert store.enqueue([("post:p2", "api", "{}")]) == (0, 1)
    rows = store.inbox_batch(10)
    assert [r.key for r in rows] == ["post:p1", "post:p2"]
    assert rows[0].received_at.tzinfo is not None
    store.inbox_done([rows[0].id])
    assert store.inbox_size() == 1
    # An event already processed is a duplicate at the door too.
    store.commit_batch([_decided(_post("p3"))])
    assert store.enqueue([("post:p3", "api", "{}")]) == (0, 1)


def test_dead_letters_round_trip(store):
    n = store.add_dead_letters([
        DeadLetter("rejected", "replay:x.jsonl", "seawall", '{"type":"post"}', "required field is missing", "id", 3),
        DeadLetter("failed", "api", "seawall", "{}", "boom"),
    ])
    assert n == 2
    letters = store.list_dead_letters()
    assert [(d.kind, d.field, d.line_no) for d in letters] == [("rejected", "id", 3), ("failed", None, None)]
    store.mark_dead_letters([letters[0].id], "replayed")
    assert [d.kind for d in store.list_dead_letters()] == ["failed"]
    assert store.list_dead_letters(status="replayed")[0].replayed_at is not None
    assert store.stats()["dead_letters_open"] == {"total": 1, "by_kind": {"failed": 1}}


def test_api_keys(store):
    now = datetime.now(timezone.utc)
    store.add_api_key(ApiKey("abc123abc123", "reviewer", "alice", now, "h" * 64))
    k = store.get_api_key("abc123abc123")
    assert k.role == "reviewer" and k.secret_hash == "h" * 64 and k.revoked_at is None
    assert store.revoke_api_key("abc123abc123") is True
    assert store.revoke_api_key("abc123abc123") is False
    assert store.get_api_key("abc123abc123").revoked_at is not None
    assert store.get_api_key("nope") is None


def test_history_iterates_decided_events_with_hits(store):
    hit = SignalHit("linkdomain", "1", "file_locker", 1.0, {"domains": ["mega.nz"]})
    store.commit_batch([_decided(_post(f"p{i}"), hits=[hit] if i % 2 else []) for i in range(5)])
    hist = list(store.iter_history(batch_size=2))
    assert [h.event_key for h in hist] == [f"post:p{i}" for i in range(5)]
    assert [len(h.hits) for h in hist] == [0, 1, 0, 1, 0]
    assert hist[1].hits[0]["evidence"] == {"domains": ["mega.nz"]}
    assert hist[0].payload["text"] == "hello"


@pytest.mark.parametrize("bad", ["mysql://x", "nonsense"])
def test_open_store_rejects_unknown_urls(bad):
    from seawall.storage.sql import open_store

    with pytest.raises(ValueError, match="sqlite:// or postgresql://"):
        open_store(bad)
