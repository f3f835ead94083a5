"""The stream worker: take a batch from the consumer group, run it through the same Pipeline as
the embedded default, commit to PostgreSQL, then acknowledge.

Order is what makes it safe: an entry is acknowledged (XACK, then XDEL so the stream is exactly
the backlog) only after its results are committed. A worker that dies in between leaves the
entries pending; after `claim_idle_ms` another worker takes them over (XAUTOCLAIM) and the
pipeline skips every event already stored, so a redelivery never makes a second case or action
(the events, their cases and actions are written in one transaction, see storage/sql.py).

Failures: the store or Redis being away is not the events' fault, so the batch is retried with
back-off and nothing is dead-lettered; an event that fails by itself is dead-lettered by the
pipeline and its neighbours go on; an entry that keeps killing or hanging its worker (delivered
more than `max_deliveries` times) is dead-lettered instead of looping, and entries on their third
delivery are processed one at a time so one poison entry cannot take its batch with it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Iterator

import redis
from sqlalchemy import exc as sa_exc

from seawall.normalize.item import Item
from seawall.pipeline.pipeline import Batch, Pipeline, RunSummary
from seawall.pipeline.result import ProcessedEvent
from seawall.scale.broker import (
    REDIS_DOWN, WORKERS_KEY, BrokerConfig, backlog, decode, ensure_group, record_processed,
)
from seawall.scale.changes import ChangeFeed, ChangeFollower, SuspendedAccounts
from seawall.scale.status import WorkerMetrics
from seawall.storage.base import DeadLetter

log = logging.getLogger("seawall.scale.worker")

# The database being away (restart, fail-over, network) or a deadlock/serialisation failure
# between workers: retry the batch, never dead-letter it.
STORE_DOWN: tuple[type[BaseException], ...] = (
    sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError, sa_exc.TimeoutError,
)
TRANSIENT = STORE_DOWN + REDIS_DOWN

Entry = tuple[bytes, dict[bytes, bytes]]


@dataclass
class WorkerOptions:
    name: str
    batch_size: int = 500
    block_ms: int = 1000  # how long one read waits for new entries
    claim_idle_ms: int = 30_000  # an entry pending this long belongs to a dead or stuck worker
    reclaim_every_s: float = 5.0
    max_deliveries: int = 5  # more than this and the entry is dead-lettered
    isolate_after: int = 3  # from this delivery on, an entry is processed on its own
    stop_grace_s: float = 20.0  # on SIGTERM, how long to keep retrying a batch whose store is away
    exit_when_idle: bool = False  # leave once nothing is waiting or pending (batch jobs, tests)


class StreamWorker:
    def __init__(
        self,
        pipeline: Pipeline,
        client: redis.Redis,
        cfg: BrokerConfig,
        options: WorkerOptions,
        metrics: WorkerMetrics | None = None,
        follower: ChangeFollower | None = None,
        feed: ChangeFeed | None = None,
        suspended: SuspendedAccounts | None = None,
    ):
        self.pipeline = pipeline
        self.store = pipeline.store
        self.r = client
        self.cfg = cfg
        self.opt = options
        self.metrics = metrics
        self.follower = follower
        self.feed = feed
        self.suspended = suspended
        pipeline.transient_errors = TRANSIENT
        pipeline.listeners.append(self._after_commit)
        self.totals = RunSummary()
        self.acked = 0
        self.reclaimed = 0
        self.poisoned = 0
        self.joined = False
        self.last_error: str | None = None
        self.last_loop = time.monotonic()
        self._stop = threading.Event()
        self._stop_requested_at: float | None = None
        self._last_reclaim = 0.0
        self._pending_changes: list[tuple[str, dict[str, Any]]] = []

    # -- lifecycle ------------------------------------------------------------------------------
    def request_stop(self) -> None:
        """Finish the batch in hand, acknowledge it, then leave (SIGTERM)."""
        if self._stop_requested_at is None:
            self._stop_requested_at = time.monotonic()
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run(self) -> RunSummary:
        self._join()
        self._drain_own_pending()
        while not self.stopping:
            self.last_loop = time.monotonic()
            self._poll_changes()
            if time.monotonic() - self._last_reclaim >= self.opt.reclaim_every_s:
                self._last_reclaim = time.monotonic()
                self._housekeeping()
                if not self.stopping:
                    self._reclaim()
            entries = self._read(">")
            if entries:
                self._handle(entries)
            elif self.opt.exit_when_idle and self._idle():
                break
        self._leave()
        return self.totals

    def _idle(self) -> bool:
        try:
            return backlog(self.r, self.cfg) == 0
        except REDIS_DOWN:
            return False

    def _join(self) -> None:
        delay = 0.2
        while not self.stopping:
            try:
                ensure_group(self.r, self.cfg)
                self.joined = True
                return
            except REDIS_DOWN as exc:
                self._note_error(exc)
                time.sleep(delay)
                delay = min(delay * 2, 2.0)

    def _leave(self) -> None:
        try:
            self.r.hdel(WORKERS_KEY, self.opt.name)
        except REDIS_DOWN:
            pass

    def _drain_own_pending(self) -> None:
        """Entries delivered to this consumer name before a restart (same --name) come first."""
        while not self.stopping:
            entries = self._read("0")
            if not entries:
                return
            self._handle(entries)

    # -- reading --------------------------------------------------------------------------------
    def _read(self, start: str) -> list[Entry]:
        try:
            got = self.r.xreadgroup(
                self.cfg.group, self.opt.name, {self.cfg.stream: start}, count=self.opt.batch_size,
                block=self.opt.block_ms if start == ">" else None,
            )
        except REDIS_DOWN as exc:
            self._note_error(exc)
            time.sleep(0.5)
            return []
        except redis.ResponseError as exc:
            if "NOGROUP" in str(exc):  # Redis came back without the group (data lost): join again
                self._note_error(exc)
                self._join()
                return []
            raise
        entries: list[Entry] = []
        for _stream, found in got or []:
            entries.extend((eid, fields) for eid, fields in found if fields)
        return entries

    # -- processing -----------------------------------------------------------------------------
    def _handle(self, entries: list[Entry], isolate: bool = False) -> None:
        if self.metrics is not None:
            self.metrics.batches.inc()
        groups = [[e] for e in entries] if isolate else [entries]
        for group in groups:
            if self._process(group):
                self._ack([eid for eid, _ in group])
            self._publish_changes()

    def _process(self, entries: list[Entry]) -> bool:
        """Run entries through the pipeline until they are committed; False if the worker gave
        up (stopping while the store stays away): the entries stay pending for another worker."""
        delay = 0.5
        while True:
            items, letters = _decode_all(entries)
            try:
                summary = self.pipeline.run_stream(_batches(items))
                if letters:
                    self.store.add_dead_letters(letters)
                self.totals.merge(summary)
                self.last_error = None
                return True
            except TRANSIENT as exc:
                self._note_error(exc)
                self.last_loop = time.monotonic()  # retrying is alive (health), not ready (readiness)
                if self.metrics is not None:
                    self.metrics.retries.inc()
                if self._stop_requested_at is not None and time.monotonic() - self._stop_requested_at > self.opt.stop_grace_s:
                    log.warning("stopping with %d entries unacknowledged; another worker will take them", len(entries))
                    return False
                log.warning("batch of %d not committed (%s); retrying in %.1f s", len(entries), exc, delay)
                time.sleep(delay)
                delay = min(delay * 2, 5.0)

    def _ack(self, ids: list[bytes]) -> None:
        delay = 0.2
        while True:
            try:
                pipe = self.r.pipeline(transaction=True)
                pipe.xack(self.cfg.stream, self.cfg.group, *ids)
                pipe.xdel(self.cfg.stream, *ids)
                record_processed(pipe, len(ids))
                pipe.execute()
                self.acked += len(ids)
                if self.metrics is not None:
                    self.metrics.acked.inc(len(ids))
                return
            except REDIS_DOWN as exc:
                # Committed but not acknowledged: if we give up, the entries are redelivered and
                # skipped as already stored. Keep trying while Redis restarts.
                self._note_error(exc)
                self.last_loop = time.monotonic()
                if self._stop_requested_at is not None and time.monotonic() - self._stop_requested_at > self.opt.stop_grace_s:
                    return
                time.sleep(delay)
                delay = min(delay * 2, 2.0)

    # -- taking over from dead workers ----------------------------------------------------------
    def _reclaim(self) -> None:
        """XAUTOCLAIM entries idle longer than claim_idle_ms; dead-letter those delivered too
        often, process the rest (one at a time once they have failed a few times)."""
        try:
            # [cursor, entries] on Redis 6.2, [cursor, entries, deleted ids] on 7
            got = self.r.xautoclaim(
                self.cfg.stream, self.cfg.group, self.opt.name, min_idle_time=self.opt.claim_idle_ms,
                start_id="0-0", count=self.opt.batch_size,
            )
            claimed = [(eid, f) for eid, f in got[1] if f]
            if not claimed:
                return
            info = self.r.xpending_range(
                self.cfg.stream, self.cfg.group, min=claimed[0][0], max=claimed[-1][0],
                count=len(claimed) * 2 + 100, consumername=self.opt.name,
            )
        except REDIS_DOWN as exc:
            self._note_error(exc)
            return
        delivered = {p["message_id"]: int(p["times_delivered"]) for p in info}
        self.reclaimed += len(claimed)
        if self.metrics is not None:
            self.metrics.reclaimed.inc(len(claimed))
        log.info("took over %d entries from stopped workers", len(claimed))
        poison = [e for e in claimed if delivered.get(e[0], 1) > self.opt.max_deliveries]
        suspect = [e for e in claimed if self.opt.isolate_after <= delivered.get(e[0], 1) <= self.opt.max_deliveries]
        normal = [e for e in claimed if delivered.get(e[0], 1) < self.opt.isolate_after]
        if poison:
            self._dead_letter_poison(poison, delivered)
        if normal:
            self._handle(normal)
        if suspect:
            self._handle(suspect, isolate=True)

    def _dead_letter_poison(self, entries: list[Entry], delivered: dict[bytes, int]) -> None:
        letters = [
            DeadLetter(
                kind="failed",
                source=fields.get(b"s", b"stream").decode(errors="replace"),
                format="seawall",
                raw=fields.get(b"e", b"").decode(errors="replace"),
                reason=(f"delivered {delivered.get(eid)} times without being acknowledged (the worker "
                        f"processing it died or hung each time); stream entry {eid.decode()}"),
            )
            for eid, fields in entries
        ]
        delay = 0.5
        while True:
            try:
                self.store.add_dead_letters(letters)
                break
            except STORE_DOWN as exc:
                self._note_error(exc)
                if self.stopping:
                    return
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
        log.warning("dead-lettered %d entries delivered more than %d times", len(entries), self.opt.max_deliveries)
        self.poisoned += len(entries)
        if self.metrics is not None:
            self.metrics.poison.inc(len(entries))
        self._ack([eid for eid, _ in entries])

    # -- shared state ---------------------------------------------------------------------------
    def _after_commit(self, decided: list[ProcessedEvent]) -> None:
        """Collect what other workers must learn from this batch (published after the ack)."""
        for p in decided:
            ev = p.item.event
            if ev.type == "enforcement":
                if ev.account_id and ev.action in ("suspend", "restore"):
                    status = "suspended" if ev.action == "suspend" else "active"
                    self._pending_changes.append(("account", {"id": ev.account_id, "status": status}))
                elif ev.action == "remove" and ev.post_id:
                    self._pending_changes.append(("banks", {"reason": "removal feedback"}))
            if "suspend" in p.decision.actions:
                acct = getattr(ev, "account_id", None) or (ev.id if ev.type == "account" else None)
                if acct:
                    self._pending_changes.append(("account", {"id": acct, "status": "suspended"}))

    def _publish_changes(self) -> None:
        if not self._pending_changes:
            return
        changes, self._pending_changes = self._pending_changes, []
        seen: set[tuple[str, str]] = set()
        for kind, data in changes:
            if kind == "account" and self.suspended is not None:
                self.suspended.apply(data)  # in effect here at once; the notice is for the others
            sig = (kind, str(sorted(data.items())))
            if sig in seen or self.feed is None:
                continue
            seen.add(sig)
            self.feed.publish(kind, **data)

    def _poll_changes(self) -> None:
        if self.follower is None:
            return
        n = self.follower.poll()
        if n and self.metrics is not None:
            self.metrics.changes.inc(n)

    def _housekeeping(self) -> None:
        """Heartbeat and the stream gauges."""
        try:
            pipe = self.r.pipeline(transaction=False)
            pipe.hset(WORKERS_KEY, self.opt.name, repr(time.time()))
            pipe.xlen(self.cfg.stream)
            pipe.xinfo_groups(self.cfg.stream)
            _, length, groups = pipe.execute()
        except (redis.ResponseError, *REDIS_DOWN) as exc:
            self._note_error(exc)
            return
        if self.metrics is not None:
            self.metrics.backlog.set(length)
            for g in groups:
                if _s(g.get("name")) == self.cfg.group:
                    self.metrics.pending.set(int(g.get("pending") or 0))
                    self.metrics.lag.set(int(g.get("lag") or 0))

    def _note_error(self, exc: BaseException) -> None:
        self.last_error = f"{type(exc).__name__}: {exc}"[:300]

    # -- what the status server shows -----------------------------------------------------------
    def health(self) -> dict[str, Any]:
        # The loop iterates at least every block_ms when healthy, and retries with back-off at most
        # 5 s apart when a dependency is away: a minute without an iteration means it is stuck.
        stale = time.monotonic() - self.last_loop
        ok = stale < 60 or self.stopping
        return {"status": "ok" if ok else "stuck", "worker": self.opt.name, "seconds_since_loop": round(stale, 1)}

    def ready(self) -> dict[str, Any]:
        ready = self.joined and self.last_error is None and not self.stopping
        return {"ready": ready, "worker": self.opt.name, "error": self.last_error, "stopping": self.stopping}

    def state(self) -> dict[str, Any]:
        hashbank = next((s for s in self.pipeline.signals if s.name == "hashbank"), None)
        matcher = getattr(hashbank, "_matcher", None)
        return {
            "worker": self.opt.name,
            "acked": self.acked,
            "accepted": self.totals.accepted,
            "duplicates": self.totals.duplicates,
            "failed": self.totals.failed,
            "reclaimed": self.reclaimed,
            "dead_lettered_poison": self.poisoned,
            "changes_applied": self.follower.applied if self.follower else 0,
            "resyncs": self.follower.resyncs if self.follower else 0,
            "suspended_accounts": len(self.suspended) if self.suspended is not None else None,
            "bank_entries": len(matcher.entries) if matcher is not None else None,
        }


def _decode_all(entries: list[Entry]) -> tuple[list[tuple[Item, str]], list[DeadLetter]]:
    items: list[tuple[Item, str]] = []
    letters: list[DeadLetter] = []
    for eid, fields in entries:
        try:
            items.append(decode(fields))
        except Exception as exc:  # written by something else, or a schema change: keep it visibly
            letters.append(DeadLetter(
                "failed", fields.get(b"s", b"stream").decode(errors="replace"), "seawall",
                fields.get(b"e", repr(fields).encode()).decode(errors="replace"),
                f"stream entry {eid.decode()} unreadable: {type(exc).__name__}: {exc}",
            ))
    return items, letters


def _batches(items: list[tuple[Item, str]]) -> Iterator[Batch]:
    by_source: dict[str, list[Item]] = defaultdict(list)
    for item, source in items:
        by_source[source].append(item)
    for source, group in by_source.items():
        yield Batch(group, source)


def _s(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)
