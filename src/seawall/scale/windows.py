"""The campaign detector's sliding windows in Redis, shared by every worker
(`seawall.campaigns.windows.WindowStore`, the interface `InMemoryWindowStore` implements in one
process).

Per key, Redis keys under one hash tag (so a cluster keeps them on one shard). A key used once
is one string `{k}:s` (its post, account, young flag, time and sample); most keys never get
further. On its second use inside the window it becomes five:
`{k}:e` a sorted set of the window's posts (`post TAB account TAB young`, scored by stream time),
`{k}:a` a hash account -> uses in the window, `{k}:y` the set of young accounts in the window,
`{k}:b` the set of violating posts in the window, `{k}:m` a hash of the rest (first_t, last_t,
the decayed baseline mass and its time, hot, hot_until, judged, sample, multi). Each observation is
one Lua script: evict what left the window (folding it into the baseline mass as the in-memory
store does), add the post, return the state; it runs atomically, so workers observing
the same key at once both count. A key seen once inside the window answers None, as in memory.

Differences from the in-memory store, by design: text keys (Python `hash()` values, which differ
between processes) are named by a stable hash of the text; idle keys are forgotten by Redis TTL
(`retention` seconds of wall time; a key used once: a few windows) rather than by stream time
in `advance`; the warm-up starts at the deployment's first post (`start_time`), not the
worker's.
"""

from __future__ import annotations

import hashlib
import math
import time
from typing import Any, Callable, Iterable, Sequence

import redis

_OBSERVE = """
local e, a, y, b, m, s = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local t, post, acct, young = tonumber(ARGV[1]), ARGV[2], ARGV[3], ARGV[4]
local window, tau, sample, ttl, single_ttl = tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7], tonumber(ARGV[8]), tonumber(ARGV[9])
local horizon = t - window
local me = post .. '\\t' .. acct .. '\\t' .. young .. '\\t' .. ARGV[1] .. '\\t' .. sample
if redis.call('HGET', m, 'multi') ~= '1' then
  -- Most keys are used once: they are one string until a second post comes inside the window.
  local first = redis.call('GET', s)
  local fp, fa, fy, ft, fs
  if first then fp, fa, fy, ft, fs = string.match(first, '^(.-)\\t(.-)\\t(.-)\\t(.-)\\t(.*)$') end
  if not first or tonumber(ft) < horizon then
    redis.call('SET', s, me, 'EX', single_ttl)
    return nil
  end
  if fp == post then return nil end  -- the same post again (a redelivered batch)
  redis.call('DEL', s, e, a, y, b, m)
  if fs == '' then fs = sample end
  redis.call('HSET', m, 'first_t', ft, 'last_t', ft, 'mass', 0, 'mass_t', ft, 'hot', '', 'hot_until', 0,
             'je', 0, 'jz', 0, 'sample', fs, 'multi', '1')
  redis.call('ZADD', e, ft, fp .. '\\t' .. fa .. '\\t' .. fy)
  redis.call('HINCRBY', a, fa, 1)
  if fy == '1' then redis.call('SADD', y, fa) end
  for i = 1, 5 do redis.call('EXPIRE', KEYS[i], ttl) end
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
if uses == 1 and young == '1' then
  redis.call('SADD', y, acct)
  if redis.call('TTL', y) < 0 then redis.call('EXPIRE', y, ttl) end  -- a set created just now
end
if t > tonumber(redis.call('HGET', m, 'last_t')) then redis.call('HSET', m, 'last_t', ARGV[1]) end
-- workers observe batches out of stream order: the key's history starts at its earliest post
if t < tonumber(redis.call('HGET', m, 'first_t')) then redis.call('HSET', m, 'first_t', ARGV[1]) end
-- idle keys expire `ttl` after their last use; refreshing once a minute is close enough, but an
-- eviction may have emptied (deleted) the window's sets, which the adds above then created afresh
if #old > 0 or redis.call('TTL', m) < ttl - 60 then
  for i = 1, 5 do redis.call('EXPIRE', KEYS[i], ttl) end
end
return {redis.call('ZCARD', e), redis.call('SCARD', b), redis.call('SCARD', y), redis.call('HLEN', a),
        redis.call('HMGET', m, 'first_t', 'mass', 'mass_t', 'hot', 'hot_until', 'je', 'jz', 'sample'), old}
"""

_MARK = """
local e, a, y, b, m = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local post, t = ARGV[1], tonumber(ARGV[2])
if redis.call('HGET', m, 'multi') ~= '1' then return nil end
if redis.call('SISMEMBER', b, post) == 0 then
  local first = redis.call('ZRANGE', e, 0, 0, 'WITHSCORES')
  if #first == 0 or t < tonumber(first[2]) then return nil end
  redis.call('SADD', b, post)
  if redis.call('TTL', b) < 0 then redis.call('EXPIRE', b, ARGV[3]) end  -- a set created just now
end
return {redis.call('ZCARD', e), redis.call('SCARD', b), redis.call('SCARD', y), redis.call('HLEN', a),
        redis.call('HMGET', m, 'first_t', 'mass', 'mass_t', 'hot', 'hot_until', 'je', 'jz', 'sample')}
"""

