"""Webhook signatures: what the sender produces verifies, and tampering, stale or future timestamps,
replays, wrong secrets and altered headers are all refused with a reason."""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import datetime, timezone

import orjson
import pytest
from pydantic import SecretStr

from seawall.actions.adapter import Action
from seawall.actions.signing import ReplayCache, SignatureError, sign, verify_signature
from seawall.actions.webhook import WebhookAdapter

SECRET = "s3cret-shared-with-the-platform"


def _request(attempt: int = 1, delivery: str = "d1") -> tuple[bytes, dict[str, str]]:
    action = Action(id=7, idempotency_key="remove:post:p1", kind="remove", subject_type="post", subject_id="p1",
                    created_at=datetime(2026, 1, 1, tzinfo=timezone.utc), case_id=3, rule="r",
                    attempt=attempt, delivery_id=delivery)
    adapter = WebhookAdapter("http://127.0.0.1:9/x", SecretStr(SECRET))
    try:
        return adapter.request(action)
    finally:
        adapter.close()


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body():
    body, headers = _request()
    ts = headers["Seawall-Timestamp"]
    expected = hmac.new(SECRET.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers["Seawall-Signature"] == f"v1={expected}"
    assert headers["Idempotency-Key"] == "remove:post:p1"
    doc = orjson.loads(body)
    assert doc["idempotency_key"] == "remove:post:p1" and doc["action"]["subject"] == {"type": "post", "id": "p1"}
    got = verify_signature(SECRET, headers, body)
    assert got.idempotency_key == "remove:post:p1" and got.payload["action"]["kind"] == "remove"


def test_header_names_are_case_insensitive_and_pairs_are_accepted():
    body, headers = _request()
    verify_signature(SECRET, {k.lower(): v for k, v in headers.items()}, body)
    verify_signature(SECRET, list(headers.items()), body)


def test_a_tampered_body_is_refused():
    body, headers = _request()
    tampered = body.replace(b"remove", b"suspend", 1)
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature(SECRET, headers, tampered)
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature(SECRET, headers, body + b" ")


def test_another_secret_is_refused_and_rotation_accepts_either():
    body, headers = _request()
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature("another-secret-of-enough-length", headers, body)
    verify_signature(["new-secret-being-rolled-out", SECRET], headers, body)


def test_stale_and_future_timestamps_are_refused():
    body = b'{"idempotency_key": "k"}'
    old = sign(SECRET, body, timestamp=int(time.time()) - 301)
    with pytest.raises(SignatureError, match="tolerance is 300 s"):
        verify_signature(SECRET, old, body)
    future = sign(SECRET, body, timestamp=int(time.time()) + 400)
    with pytest.raises(SignatureError, match="tolerance"):
        verify_signature(SECRET, future, body)
    # Re-signing the old body with a fresh timestamp needs the secret: changing the header alone fails.
    forged = dict(old, **{"Seawall-Timestamp": str(int(time.time()))})
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature(SECRET, forged, body)
    # Within a custom tolerance the old one passes.
    verify_signature(SECRET, old, body, tolerance_s=600)


def test_a_replay_within_the_window_is_refused():
    body, headers = _request()
    seen = ReplayCache()
    verify_signature(SECRET, headers, body, seen_ids=seen)
    with pytest.raises(SignatureError, match="replayed"):
        verify_signature(SECRET, headers, body, seen_ids=seen)
    # A plain set works too.
    plain: set[str] = set()
    verify_signature(SECRET, headers, body, seen_ids=plain)
    with pytest.raises(SignatureError, match="replayed"):
        verify_signature(SECRET, headers, body, seen_ids=plain)


def test_a_retry_is_a_new_request_with_the_same_key():
    # Same action, second attempt, same second: the receiver must accept it (and de-duplicate by key).
    first, h1 = _request(attempt=1, delivery="d1")
    second, h2 = _request(attempt=2, delivery="d2")
    seen = ReplayCache()
    a = verify_signature(SECRET, h1, first, seen_ids=seen)
    b = verify_signature(SECRET, h2, second, seen_ids=seen)
    assert a.idempotency_key == b.idempotency_key and h1["Seawall-Signature"] != h2["Seawall-Signature"]


def test_missing_or_malformed_headers_and_altered_key_header_are_refused():
    body, headers = _request()
    for name, match in (("Seawall-Timestamp", "missing Seawall-Timestamp"), ("Seawall-Signature", "missing Seawall-Signature")):
        with pytest.raises(SignatureError, match=match):
            verify_signature(SECRET, {k: v for k, v in headers.items() if k != name}, body)
    with pytest.raises(SignatureError, match="not an integer"):
        verify_signature(SECRET, dict(headers, **{"Seawall-Timestamp": "yesterday"}), body)
    with pytest.raises(SignatureError, match="no v1="):
        verify_signature(SECRET, dict(headers, **{"Seawall-Signature": "v0=abc"}), body)
    with pytest.raises(SignatureError, match="does not match the signed body"):
        verify_signature(SECRET, dict(headers, **{"Idempotency-Key": "remove:post:other"}), body)


def test_the_secret_never_appears_in_reprs():
    adapter = WebhookAdapter("http://127.0.0.1:9/x", SecretStr(SECRET))
    try:
        assert SECRET not in repr(adapter) and SECRET not in repr(adapter.__dict__)
    finally:
        adapter.close()
