"""The campaign detector's sliding windows in Redis, shared by every worker
(`seawall.campaigns.windows.WindowStore`, the interface `InMemoryWindowStore` implements in one
process).

Per key, five Redis keys under one hash tag (so a cluster keeps them on one shard):
`{k}:e` a sorted set of the window's posts (`post TAB account TAB young`, scored by stream time),
`{k}:a` a hash account -> uses in the window, `{k}:y` the set of young accounts in the window,
`{k}:b` the set of violating posts in the window, `{k}:m` a hash of the rest (first_t, last_t,
the decayed baseline mass and its time, hot, hot_until, judged, sample, multi). Each observation is
one Lua script: evict what left the window (folding it into the baseline mass as the in-memory
store does), add the post, return the state; it runs atomically, so workers observing
the same key at once both count. A key seen once inside the window answers None, as in memory.

Differences from the in-memory store, by design: text keys (Python `hash()` values, which differ
between processes) are named by a stable hash of the text; idle keys are forgotten by Redis TTL
(`retention` seconds of wall time) rather than by stream time in `advance`.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any, Iterable

import redis

_OBSERVE = """
local e, a, y, b, m = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local t, post, acct, young = tonumber(ARGV[1]), ARGV[2], ARGV[3], ARGV[4]
local window, tau, sample, ttl = tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7], tonumber(ARGV[8])
local horizon = t - window
local multi = redis.call('HGET', m, 'multi')
if multi ~= '1' then
  -- at most one earlier post: keep it if it is still inside the window, else start afresh
  local first = redis.call('ZRANGE', e, 0, 0, 'WITHSCORES')
  if #first == 0 or tonumber(first[2]) < horizon then
    redis.call('DEL', e, a, y, b, m)
    redis.call('HSET', m, 'first_t', ARGV[1], 'last_t', ARGV[1], 'mass', 0, 'mass_t', ARGV[1], 'hot', '', 'hot_until', 0,
               'je', 0, 'jz', 0, 'sample', sample, 'multi', '0')
    redis.call('ZADD', e, t, post .. '\\t' .. acct .. '\\t' .. young)
    redis.call('HINCRBY', a, acct, 1)
    if young == '1' then redis.call('SADD', y, acct) end
    for _, k in ipairs(KEYS) do redis.call('EXPIRE', k, ttl) end
    return nil
  end
  redis.call('HSET', m, 'multi', '1')
  if redis.call('HGET', m, 'sample') == '' and sample ~= '' then redis.call('HSET', m, 'sample', sample) end
end
local old = redis.call('ZRANGEBYSCORE', e, '-inf', '(' .. horizon, 'WITHSCORES')
if #old > 0 then
  local mass, mass_t = tonumber(redis.call('HGET', m, 'mass')), tonumber(redis.call('HGET', m, 'mass_t'))
  for i = 1, #old, 2 do
    local p, ac = string.match(old[i], '^(.-)\\t(.-)\\t')
    redis.call('SREM', b, p)
    if redis.call('HINCRBY', a, ac, -1) <= 0 then
      redis.call('HDEL', a, ac)
      redis.call('SREM', y, ac)
    end
  end
  -- the evicted posts join the decayed baseline mass, dated at the window's edge
  if horizon > mass_t then
    mass = mass * math.exp((mass_t - horizon) / tau)
    mass_t = horizon
  end
  mass = mass + #old / 2
  redis.call('ZREMRANGEBYSCORE', e, '-inf', '(' .. horizon)
  redis.call('HSET', m, 'mass', string.format('%.17g', mass), 'mass_t', string.format('%.17g', mass_t))
end
redis.call('ZADD', e, t, post .. '\\t' .. acct .. '\\t' .. young)
local uses = redis.call('HINCRBY', a, acct, 1)
if uses == 1 and young == '1' then redis.call('SADD', y, acct) end
if t > tonumber(redis.call('HGET', m, 'last_t')) then redis.call('HSET', m, 'last_t', ARGV[1]) end
for _, k in ipairs(KEYS) do redis.call('EXPIRE', k, ttl) end
return {redis.call('ZCARD', e), redis.call('SCARD', b), redis.call('SCARD', y), redis.call('HLEN', a),
        redis.call('HMGET', m, 'first_t', 'mass', 'mass_t', 'hot', 'hot_until', 'je', 'jz', 'sample')}
"""

_MARK = """
local e, a, y, b, m = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local post, t = ARGV[1], tonumber(ARGV[2])
if redis.call('HGET', m, 'multi') ~= '1' then return nil end
if redis.call('SISMEMBER', b, post) == 0 then
  local first = redis.call('ZRANGE', e, 0, 0, 'WITHSCORES')
  if #first == 0 or t < tonumber(first[2]) then return nil end
  redis.call('SADD', b, post)
end
return {redis.call('ZCARD', e), redis.call('SCARD', b), redis.call('SCARD', y), redis.call('HLEN', a),
        redis.call('HMGET', m, 'first_t', 'mass', 'mass_t', 'hot', 'hot_until', 'je', 'jz', 'sample')}