_RAISE_UNTIL = """
local cur = tonumber(redis.call('HGET', KEYS[1], 'hot_until') or '0') or 0
if tonumber(ARGV[1]) > cur then redis.call('HSET', KEYS[1], 'hot_until', ARGV[1]) end
"""

_COOL = """
local cur = tonumber(redis.call('HGET', KEYS[1], 'hot_until') or '0') or 0
if cur <= tonumber(ARGV[1]) then redis.call('HSET', KEYS[1], 'hot', '') end
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
        volume, violating, young, accounts, meta = raw[:5]  # (observe adds what it evicted)
        first_t, mass, mass_t, hot, hot_until, je, jz, sample = meta
        d = self.__dict__
        d.update(
            _store=store, _name=name, key=key, volume=int(volume), violating=int(violating),
            young_accounts=int(young), _accounts=int(accounts), first_t=float(first_t), mass=float(mass),
            mass_t=float(mass_t), hot=_str(hot), hot_until=float(hot_until), judged=(float(je), float(jz)),
            sample=_str(sample), _later=(), _evicted_later=(), _horizon=-math.inf,
        )

    def __setattr__(self, attr: str, value: Any) -> None:
        self.__dict__[attr] = value
        if attr in self._WRITE_THROUGH:
            self._store._written.setdefault(self._name, {})[attr] = value
            store = self._store
            m = store._keys(self._name)[4]
            if attr == "judged":
                store.r.hset(m, mapping={"je": repr(float(value[0])), "jz": repr(float(value[1]))})
            elif attr == "hot_until":
                # Workers judge batches out of stream order: a campaign's end only ever moves later.
                store._raise_until(keys=[m], args=[repr(float(value))])
            elif value:
                store.r.hset(m, "hot", value)
            else:  # cooled off, unless another worker has since extended it
                store._cool(keys=[m], args=[repr(self.hot_until)])

    def account_count(self) -> int:
        return self._accounts

    # The reads below are live. A state handed out by `observe_many` carries `_later`, the
    # (post, account) pairs its batch observed under the same key after it: they are taken out,
    # so that the answers are as of this observation, as when observing one by one.
    def uses(self, account: str) -> int:
        n = int(self._store.r.hget(self._store._keys(self._name)[1], account) or 0)
        return n - sum(1 for _, a in self._later if a == account)

    def accounts(self) -> Iterable[str]:
        uses = self._store.r.hgetall(self._store._keys(self._name)[1])
        later: dict[str, int] = {}
        for _, a in self._later:
            later[a] = later.get(a, 0) + 1
        return [a for a, n in ((_str(k), int(v)) for k, v in uses.items()) if n - later.get(a, 0) > 0]

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
        later = {p for p, _ in self._later}
        live = self._store.r.zrange(self._store._keys(self._name)[0], 0, -1, withscores=True)
        # ... and posts the batch's later observations evicted that were still in this one's window
        for member, score in [*live, *self._evicted_later]:
            post, account, _ = _str(member).split("\t")
            if post not in later and float(score) >= self._horizon:
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
        # A key used once lives as one string; a second use more than a window later starts afresh,
        # so it need only outlive the window (in wall time; the margin covers workers that run
        # behind the stream, down to a quarter of its rate).
        self.single_ttl = int(min(self.ttl, max(4 * window, 3600)))
        self.prefix = prefix
        self._observe = client.register_script(_OBSERVE)
        self._mark = client.register_script(_MARK)
        self._get = client.register_script(_GET)
        self._raise_until = client.register_script(_RAISE_UNTIL)
        self._cool = client.register_script(_COOL)
        self._touched = -math.inf
        self._written: dict[str, dict[str, Any]] = {}  # write-throughs since the last observe_many
        self._current: dict[str, RedisKeyState | None] = {}  # in a batch: each key's latest state taken
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
        return [f"{base}:e", f"{base}:a", f"{base}:y", f"{base}:b", f"{base}:m", f"{base}:s"]

    def _observe_args(self, t: float, post: str, account: str, young: bool, sample: str) -> list[Any]:
        return [repr(t), post, account, "1" if young else "0", repr(self.window), repr(self.tau), sample,
                self.ttl, self.single_ttl]

    def observe(self, key: Any, t: float, post: str, account: str, young: bool, sample: str = "") -> RedisKeyState | None:
        name = self._name(key, sample)
        if name is None:
            return None
        raw = self._observe(keys=self._keys(name), args=self._observe_args(t, post, account, young, sample))
        return None if raw is None else RedisKeyState(self, key, name, raw)

    def observe_many(self, calls: Sequence[tuple[Any, float, str, str, bool, str]]) -> Callable[..., RedisKeyState | None]:
        """`observe` for each call (key, t, post, account, young, sample), in order, in one round
        trip. Returns a function that hands out the states in the same order (its arguments are
        ignored). Each state is the key's right after that observation; what the caller writes
        through (`hot`, `hot_until`, `judged`) after this call is applied to the later states it
        takes, as if it had observed them one by one."""
        self._written = written = {}
        self._current = current = {}
        pipe = self.r.pipeline(transaction=False)
        names: list[tuple[Any, str | None, str, str]] = []
        by_name: dict[str, list[tuple[str, str]]] = {}  # name -> (post, account) in batch order
        for key, t, post, account, young, sample in calls:
            name = self._name(key, sample)
            names.append((key, name, post, t))
            if name is not None:
                by_name.setdefault(name, []).append((post, account))
                self._observe(keys=self._keys(name), args=self._observe_args(t, post, account, young, sample),
                              client=pipe)
        raws = iter(pipe.execute() if len(pipe) else [])
        answers = [(key, name, t, next(raws) if name is not None else None) for key, name, _, t in names]
        evicted: dict[str, list[list[tuple[Any, Any]]]] = {}  # name -> per observation, what it evicted
        for _, name, _, raw in answers:
            if name is not None:
                old = raw[5] if raw is not None else []
                evicted.setdefault(name, []).append(list(zip(old[::2], old[1::2])))
        seen: dict[str, int] = {}
        pending = iter(answers)

        def take(*_: Any) -> RedisKeyState | None:
            key, name, t, raw = next(pending)
            if name is None:
                return None
            n = seen[name] = seen.get(name, -1) + 1
            state = None
            if raw is not None:
                state = RedisKeyState(self, key, name, raw)
                d = state.__dict__
                d["_later"] = by_name[name][n + 1:]
                d["_evicted_later"] = [e for ev in evicted[name][n + 1:] for e in ev]
                d["_horizon"] = t - self.window
                over = written.get(name)
                if over:
                    state.__dict__.update(over)
            current[name] = state  # `get` answers with it until the batch is over
            return state

        return take

    def mark_violating(self, key: Any, post: str, t: float) -> RedisKeyState | None:
        name = self._name(key)
        if name is None:
            return None
        raw = self._mark(keys=self._keys(name), args=[post, repr(t), self.ttl])
        return None if raw is None else RedisKeyState(self, key, name, raw)

    def get(self, key: Any) -> RedisKeyState | None:
        name = self._name(key)
        if name is None:
            return None
        if name in self._current:
            return self._current[name]
        raw = self._get(keys=self._keys(name))
        return None if raw is None else RedisKeyState(self, key, name, raw)

    def share_signups(self, signups: dict[str, float], authors: set[str], young_seconds: float) -> dict[str, float]:
        """Record young accounts' creation times (account -> stream time) for every worker, and
        return those known for `authors`. One round trip; kept for `young_seconds` of wall time."""
        if not signups and not authors:
            return {}
        prefix = self.prefix + "{signups}:"  # one hash tag: MGET stays on one shard of a cluster
        pipe = self.r.pipeline(transaction=False)
        ttl = max(1, int(young_seconds))
        for account, created in signups.items():
            pipe.set(prefix + account, repr(created), ex=ttl)
        asked = sorted(authors)
        if asked:
            pipe.mget([prefix + a for a in asked])
        got = pipe.execute()
        if not asked:
            return {}
        return {a: float(v) for a, v in zip(asked, got[-1]) if v is not None}

    def start_time(self, t: float) -> float:
        """The stream time the deployment's detector started at (the first worker's first post):
        a worker that joins later is past the warm-up as soon as the deployment is."""
        key = self.prefix + "started"
        # Forgotten `retention` after the last worker stopped (kept alive by `advance`), so a later
        # deployment replaying older data starts its own warm-up.
        self.r.set(key, repr(t), nx=True, ex=self.ttl)
        return float(self.r.get(key) or t)

    def advance(self, now: float) -> None:
        # Redis forgets idle keys by TTL; only the local text-name map needs bounding.
        self._current = {}  # the batch is over: `get` reads live again
        wall = time.monotonic()
        if wall - self._touched > 60:
            self._touched = wall
            self.r.expire(self.prefix + "started", self.ttl)
        if len(self._text_names) > 1_000_000:
            self._text_names.clear()

    def __len__(self) -> int:
        return sum(1 for _ in self.r.scan_iter(match=f"{self.prefix}*:m", count=1000))


def _str(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else ("" if v is None else str(v))
