"""Evidence preservation: every removal, suspension and escalation keeps a hashed copy of the content,
metadata and signal hits, committed before the platform is told; holds expire only through an
explicit purge and never under a legal hold."""

from __future__ import annotations

import hashlib
import threading
from datetime import datetime, timedelta, timezone

import orjson
import pytest
from sqlalchemy import select, text, update

from seawall.actions.adapter import Action, DeliveryResult, PlatformAdapter
from seawall.actions.dispatcher import Dispatcher
from seawall.actions.evidence import get_hold, hold_counts, purge_expired, set_legal_hold
from seawall.actions.outbox import Outbox
from seawall.actions.retry import RetryPolicy
from seawall.actions.schema import evidence_holds
from seawall.actions.settings import ActionsSettings, EvidenceSettings
from seawall.storage.sql import open_store

from actions_support import commit_actions


class RecordingPlatform(PlatformAdapter):
    """An in-process platform: records what it was asked to do, and checks at that moment that the
    evidence for it is already committed (read through a separate connection)."""

    name = "recording"

    def __init__(self, engine):  # noqa: ANN001
        self.engine = engine
        self.seen: list[tuple[Action, dict | None]] = []

    def deliver(self, action: Action) -> DeliveryResult:
        self.seen.append((action, get_hold(self.engine, action.id)))
        return DeliveryResult.ok(200)


def _dispatch(store) -> RecordingPlatform:  # noqa: ANN001
    platform = RecordingPlatform(store.engine)
    Dispatcher(store.engine, platform, ActionsSettings(), RetryPolicy(0, 0, 3, 60, 0)).run_once()
    return platform


def test_a_removal_is_preserved_before_the_platform_hears_of_it(store):
    [act] = commit_actions(store, 1)
    platform = _dispatch(store)
    [(action, hold)] = platform.seen
    assert action.id == act["id"] and hold is not None and hold["intact"] is True
    doc = hold["document"]
    assert doc["format"] == "seawall.evidence/1"
    assert doc["action"]["idempotency_key"] == "remove:post:p0" and doc["action"]["rule"] == "test-rule"
    [ev] = doc["events"]
    assert ev["key"] == "post:p0" and ev["payload"]["text"] == "post 0" and ev["account_id"] == "a1"
    assert ev["signals"] == [{"signal": "watchterms", "version": "1", "label": "terrorist_slogan", "score": 0.95,
                              "evidence": {"matches": ["term0"]}}]
    assert ev["verdict"]["verdict"] == "remove" and ev["verdict"]["actions"] == ["remove"]
    with store.engine.connect() as conn:
        stored_payload = conn.execute(text("SELECT payload FROM events WHERE key = 'post:p0'")).scalar()
        raw = conn.execute(select(evidence_holds.c.payload).where(evidence_holds.c.action_id == act["id"])).scalar()
    assert ev["payload_sha256"] == hashlib.sha256(stored_payload.encode()).hexdigest()
    assert hold["sha256"] == hashlib.sha256(raw.encode()).hexdigest() and hold["size_bytes"] == len(raw.encode())
    assert doc["case"]["id"] == act["case_id"] and doc["account"]["id"] == "a1"
    created = datetime.fromisoformat(doc["action"]["created_at"])
    assert datetime.fromisoformat(hold["hold_until"]) == created + timedelta(days=180)
    assert hold["legal_hold"] is False and hold["purged"] is False


def test_suspensions_keep_the_account_and_restores_add_no_hold(store):
    [susp] = commit_actions(store, 1, kind="suspend", account="bad1")
    _dispatch(store)
    hold = get_hold(store.engine, susp["id"])
    assert hold["subject_type"] == "account" and hold["subject_id"] == "bad1"
    assert hold["document"]["account"]["status"] == "suspended" and hold["document"]["events"][0]["key"] == "post:p0"
    restore = Outbox(store.engine).request_restore(susp["id"])
    _dispatch(store)
    assert get_hold(store.engine, restore) is None
    assert get_hold(store.engine, susp["id"])["sha256"] == hold["sha256"]  # untouched by the restore


def test_concurrent_enrolment_preserves_each_action_once(database_url):
    setup = open_store(database_url)
    n = 40
    commit_actions(setup, n)
    stores = [open_store(database_url) for _ in range(2)]
    counts = [0, 0]
    barrier = threading.Barrier(2)

    def enroll(i: int) -> None:
        barrier.wait()
        counts[i] = Outbox(stores[i].engine).enroll(["remove"], EvidenceSettings())

    threads = [threading.Thread(target=enroll, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        assert sum(counts) == n
        with setup.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*), count(DISTINCT action_id) FROM evidence_holds")).one() == (n, n)
            assert conn.execute(text("SELECT count(*) FROM action_deliveries")).scalar() == n
    finally:
        for s in (setup, *stores):
            s.close()


def test_an_edited_copy_is_detected(store):
    [act] = commit_actions(store, 1)
    _dispatch(store)
    with store.engine.begin() as conn:
        conn.execute(update(evidence_holds).where(evidence_holds.c.action_id == act["id"])
                     .values(payload=evidence_holds.c.payload + " "))
    assert get_hold(store.engine, act["id"])["intact"] is False


def test_only_expired_holds_without_legal_hold_are_purged_and_only_on_request(store):
    acts = commit_actions(store, 3)
    _dispatch(store)
    ids = [a["id"] for a in acts]
    past = datetime.now(timezone.utc) - timedelta(days=1)
    with store.engine.begin() as conn:
        conn.execute(update(evidence_holds).where(evidence_holds.c.action_id.in_(ids[:2])).values(hold_until=past))
    assert set_legal_hold(store.engine, ids[1], True, "preservation request 2026-17")
    assert hold_counts(store.engine) == {"held": 2, "legal_hold": 1, "expired": 1, "purged": 0}
    assert purge_expired(store.engine, dry_run=True) == [ids[0]]
    assert get_hold(store.engine, ids[0])["purged"] is False  # a dry run changes nothing
    assert purge_expired(store.engine) == [ids[0]]
    gone = get_hold(store.engine, ids[0])
    assert gone["purged"] is True and gone["document"] is None and gone["intact"] is None
    assert len(gone["sha256"]) == 64 and gone["purged_at"]  # the record that it existed remains
    assert get_hold(store.engine, ids[1])["document"] is not None  # legal hold
    assert get_hold(store.engine, ids[2])["document"] is not None  # not expired
    assert set_legal_hold(store.engine, ids[1], False)
    assert purge_expired(store.engine) == [ids[1]]
    assert not set_legal_hold(store.engine, ids[0], True, "too late")  # purged already


def test_evidence_settings_choose_the_kinds_and_retention(store):
    [act] = commit_actions(store, 1)
    platform = RecordingPlatform(store.engine)
    settings = ActionsSettings(evidence={"retention_days": 30, "kinds": ["suspend"]})
    Dispatcher(store.engine, platform, settings, RetryPolicy(0, 0, 3, 60, 0)).run_once()
    assert platform.seen[0][1] is None and get_hold(store.engine, act["id"]) is None
    with pytest.raises(ValueError, match="unknown action kind"):
        EvidenceSettings(kinds=["delete"])


def test_the_document_is_canonical_json(store):
    [act] = commit_actions(store, 1)
    _dispatch(store)
    with store.engine.connect() as conn:
        raw = conn.execute(select(evidence_holds.c.payload).where(evidence_holds.c.action_id == act["id"])).scalar()
    assert raw == orjson.dumps(orjson.loads(raw), option=orjson.OPT_SORT_KEYS).decode()
