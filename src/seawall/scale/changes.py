"""The change stream: what one worker changes in shared state reaches every worker's memory.

Per-worker memory (the hash-bank matcher, the suspended-accounts set, anything a signal caches)
is loaded from PostgreSQL at start. When something changes it, the writer publishes a small
notice on the `seawall:changes` stream (XADD, trimmed to about 10,000 notices: they are hints,
not data); every worker reads the stream (plain XREAD, each worker sees every notice) between
batches and applies it: a bank notice refreshes the matcher from the database, an account notice
updates the set. A periodic full resync from the database is the safety net for notices missed
while Redis was away or trimmed.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable

import orjson
import redis
from sqlalchemy import select

from seawall.scale.broker import CHANGES_STREAM, REDIS_DOWN
from seawall.storage.schema import accounts

log = logging.getLogger("seawall.scale.changes")

KINDS = ("banks", "account")
Handler = Callable[[dict[str, Any]], None]


class ChangeFeed:
    """Publishes notices. Publishing never blocks the pipeline: a notice that cannot be sent is
    logged and left to the periodic resync."""

    def __init__(self, client: redis.Redis, stream: str = CHANGES_STREAM, maxlen: int = 10_000):
        self.r = client
        self.stream = stream
        self.maxlen = maxlen

    def publish(self, kind: str, **data: Any) -> bool:
        if kind not in KINDS:
            raise ValueError(f"change kind {kind!r}: expected one of {', '.join(KINDS)}")
        try:
            self.r.xadd(self.stream, {"kind": kind, "data": orjson.dumps(data)}, maxlen=self.maxlen, approximate=True)
            return True
        except REDIS_DOWN as exc:
            log.warning("could not publish a %s change (%s); workers pick it up at their next resync", kind, exc)
            return False


class ChangeFollower:
    """Reads notices published after it started and hands each to the handler of its kind."""

    def __init__(
        self, client: redis.Redis, handlers: dict[str, Handler], resync: Callable[[], None],
        resync_every_s: float = 30.0, stream: str = CHANGES_STREAM,
    ):
        self.r = client
        self.handlers = handlers
        self.resync = resync
        self.resync_every_s = resync_every_s
        self.stream = stream
        self.last_id: bytes | str | None = None
        self.applied = 0
        self.resyncs = 0
        self._last_resync = time.monotonic()

    def start(self) -> None:
        """Start after the newest notice: what is older is already in the database we load from."""
        newest = self.r.xrevrange(self.stream, count=1)
        self.last_id = newest[0][0] if newest else "0-0"

    def poll(self) -> int:
        """Apply waiting notices (non-blocking); resync when due. Returns notices applied."""
        n = 0
        if self.last_id is None:
            try:
                self.start()
            except REDIS_DOWN:
                return 0
        try:
            got = self.r.xread({self.stream: self.last_id}, count=1000)
        except REDIS_DOWN as exc:
            log.warning("change stream unavailable (%s)", exc)
            got = []
        for _stream, entries in got or []:
            for entry_id, fields in entries:
                self.last_id = entry_id
                kind = fields.get(b"kind", b"").decode()
                handler = self.handlers.get(kind)
                if handler is None:
                    continue
                try:
                    handler(orjson.loads(fields.get(b"data", b"{}")))
                    n += 1
                except Exception:  # a bad notice must not stop the worker; the resync repairs
                    log.exception("applying a %s change failed", kind)
        self.applied += n
        if time.monotonic() - self._last_resync >= self.resync_every_s:
            self.resync_now()
        return n

    def resync_now(self) -> None:
        self._last_resync = time.monotonic()
        try:
            self.resync()
            self.resyncs += 1
        except Exception:
            log.exception("periodic resync failed; retrying at the next one")


class SuspendedAccounts:
    """The set of suspended accounts, in memory in every worker (for signals that ask whether an
    account is suspended, e.g. ban-evasion matching): loaded from the database, kept current by
    `account` notices, resynced periodically."""

    def __init__(self, engine: Any):
        self.engine = engine
        self.ids: set[str] = set()

    def load(self) -> None:
        with self.engine.connect() as conn:
            found = set(conn.execute(select(accounts.c.id).where(accounts.c.status == "suspended")).scalars())
        self.ids = found

    def apply(self, data: dict[str, Any]) -> None:
        account, status = str(data.get("id", "")), data.get("status")
        if not account:
            return
        if status == "suspended":
            self.ids.add(account)
        elif status == "active":
            self.ids.discard(account)

    def __contains__(self, account_id: object) -> bool:
        return account_id in self.ids

    def __len__(self) -> int:
        return len(self.ids)
