"""Signing outgoing webhooks, and verifying them on the receiving side.

The sender puts the Unix time in `Seawall-Timestamp` and `v1=<hex HMAC-SHA256(secret,
timestamp + "." + body)>` in `Seawall-Signature`. A receiver recomputes the HMAC over the exact bytes
it received, compares in constant time, refuses timestamps outside a tolerance window (a captured
request cannot be replayed later) and remembers the signatures it accepted within that window (it
cannot be replayed sooner either). `verify_signature` does all of that; docs/actions.md shows a
receiver built on it. This module has no dependency beyond the standard library so that platforms
can copy the idea into any receiver.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Protocol, Sequence

TIMESTAMP_HEADER = "Seawall-Timestamp"
SIGNATURE_HEADER = "Seawall-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
DELIVERY_HEADER = "Seawall-Delivery"
SCHEME = "v1"
DEFAULT_TOLERANCE_S = 300


class SignatureError(ValueError):
    """A request that must be refused; `reason` says why (safe to log: it never contains the secret)."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def _key(secret: str | bytes) -> bytes:
    return secret.encode() if isinstance(secret, str) else secret


def signature(secret: str | bytes, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of `<timestamp>.<body>` under the shared secret."""
    return hmac.new(_key(secret), str(int(timestamp)).encode() + b"." + body, hashlib.sha256).hexdigest()


def sign(secret: str | bytes, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The signature headers for one request body."""
    ts = int(time.time()) if timestamp is None else int(timestamp)
    return {TIMESTAMP_HEADER: str(ts), SIGNATURE_HEADER: f"{SCHEME}={signature(secret, ts, body)}"}


class SeenIds(Protocol):
    def __contains__(self, item: object) -> bool: ...
    def add(self, item: str) -> None: ...


class ReplayCache:
    """Signatures accepted within the tolerance window, forgotten once their timestamp is too old to
    pass the timestamp check anyway (so memory stays bounded). Thread-safe; one per process. Several
    receiver processes need a shared store instead (for example a table with a unique column)."""

    def __init__(self, tolerance_s: float = DEFAULT_TOLERANCE_S):
        self.tolerance_s = tolerance_s
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def __contains__(self, item: object) -> bool:
        with self._lock:
            return item in self._seen

    def add(self, item: str, timestamp: float | None = None) -> None:
        self.check_and_add(item, timestamp)

    def check_and_add(self, item: str, timestamp: float | None = None) -> bool:
        """Record `item`; False if it was already there (atomic, so two copies of one request
        arriving together cannot both pass)."""
        now = time.time()
        with self._lock:
            if item in self._seen:
                return False
            self._seen[item] = now if timestamp is None else float(timestamp)
            if len(self._seen) % 1024 == 0:
                # Anything stamped before the window would fail the timestamp check anyway.
                cutoff = now - 2 * self.tolerance_s
                self._seen = {k: t for k, t in self._seen.items() if t >= cutoff}
            return True

    def __len__(self) -> int:
        return len(self._seen)


@dataclass(frozen=True)
class VerifiedDelivery:
    timestamp: int
    idempotency_key: str | None
    payload: dict[str, Any]


def _header(headers: Mapping[str, str] | Iterable[tuple[str, str]], name: str) -> str | None:
    items = headers.items() if isinstance(headers, Mapping) else headers
    wanted = name.lower()
    for k, v in items:
        if k.lower() == wanted:
            return v
    return None


def verify_signature(
    secret: str | bytes | Sequence[str | bytes],
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    body: bytes,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
    seen_ids: SeenIds | None = None,
    now: float | None = None,
) -> VerifiedDelivery:
    """Check a received webhook; return its decoded JSON body or raise SignatureError.

    `secret` may be a list (accept any of them while rotating secrets). `headers` are the request's
    headers (any case). `body` must be the raw bytes as received, before any JSON parsing. With
    `seen_ids` (a `ReplayCache`, a set, or anything with `in` and `add`), a signature accepted before
    is refused as a replay; without it only the timestamp window protects against replays.
    """
    ts_text = _header(headers, TIMESTAMP_HEADER)
    sig_text = _header(headers, SIGNATURE_HEADER)
    if not ts_text:
        raise SignatureError(f"missing {TIMESTAMP_HEADER} header")
    if not sig_text:
        raise SignatureError(f"missing {SIGNATURE_HEADER} header")
    try:
        ts = int(ts_text.strip())
    except ValueError:
        raise SignatureError(f"{TIMESTAMP_HEADER} is not an integer Unix time") from None
    current = time.time() if now is None else now
    if abs(current - ts) > tolerance_s:
        raise SignatureError(f"{TIMESTAMP_HEADER} is {int(current - ts)} s from now; the tolerance is {int(tolerance_s)} s")
    offered = [part.strip()[len(SCHEME) + 1:] for part in sig_text.split(",") if part.strip().startswith(SCHEME + "=")]
    if not offered:
        raise SignatureError(f"{SIGNATURE_HEADER} has no {SCHEME}= signature")
    secrets = [secret] if isinstance(secret, (str, bytes)) else list(secret)
    expected = [signature(s, ts, body) for s in secrets]
    # Compare every pair (no early exit) so timing says nothing about which part matched.
    matched = [e for e in expected for o in offered if hmac.compare_digest(e, o)]
    if not matched:
        raise SignatureError("signature does not match the body (tampered, or signed with another secret)")
    try:
        payload = json.loads(body)
    except ValueError:
        raise SignatureError("body is not JSON") from None
    if not isinstance(payload, dict):
        raise SignatureError("body is not a JSON object")
    key = _header(headers, IDEMPOTENCY_HEADER)
    if key is not None and key != payload.get("idempotency_key"):
        # The header is not signed; the body is. A mismatch means the header was altered.
        raise SignatureError(f"{IDEMPOTENCY_HEADER} header does not match the signed body")
    # The signature identifies the request: a replay must repeat both timestamp and body exactly.
    replay_id = matched[0]
    if isinstance(seen_ids, ReplayCache):
        fresh = seen_ids.check_and_add(replay_id, ts)
    elif seen_ids is not None:
        fresh = replay_id not in seen_ids
        if fresh:
            seen_ids.add(replay_id)
    else:
        fresh = True
    if not fresh:
        raise SignatureError("replayed request: this signature was already accepted")
    return VerifiedDelivery(ts, payload.get("idempotency_key"), payload)
