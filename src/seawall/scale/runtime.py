"""The API's runtime when it serves with `--broker`: accepted events go to the Redis stream
(the 202 is sent only after every XADD is acknowledged) instead of the SQLite inbox; stream
workers (`seawall worker`) process them. Same interface as `seawall.embedded.Embedded`."""

from __future__ import annotations

import time
from typing import Sequence

import redis

from seawall.config import Settings
from seawall.metrics import Metrics
from seawall.normalize.item import Item
from seawall.pipeline.pipeline import Pipeline
from seawall.scale.broker import DEFAULT_MAX_BACKLOG, REDIS_DOWN, BrokerConfig, connect, ensure_group
from seawall.scale.enqueue import Backpressure, Enqueuer
from seawall.storage.base import Store
from seawall.storage.sql import open_store


class BrokerLink:
    """Stands where the embedded runtime has its worker thread: readiness is "the broker answers"."""

    def __init__(self, client: redis.Redis):
        self.r = client
        self.last_error: str | None = None
        self._checked = 0.0

    @property
    def alive(self) -> bool:
        now = time.monotonic()
        if now - self._checked > 1.0:
            self._checked = now
            try:
                self.r.ping()
                self.last_error = None
            except REDIS_DOWN as exc:
                self.last_error = f"broker unavailable: {type(exc).__name__}"
        return self.last_error is None


class BrokerRuntime:
    def __init__(self, settings: Settings, broker_url: str, store: Store | None = None, max_backlog: int | None = None):
        self.settings = settings
        self.store = store or open_store(settings.database_url)
        self.metrics = Metrics()
        # Used only for replaying dead letters from the API; stream workers do the processing.
        self.pipeline = Pipeline.from_settings(settings, self.store, self.metrics)
        self.cfg = BrokerConfig(broker_url, max_backlog=max_backlog or DEFAULT_MAX_BACKLOG)
        self.client = connect(broker_url)
        self.enqueuer = Enqueuer(self.client, self.cfg)
        self.worker = BrokerLink(self.client)

    def start(self) -> None:
        try:
            ensure_group(self.client, self.cfg)
        except REDIS_DOWN:
            pass  # the first worker creates it; intake answers 503 until the broker is up

    def stop(self) -> None:
        self.client.close()

    def submit(self, items: Sequence[Item], source: str) -> tuple[int, int]:
        """Put validated events on the stream; raises Backpressure when the backlog is over its
        bound or the broker is away (the API answers 503 with Retry-After). Duplicates within the
        request are dropped here; duplicates of stored events are skipped by the workers."""
        unique: dict[str, Item] = {}
        for item in items:
            unique.setdefault(item.key, item)
        accepted = self.enqueuer.add(list(unique.values()), source, wait=False)
        if accepted:
            self.metrics.received.labels(source.split(":", 1)[0]).inc(accepted)
        return accepted, len(items) - accepted


__all__ = ["Backpressure", "BrokerRuntime"]
