"""Broker figures for `seawall stats --broker`: throughput, lag, pending, workers."""

from __future__ import annotations

import time
from typing import Any

import redis

from seawall.scale.broker import PROCESSED_KEY, THROUGHPUT_PREFIX, WORKERS_KEY, BrokerConfig

HEARTBEAT_STALE_S = 30.0


def broker_stats(r: redis.Redis, cfg: BrokerConfig) -> dict[str, Any]:
    now = time.time()
    sec = int(now)
    window = list(range(sec - 60, sec))  # whole seconds only: the current one is still filling
    pipe = r.pipeline(transaction=False)
    pipe.exists(cfg.stream)
    pipe.xlen(cfg.stream)
    pipe.get(PROCESSED_KEY)
    pipe.hgetall(WORKERS_KEY)
    pipe.mget([f"{THROUGHPUT_PREFIX}{s}" for s in window])
    exists, length, processed, beats, per_second = pipe.execute()
    group: dict[str, Any] = {}
    consumers: list[dict[str, Any]] = []
    if exists:
        for g in r.xinfo_groups(cfg.stream):
            if _s(g.get("name")) == cfg.group:
                group = g
        if group:
            consumers = r.xinfo_consumers(cfg.stream, cfg.group)
    counts = [int(v or 0) for v in per_second]
    workers = {_s(k): now - float(v) for k, v in (beats or {}).items()}
    return {
        "stream": cfg.stream,
        "group": cfg.group,
        "backlog": int(length or 0),  # entries are deleted once acknowledged
        "lag": int(group.get("lag") or 0) if group else 0,  # not yet delivered to any worker
        "pending": int(group.get("pending") or 0) if group else 0,  # delivered, not acknowledged
        "max_backlog": cfg.max_backlog,
        "processed_total": int(processed or 0),
        "throughput_events_per_s": {
            "last_10s": round(sum(counts[-10:]) / 10, 1),
            "last_60s": round(sum(counts) / 60, 1),
        },
        "workers_alive": sorted(w for w, age in workers.items() if age < HEARTBEAT_STALE_S),
        "consumers": [
            {"name": _s(c.get("name")), "pending": int(c.get("pending") or 0),
             "idle_ms": int(c.get("idle") or 0)}
            for c in consumers
        ],
    }


def _s(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)
