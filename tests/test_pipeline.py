"""The pipeline end to end on both databases: replay, bad lines, idempotency, failure isolation,
shadow rules and backtests. The key end-to-end tests also run on the scaled deployment (a Redis
stream and a stream worker, on PostgreSQL) through the `deployment` fixture."""

from __future__ import annotations

import io

import orjson
import pytest

from seawall.pipeline.pipeline import Pipeline
from seawall.pipeline.replay import replay_stream
from seawall.signals.base import Signal
from seawall.storage.sql import open_store

from scale_support import broker_url, redis_server_url, replay_via_stream  # noqa: F401 (fixtures)


def lines(*objs) -> io.BytesIO:
    out = []
    for o in objs:
        out.append(o if isinstance(o, bytes) else orjson.dumps(o))
    return io.BytesIO(b"\n".join(out) + b"\n")


ACCOUNT = {"type": "account", "id": "a1", "handle": "abu_x1", "created_at": "2015-06-01T10:00:00Z"}
GOOD = {"type": "post", "id": "p1", "account_id": "a1", "text": "lovely weather", "created_at": "2015-06-01T10:00:00Z"}
LOCKER = {"type": "post", "id": "p2", "account_id": "a1", "created_at": "2015-06-01T10:05:00Z",
          "text": "baqiya wa tatamadad, new release https://mega.nz/file/abc"}
THREAT = {"type": "post", "id": "p3", "account_id": "a1", "created_at": "2015-06-01T10:06:00Z",
          "text": "@boss I w1ll k\u200bill you"}


@pytest.fixture
def pipeline(settings):
    store = open_store(settings.database_url)
    yield Pipeline.from_settings(settings, store)
    store.close()


@pytest.fixture(params=["embedded", "redis"])
def deployment(request, settings):
    """How a replay travels: in process (the embedded default), or validated onto a Redis stream and
    processed by a stream worker (the scaled deployment: Redis + PostgreSQL)."""
    if request.param == "embedded":
        return replay_stream
    if not settings.database_url.startswith("postgres"):
        pytest.skip("the scaled deployment runs on PostgreSQL")
    broker = request.getfixturevalue("broker_url")
    return lambda pipeline, stream, **kw: replay_via_stream(pipeline, stream, broker, **kw)


def test_replay_reports_every_line_and_never_stops(pipeline, deployment):
    stream = lines(
        ACCOUNT, GOOD,
        b"{not json",
        b'{"type":"post","id":"u","account_id":"a1","text":"\xff\xfe","created_at":"2015-06-01T10:00:00Z"}',
        {"type": "poll", "id": "x"},
        {"type": "post", "id": "p4", "account_id": "a1"},
        {"type": "post", "id": 7, "account_id": "a1", "created_at": "2015-06-01T10:00:00Z", "text": ["list"]},
        {"type": "post", "id": "big", "account_id": "a1", "created_at": "2015-06-01T10:00:00Z", "text": "x" * 1_048_576},
        GOOD,  # duplicate id
        LOCKER, THREAT,
    )
    s = deployment(pipeline, stream)
    assert s["lines"] == 11
    assert s["rejected"] == 6
    assert s["accepted"] == 4 and s["duplicates"] == 1
    reasons = " | ".join(s["rejected_reasons"])
    for expected in ("malformed JSON", "invalid UTF-8 at byte", "unknown event type 'poll'",
                     "created_at: required field is missing", "text:", "at most 50000"):
        assert expected in reasons, (expected, reasons)
    assert [r["line"] for r in s["rejections"]] == [3, 4, 5, 6, 7, 8]
    assert len(pipeline.store.list_dead_letters()) == 6
    assert s["verdicts"].get("allow") == 2  # the account and the ordinary post


def test_obfuscated_threat_and_locker_propaganda_are_caught(pipeline, deployment):
    deployment(pipeline, lines(ACCOUNT, GOOD, LOCKER, THREAT))
    cases = {c["subject"]["id"]: c for c in pipeline.store.list_cases(status=None)}
    assert set(cases) == {"p2", "p3"}
    assert cases["p3"]["queue"] == "threats"
    assert "remove" in [a["kind"] for a in pipeline.store.list_actions() if a["subject_id"] == "p2"]
    hist = {h.event_key: h for h in pipeline.store.iter_history()}
    evidence = hist["post:p3"].hits[0]["evidence"]
    assert hist["post:p3"].hits[0]["label"] == "violent_threat"
    assert evidence  # the reviewer sees which words matched


