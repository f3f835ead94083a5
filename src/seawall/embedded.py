"""The embedded deployment: one process, SQLite, the durable inbox and its worker thread."""

from __future__ import annotations

from typing import Sequence

from seawall.actions.dispatcher import DispatcherThread, dispatcher_from_settings
from seawall.config import Settings
from seawall.metrics import Metrics
from seawall.normalize.item import Item
from seawall.pipeline.pipeline import Pipeline
from seawall.pipeline.runtime import InboxWorker
from seawall.storage.base import Store
from seawall.storage.sql import open_store


class Embedded:
    def __init__(self, settings: Settings, store: Store | None = None):
        self.settings = settings
        self.store = store or open_store(settings.database_url)
        self.metrics = Metrics()
        self.pipeline = Pipeline.from_settings(settings, self.store, self.metrics)
        self.worker = InboxWorker(self.pipeline, batch_size=settings.pipeline.batch_size)
        # Delivers actions to the platform when an adapter is configured ([actions.webhook]).
        dispatcher = dispatcher_from_settings(settings.actions, self.store.engine)  # type: ignore[attr-defined]
        self.dispatcher = DispatcherThread(dispatcher) if dispatcher else None

    def start(self) -> None:
        self.worker.start()
        if self.dispatcher:
            self.dispatcher.start()

    def stop(self) -> None:
        self.worker.stop()
        if self.dispatcher:
            self.dispatcher.stop()

    def submit(self, items: Sequence[Item], source: str) -> tuple[int, int]:
        """Durably accept validated events; returns (accepted, duplicates)."""
        rows = [(i.key, source, i.event.model_dump_json(exclude_none=True)) for i in items]
        accepted, duplicates = self.store.enqueue(rows)
        if accepted:
            self.metrics.received.labels(source.split(":", 1)[0]).inc(accepted)
            self.worker.notify()
        return accepted, duplicates