"""

_GET = """
local e, a, y, b, m = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
if redis.call('HGET', m, 'multi') ~= '1' then return nil end
return {redis.call('ZCARD', e), redis.call('SCARD', b), redis.call('SCARD', y), redis.call('HLEN', a),
        redis.call('HMGET', m, 'first_t', 'mass', 'mass_t', 'hot', 'hot_until', 'je', 'jz', 'sample')}
"""


class RedisKeyState:
    """A snapshot of one key's window; `hot`, `hot_until` and `judged` write through to Redis so
    that every worker sees a key the detector has judged a campaign."""

    _WRITE_THROUGH = {"hot", "hot_until", "judged"}

    def __init__(self, store: "RedisWindowStore", key: Any, name: str, raw: list[Any]):
        volume, violating, young, accounts, meta = raw
        first_t, mass, mass_t, hot, hot_until, je, jz, sample = meta
        d = self.__dict__
        d.update(
            _store=store, _name=name, key=key, volume=int(volume), violating=int(violating),
            young_accounts=int(young), _accounts=int(accounts), first_t=float(first_t), mass=float(mass),
            mass_t=float(mass_t), hot=_str(hot), hot_until=float(hot_until), judged=(float(je), float(jz)),
            sample=_str(sample),
        )

    def __setattr__(self, attr: str, value: Any) -> None:
        self.__dict__[attr] = value
        if attr in self._WRITE_THROUGH:
            m = self._store._keys(self._name)[4]
            if attr == "judged":
                self._store.r.hset(m, mapping={"je": repr(float(value[0])), "jz": repr(float(value[1]))})
            else:
                self._store.r.hset(m, attr, value if attr == "hot" else repr(float(value)))

    def account_count(self) -> int:
        return self._accounts

    def uses(self, account: str) -> int:
        return int(self._store.r.hget(self._store._keys(self._name)[1], account) or 0)

    def accounts(self) -> Iterable[str]:
        return [_str(a) for a in self._store.r.hkeys(self._store._keys(self._name)[1])]

    def expected(self, now: float, window: float, tau: float, prior_rate: float) -> float:
        # The same estimate as seawall.campaigns.windows.KeyWindow.expected.
        start = now - window
        span = start - self.first_t
        if span < window:
            return prior_rate * window
        mass = self.mass * math.exp(-max(0.0, start - self.mass_t) / tau)
        rate = mass / (tau * (1.0 - math.exp(-span / tau)))
        return max(rate, prior_rate / 10.0) * window

    def members(self) -> list[tuple[float, str, str]]:
        out = []
        for member, score in self._store.r.zrange(self._store._keys(self._name)[0], 0, -1, withscores=True):
            post, account, _ = _str(member).split("\t")
            out.append((float(score), post, account))
        out.sort()
        return out


class RedisWindowStore:
    """`WindowStore` over Redis: the windows every worker shares."""

    def __init__(self, client: redis.Redis, window: float, tau: float, retention: float,
                 prefix: str = "seawall:cw:"):
        self.r = client
        self.window = window
        self.tau = tau
        self.ttl = int(max(retention, window)) + 1
        self.prefix = prefix
        self._observe = client.register_script(_OBSERVE)
        self._mark = client.register_script(_MARK)
        self._get = client.register_script(_GET)
        self._text_names: dict[int, str] = {}  # process-local text hash -> stable name

    def _name(self, key: Any, sample: str = "") -> str | None:
        if key.__class__ is int:
            if sample:
                name = "text:" + hashlib.blake2b(sample.encode("utf-8"), digest_size=8).hexdigest()
                self._text_names[key] = name
                return name
            return self._text_names.get(key)
        return str(key)

    def _keys(self, name: str) -> list[str]:
        base = f"{self.prefix}{{{name}}}"
        return [f"{base}:e", f"{base}:a", f"{base}:y", f"{base}:b", f"{base}:m"]

    def observe(self, key: Any, t: float, post: str, account: str, young: bool, sample: str = "") -> RedisKeyState | None:
        name = self._name(key, sample)
        if name is None:
            return None
        raw = self._observe(keys=self._keys(name), args=[
            repr(t), post, account, "1" if young else "0", repr(self.window), repr(self.tau), sample, self.ttl])
        return None if raw is None else RedisKeyState(self, key, name, raw)

    def mark_violating(self, key: Any, post: str, t: float) -> RedisKeyState | None:
        name = self._name(key)
        if name is None:
            return None
        raw = self._mark(keys=self._keys(name), args=[post, repr(t)])
        return None if raw is None else RedisKeyState(self, key, name, raw)

    def get(self, key: Any) -> RedisKeyState | None:
        name = self._name(key)
        if name is None:
            return None
        raw = self._get(keys=self._keys(name))
        return None if raw is None else RedisKeyState(self, key, name, raw)

    def advance(self, now: float) -> None:
        # Redis forgets idle keys by TTL; only the local text-name map needs bounding.
        if len(self._text_names) > 1_000_000:
            self._text_names.clear()

    def __len__(self) -> int:
        return sum(1 for _ in self.r.scan_iter(match=f"{self.prefix}*:m", count=1000))


def _str(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else ("" if v is None else str(v))
