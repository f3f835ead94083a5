"""The embedded runtime: a durable inbox drained by one background worker thread.

HTTP intake writes validated events to the inbox table and returns; the worker takes them in
batches through the pipeline. A crash between "decided" and "removed from the inbox" only means
the batch is read again, and the pipeline skips what is already stored.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from typing import Iterator

import orjson

from seawall.events import EventError, parse_event
from seawall.normalize.item import Item
from seawall.pipeline.pipeline import Batch, Pipeline, RunSummary
from seawall.storage.base import DeadLetter

log = logging.getLogger("seawall.runtime")


class InboxWorker:
    def __init__(self, pipeline: Pipeline, batch_size: int = 1000, idle_wait_s: float = 0.5):
        self.pipeline = pipeline
        self.store = pipeline.store
        self.batch_size = batch_size
        self.idle_wait_s = idle_wait_s
        self.totals = RunSummary()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="seawall-inbox", daemon=True)
        self._thread.start()

    def notify(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return bool(self._thread and self._thread.is_alive())

    def drain(self) -> RunSummary:
        """Process everything in the inbox now (used by tests and on shutdown)."""
        total = RunSummary()
        while (done := self.process_available()) is not None:
            total.merge(done)
        return total

    def process_available(self) -> RunSummary | None:
        """Process the inbox until it is empty; None if there was nothing to do. Batches are read
        ahead of the commit (the inbox cursor moves past rows in flight) and each batch's rows
        leave the inbox only after its results are committed."""
        cursor = 0
        seen = False

        def batches() -> Iterator[Batch]:
            nonlocal cursor, seen
            while not self._stop.is_set():
                rows = self.store.inbox_batch(self.batch_size, after_id=cursor)
                if not rows:
                    return
                seen = True
                cursor = rows[-1].id
                groups = self._items_by_source(rows)
                ids = [r.id for r in rows]
                for n, (source, items) in enumerate(groups.items()):
                    last = n == len(groups) - 1
                    yield Batch(items, source, (lambda ids=ids: self.store.inbox_done(ids)) if last else None)

        summary = self.pipeline.run_stream(batches())
        if not seen:
            return None
        self.totals.merge(summary)
        return summary

    def _items_by_source(self, rows: list) -> dict[str, list[Item]]:
        by_source: dict[str, list[Item]] = defaultdict(list)
        letters: list[DeadLetter] = []
        for row in rows:
            try:
                ev = parse_event(orjson.loads(row.payload))
            except (EventError, orjson.JSONDecodeError) as exc:
                # Only possible if the schema changed under stored rows: keep them, visibly.
                letters.append(DeadLetter("failed", row.source, "seawall", row.payload, f"inbox row unreadable: {exc}"))
                continue
            by_source[row.source].append(Item(event=ev, key=row.key, received_at=row.received_at.timestamp()))
        if letters:
            self.store.add_dead_letters(letters)
        if not by_source:
            by_source["inbox"] = []  # still yield a batch so the rows are marked done
        return by_source

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                if self.process_available() is None:
                    self._wake.wait(self.idle_wait_s)
                    self._wake.clear()
                self.last_error = None
            except Exception as exc:  # keep serving; the inbox keeps the events until this heals
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("inbox worker error; retrying in 1 s")
                time.sleep(1.0)
