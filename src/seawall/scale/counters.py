"""Shared counters and windows in Redis, exact under concurrency (every operation is one atomic
MULTI block or Lua script), for rate signals that must count across all workers.

- `incr(name, window_s)`: a fixed-window counter (INCR + EXPIRE in one MULTI): how many times in
  the current window of `window_s` seconds (wall clock); every caller sees a distinct value.
- `add_sliding(name, member, at, window_s)`: a sliding window by event time (a sorted set; one Lua
  script adds the member, drops what is at or before `at - window_s` and counts).
- `add_distinct(name, members, window_s)`: distinct members (a set), expiring `window_s` after
  the last addition.

Keys live under `seawall:ctr:` and always carry a TTL, so abandoned counters cost nothing.
"""

from __future__ import annotations

import time
from typing import Iterable

import redis

PREFIX = "seawall:ctr:"

_SLIDING = """
local key, at, member, horizon, ttl = KEYS[1], ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
redis.call('ZADD', key, at, member)
redis.call('ZREMRANGEBYSCORE', key, '-inf', horizon)
redis.call('EXPIRE', key, ttl)
return redis.call('ZCARD', key)
"""

_DISTINCT = """
local key, ttl = KEYS[1], tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('SADD', key, ARGV[i]) end
redis.call('EXPIRE', key, ttl)
return redis.call('SCARD', key)
"""


class RedisCounters:
    def __init__(self, client: redis.Redis, prefix: str = PREFIX):
        self.r = client
        self.prefix = prefix
        self._sliding = client.register_script(_SLIDING)
        self._distinct = client.register_script(_DISTINCT)

    def _fixed(self, name: str, window_s: int, now: float | None) -> str:
        bucket = int((now if now is not None else time.time()) // window_s)
        return f"{self.prefix}{name}:{window_s}:{bucket}"

    def incr(self, name: str, window_s: int = 60, by: int = 1, now: float | None = None) -> int:
        key = self._fixed(name, window_s, now)
        pipe = self.r.pipeline(transaction=True)
        pipe.incrby(key, by)
        pipe.expire(key, window_s * 2)
        value, _ = pipe.execute()
        return int(value)

    def get(self, name: str, window_s: int = 60, now: float | None = None) -> int:
        return int(self.r.get(self._fixed(name, window_s, now)) or 0)

    def add_sliding(self, name: str, member: str, at: float, window_s: float) -> int:
        return int(self._sliding(keys=[self.prefix + name],
                                 args=[repr(at), member, repr(at - window_s), int(window_s) + 1]))

    def add_distinct(self, name: str, members: Iterable[str], window_s: int) -> int:
        return int(self._distinct(keys=[self.prefix + name], args=[int(window_s), *members]))
