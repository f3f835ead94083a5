"""Intake onto the stream: `seawall replay FILE --broker` and the API's `POST /v1/events`.

Events are validated here (the same Intake as the embedded default; rejections go to the
dead-letter store) and added to the stream with XADD. Back-pressure: when the backlog is over the
bound, a replay waits and the API answers 503 with Retry-After. Nothing accepted is ever dropped:
an XADD that fails because Redis is away is retried (replay) or reported as not accepted (API).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from pathlib import Path
from typing import Any, BinaryIO, Sequence

import redis

from seawall.ingest.intake import Intake, read_lines
from seawall.normalize.item import Item
from seawall.pipeline.replay import MAX_LISTED_REJECTIONS, open_events_file
from seawall.scale.broker import REDIS_DOWN, BrokerConfig, backlog, encode
from seawall.storage.base import Store

log = logging.getLogger("seawall.scale.enqueue")


class Backpressure(Exception):
    """The backlog is over its bound (or Redis is away): try again after `retry_after` seconds."""

    def __init__(self, reason: str, retry_after: int, backlog: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.backlog = backlog


class Enqueuer:
    def __init__(self, client: redis.Redis, cfg: BrokerConfig):
        self.r = client
        self.cfg = cfg
        self.waited_s = 0.0  # time spent held back by the bound (replay)

    def add(self, items: Sequence[Item], source: str, wait: bool = False) -> int:
        """Add validated events to the stream; returns how many were added (all of them). With
        `wait`, blocks while the backlog is over the bound or Redis is away; without, raises
        Backpressure. Returns only after Redis has acknowledged every XADD."""
        if not items:
            return 0
        delay = 0.05
        while True:
            try:
                n = backlog(self.r, self.cfg)
                if n >= self.cfg.max_backlog:
                    if not wait:
                        raise Backpressure(f"{n} events wait for workers (bound {self.cfg.max_backlog})", 2, n)
                    started = time.monotonic()
                    time.sleep(0.25)
                    self.waited_s += time.monotonic() - started
                    continue
                pipe = self.r.pipeline(transaction=False)
                for item in items:
                    pipe.xadd(self.cfg.stream, encode(item, source))  # type: ignore[arg-type]
                pipe.execute()
                return len(items)
            except REDIS_DOWN as exc:
                if not wait:
                    raise Backpressure(f"the event broker is unavailable ({type(exc).__name__})", 5) from None
                # Some of this chunk may be on the stream already; sending it again only makes
                # duplicates, which workers skip by key. Dropping it would lose events.
                log.warning("broker unavailable (%s); retrying in %.1f s", exc, delay)
                time.sleep(delay)
                delay = min(delay * 2, 2.0)


def enqueue_stream(
    enqueuer: Enqueuer, store: Store, stream: BinaryIO, source: str, fmt: str = "seawall", batch_size: int = 1000
) -> dict[str, Any]:
    """Validate a JSONL stream and put its events on the broker's stream; rejected lines become
    dead letters exactly as in a local replay. Returns a JSON-able summary."""
    intake = Intake(fmt, source=source)
    counts: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    examples: list[dict[str, Any]] = []
    started = time.perf_counter()
    for chunk in read_lines(stream, batch_size):
        counts["lines"] += len(chunk)
        res = intake.accept_lines(chunk)
        if res.rejected:
            counts["rejected"] += len(res.rejected)
            store.add_dead_letters(res.rejected)
            for d in res.rejected:
                reasons[f"{d.field}: {d.reason}" if d.field else d.reason] += 1
                if len(examples) < MAX_LISTED_REJECTIONS:
                    examples.append({"line": d.line_no, "field": d.field, "reason": d.reason})
        counts["events_read"] += len(res.items)
        counts["enqueued"] += enqueuer.add(res.items, source, wait=True)
    elapsed = time.perf_counter() - started
    return {
        "source": source,
        "format": fmt,
        "broker_stream": enqueuer.cfg.stream,
        "lines": counts["lines"],
        "events_read": counts["events_read"],
        "enqueued": counts["enqueued"],
        "rejected": counts["rejected"],
        "rejected_reasons": dict(reasons.most_common(20)),
        "rejections": examples,
        "held_back_s": round(enqueuer.waited_s, 3),
        "elapsed_s": round(elapsed, 3),
        "events_per_s": round(counts["events_read"] / elapsed, 1) if elapsed > 0 else None,
    }


def enqueue_file(
    enqueuer: Enqueuer, store: Store, path: Path, fmt: str = "seawall", batch_size: int = 1000
) -> dict[str, Any]:
    """`seawall replay FILE --broker`: a file (optionally .gz) onto the stream."""
    with open_events_file(path) as stream:
        summary = enqueue_stream(enqueuer, store, stream, f"replay:{path.name}", fmt, batch_size)
    return {"file": str(path), **summary}
