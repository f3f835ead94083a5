"""The Redis side of a scaled deployment: connection, stream layout and how an event travels.

One stream (`seawall:events`) carries accepted events to one consumer group (`seawall-workers`).
An entry is the validated event in Seawall's own JSON form with its idempotency key, source and
acceptance time, so a worker needs no adapter and dedupes by the same key as the embedded inbox.
Workers delete entries once acknowledged, so the stream's length is exactly the backlog (not yet
delivered + delivered but unacknowledged); it is never trimmed by length, which would drop events.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import orjson
import redis

from seawall.events import parse_event
from seawall.normalize.item import Item

EVENTS_STREAM = "seawall:events"
GROUP = "seawall-workers"
CHANGES_STREAM = "seawall:changes"
PROCESSED_KEY = "seawall:processed"  # total events committed by all workers (INCRBY)
THROUGHPUT_PREFIX = "seawall:processed:s:"  # per-second counts, kept for 10 minutes
WORKERS_KEY = "seawall:workers"  # hash: worker name -> last heartbeat (epoch s)
DEFAULT_MAX_BACKLOG = 200_000

# Errors that mean "Redis is not reachable right now": callers wait and retry, never drop.
REDIS_DOWN = (redis.ConnectionError, redis.TimeoutError, redis.exceptions.BusyLoadingError)


class BrokerError(ValueError):
    """A broker URL or setting that cannot work; the message says which and why."""


@dataclass(frozen=True, slots=True)
class BrokerConfig:
    url: str
    stream: str = EVENTS_STREAM
    group: str = GROUP
    # Intake slows down (HTTP 503 + Retry-After, replay waits) when this many events wait.
    max_backlog: int = DEFAULT_MAX_BACKLOG


def check_url(url: str) -> str:
    parsed = urlparse(url)
    if parsed.scheme not in ("redis", "rediss", "unix"):
        raise BrokerError(f"--broker: expected redis://HOST:PORT/DB, got scheme {parsed.scheme or '(none)'!r}")
    if parsed.scheme != "unix" and not parsed.hostname:
        raise BrokerError("--broker: the URL names no host (redis://HOST:PORT/DB)")
    db = parsed.path.lstrip("/")
    if db and not db.isdigit():
        raise BrokerError(f"--broker: the database must be a number, got {db!r}")
    return url


def connect(url: str, timeout: float = 10.0) -> redis.Redis:
    """A client with bounded socket timeouts: a dead server shows up as an error, never a hang."""
    check_url(url)
    return redis.Redis.from_url(
        url, socket_timeout=timeout, socket_connect_timeout=5.0, health_check_interval=15,
    )


def redact(url: str) -> str:
    """The URL without its password, for log lines."""
    p = urlparse(url)
    if p.password:
        return url.replace(f":{p.password}@", ":***@", 1)
    return url


def encode(item: Item, source: str) -> dict[str, bytes]:
    return {
        "k": item.key.encode(),
        "s": source[:64].encode(),
        "t": repr(item.received_at).encode(),
        "e": item.event.model_dump_json(exclude_none=True).encode(),
    }


def decode(fields: dict[bytes, bytes]) -> tuple[Item, str]:
    """An entry back into an Item; raises ValueError (or an EventError) if it is unreadable."""
    ev = parse_event(orjson.loads(fields[b"e"]))
    return Item(event=ev, key=fields[b"k"].decode(), received_at=float(fields[b"t"])), fields[b"s"].decode()


def ensure_group(r: redis.Redis, cfg: BrokerConfig) -> None:
    """Create the stream and its consumer group if missing; new groups start at the beginning so
    events enqueued before the first worker started are not skipped."""
    try:
        r.xgroup_create(cfg.stream, cfg.group, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def backlog(r: redis.Redis, cfg: BrokerConfig) -> int:
    """Events not yet acknowledged (entries are deleted on acknowledgement)."""
    return int(r.xlen(cfg.stream))


def record_processed(pipe: Any, n: int, now: float | None = None) -> None:
    """Add to the shared throughput counters (inside the caller's pipeline)."""
    sec = int(now or time.time())
    pipe.incrby(PROCESSED_KEY, n)
    pipe.incrby(f"{THROUGHPUT_PREFIX}{sec}", n)
    pipe.expire(f"{THROUGHPUT_PREFIX}{sec}", 600)