def test_replaying_the_same_file_twice_changes_nothing(pipeline, deployment):
    first = deployment(pipeline, lines(ACCOUNT, GOOD, LOCKER, THREAT))
    stats = pipeline.store.stats()
    second = deployment(pipeline, lines(ACCOUNT, GOOD, LOCKER, THREAT))
    assert second["accepted"] == 0 and second["duplicates"] == first["accepted"]
    after = pipeline.store.stats()
    for key in ("events", "verdicts", "cases", "actions"):
        assert after[key] == stats[key]


class Exploding(Signal):
    name = "exploding"
    version = "1"

    def evaluate(self, items):
        if any("explode" in getattr(i.event, "text", "") for i in items):
            raise RuntimeError("signal bug")
        return [[] for _ in items]


def test_a_poison_event_goes_to_dead_letters_and_its_batch_survives(pipeline, deployment):
    pipeline.signals.append(Exploding())
    poison = {**GOOD, "id": "boom", "text": "please explode"}
    s = deployment(pipeline, lines(ACCOUNT, GOOD, poison, THREAT))
    assert s["failed"] == 1 and s["accepted"] == 3
    [letter] = pipeline.store.list_dead_letters(kind="failed")
    assert "RuntimeError: signal bug" in letter.reason
    assert orjson.loads(letter.raw)["id"] == "boom"
    # Fixed (here: the signal removed), the dead letter replays into a decision.
    from seawall.deadletter import replay_dead_letters

    pipeline.signals.pop()
    out = replay_dead_letters(pipeline)
    assert out["replayed"] == 1 and out["accepted"] == 1
    assert pipeline.store.list_dead_letters(kind="failed") == []
    assert "post:boom" in pipeline.store.known_keys(["post:boom"])


def test_rejected_line_replays_after_the_operator_fixes_the_adapter_or_data(pipeline):
    replay_stream(pipeline, lines({"type": "post", "id": "late", "account_id": "a1", "text": "hi"}))
    [letter] = pipeline.store.list_dead_letters()
    from seawall.deadletter import replay_dead_letters

    out = replay_dead_letters(pipeline)
    assert out["replayed"] == 0 and out["still_failing"][0]["field"] == "created_at"
    assert pipeline.store.list_dead_letters()[0].attempts == 1


def test_shadow_rules_are_recorded_not_enforced(pipeline, tmp_path):
    from seawall.policy import PolicyEngine, parse_rules

    pipeline.engine = PolicyEngine(parse_rules("""
version = 1
[[rules]]
name = "shadow-remove-lockers"
verdict = "remove"
shadow = true
when = { signal = "linkdomain", label = "file_locker" }
"""))
    replay_stream(pipeline, lines(ACCOUNT, LOCKER))
    assert pipeline.store.list_actions() == []
    assert pipeline.store.list_cases(status=None) == []
    [rec] = [h for h in pipeline.store.iter_history() if h.event_key == "post:p2"]
    assert rec.verdict == "allow"
    with pipeline.store.engine.connect() as conn:
        from sqlalchemy import select

        from seawall.storage.schema import verdicts

        shadow = conn.execute(select(verdicts.c.shadow)).scalars().all()
    assert any("shadow-remove-lockers" in s for s in shadow)


def test_backtest_reports_what_a_new_rules_file_would_change(pipeline, settings, tmp_path):
    from seawall.backtest import run_backtest

    replay_stream(pipeline, lines(ACCOUNT, GOOD, LOCKER, THREAT))
    strict = tmp_path / "strict.toml"
    strict.write_text("""
version = 1
[[rules]]
name = "suspend-on-any-locker"
verdict = "suspend"
when = { signal = "linkdomain", label = "file_locker" }
""")
    report = run_backtest(pipeline.store, strict, settings)
    assert report["total"] == 4
    assert report["rule_matches"] == {"suspend-on-any-locker": 1}
    assert report["changes"]["no_longer_actioned"]["count"] >= 1  # the threat is no longer queued
    changed = report["changes"]["actions_changed"]["examples"] + report["changes"]["newly_actioned"]["examples"]
    assert any(c["event_key"] == "post:p2" and "suspend" in c["new_actions"] for c in changed)
    # The rescan path recomputes hits with the current signals and agrees here.
    again = run_backtest(pipeline.store, strict, settings, rescan=True)
    assert again["rule_matches"] == report["rule_matches"]
