"""The dispatcher: takes due actions from the outbox and hands them to the platform adapter, one
attempt each per pass, recording every outcome. `DispatcherThread` runs it in the background of
the embedded runtime; `seawall actions dispatch` runs it on its own (as many as you like on
PostgreSQL)."""

from __future__ import annotations

import logging
import math
import os
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import timedelta

from sqlalchemy.engine import Engine

from seawall.actions.adapter import Action, DeliveryResult, PlatformAdapter, build_adapter
from seawall.actions.outbox import Outbox
from seawall.actions.retry import RetryPolicy
from seawall.actions.settings import ActionsSettings
from seawall.storage.rows import _now

log = logging.getLogger("seawall.actions.dispatcher")

ENROL_CHUNK = 500  # actions entered into the outbox per pass (one transaction)


@dataclass
class DispatchSummary:
    enrolled: int = 0
    attempted: int = 0
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    deferred: int = 0
    lost: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class Dispatcher:
    def __init__(self, engine: Engine, adapter: PlatformAdapter, settings: ActionsSettings,
                 policy: RetryPolicy | None = None, owner: str | None = None, concurrency: int = 4):
        self.outbox = Outbox(engine)
        self.adapter = adapter
        self.settings = settings
        self.policy = policy or RetryPolicy.from_settings(settings.retry)
        # Unique per dispatcher: the lease owner written on claimed rows.
        self.owner = owner or f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.concurrency = max(1, concurrency)

    @property
    def lease_s(self) -> float:
        # A claimed batch is delivered `concurrency` at a time; the lease outlasts the slowest case.
        rounds = math.ceil(self.settings.batch_size / self.concurrency)
        return rounds * self.adapter.max_duration_s + 30.0

    def run_once(self, stop: threading.Event | None = None) -> DispatchSummary:
        """Enter new actions into the outbox, then try every due action once (stopping between
        batches when `stop` is set)."""
        self._stopping = stop
        summary = DispatchSummary()
        summary.enrolled = self.outbox.enroll(self.settings.kinds, self.settings.evidence, limit=ENROL_CHUNK)
        started = _now()
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="seawall-deliver") as pool:
            while not (stop and stop.is_set()):
                batch = self.outbox.claim(self.owner, self.settings.batch_size, self.lease_s, not_tried_since=started)
                if not batch:
                    break
                for outcome in pool.map(self._attempt, batch):
                    setattr(summary, outcome, getattr(summary, outcome) + 1)
                    if outcome != "deferred":
                        summary.attempted += 1
        return summary

    _stopping: threading.Event | None = None

    def _attempt(self, action: Action) -> str:
        if self._stopping is not None and self._stopping.is_set():
            # Shutting down: hand the claim back at once rather than leave it leased.
            self.outbox.defer(action, self.owner, _now())
            return "deferred"
        if action.kind == "restore" and action.reverses:
            status, next_at = self.outbox.original_status(action)
            if status == "pending":
                # Never let a restore overtake the action it reverses.
                later = max(_now() + timedelta(seconds=self.settings.poll_interval_s), next_at or _now())
                self.outbox.defer(action, self.owner, later)
                return "deferred"
        started = _now()
        t0 = time.monotonic()
        try:
            result = self.adapter.deliver(action)
        except Exception as exc:  # an adapter bug must not lose the action: it is retried
            log.exception("adapter %s raised on action %s", self.adapter.name, action.id)
            result = DeliveryResult.retry(f"adapter raised {type(exc).__name__}: {exc}"[:300])
        duration_ms = int((time.monotonic() - t0) * 1000)
        outcome = self.outbox.record(action, self.owner, self.adapter.name, result, self.policy, started, duration_ms)
        if outcome == "failed":
            log.warning("action %s (%s) failed: %s", action.id, action.idempotency_key, result.error)
        return {"delivered": "delivered", "retry": "retried", "failed": "failed"}.get(outcome, "lost")

    def run_forever(self, stop: threading.Event, wake: threading.Event | None = None) -> None:
        wake = wake or threading.Event()
        while not stop.is_set():
            try:
                summary = self.run_once(stop)
                self.last_error = None
                if summary.enrolled >= ENROL_CHUNK:
                    continue  # a backlog is still entering the outbox: no pause
            except Exception as exc:  # the database may be away; the actions wait in the outbox
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("dispatcher error; retrying")
            wake.wait(self._idle_wait())
            wake.clear()

    last_error: str | None = None

    def _idle_wait(self) -> float:
        try:
            due = self.outbox.next_due()
        except Exception:
            return self.settings.poll_interval_s
        if due is None:
            return self.settings.poll_interval_s
        # New actions are only seen by polling; a retry due sooner than that wakes us sooner.
        return max(0.01, min(self.settings.poll_interval_s, (due - _now()).total_seconds()))

    def close(self) -> None:
        self.adapter.close()


class DispatcherThread:
    """A Dispatcher in a background thread with a clean stop: attempts in flight finish and are
    recorded; claimed actions not yet attempted are handed back to the outbox."""

    def __init__(self, dispatcher: Dispatcher):
        self.dispatcher = dispatcher
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self.dispatcher.run_forever, args=(self._stop, self._wake),
                                        name="seawall-dispatcher", daemon=True)
        self._thread.start()

    def notify(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout)
        self.dispatcher.close()

    @property
    def alive(self) -> bool:
        return bool(self._thread and self._thread.is_alive())

    @property
    def last_error(self) -> str | None:
        return self.dispatcher.last_error


def dispatcher_from_settings(settings: ActionsSettings, engine: Engine) -> Dispatcher | None:
    """The configured dispatcher, or None when no adapter is configured. Configuration errors
    (unknown adapter, missing or short secret) raise ValueError naming the setting."""
    adapter = build_adapter(settings)
    if adapter is None:
        return None
    return Dispatcher(engine, adapter, settings)
