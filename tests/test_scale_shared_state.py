"""Shared state in Redis: the campaign detector's windows (the same answers as the in-memory store,
and correct when workers observe the same keys at once) and the counters."""

from __future__ import annotations

import random
import threading

import pytest

from seawall.campaigns.windows import InMemoryWindowStore
from seawall.scale.broker import connect
from seawall.scale.counters import RedisCounters
from seawall.scale.windows import RedisWindowStore

from scale_support import broker_url, redis_server_url  # noqa: F401 (fixtures)

WINDOW, TAU, RETENTION = 600.0, 3600.0, 7200.0


def snapshot(w, accounts):
    if w is None:
        return None
    # mass and mass_t: the baseline behind `expected` (the in-memory store memoises `expected`)
    return (w.volume, w.violating, w.young_accounts, w.account_count(), round(w.first_t, 3),
            round(w.mass, 6), round(w.mass_t, 3), sorted(w.members()),
            {a: w.uses(a) for a in accounts}, sorted(w.accounts()))


@pytest.mark.parametrize("seed", [1, 2])
def test_redis_windows_answer_exactly_as_the_in_memory_store(broker_url, seed):
    rng = random.Random(seed)
    memory = InMemoryWindowStore(WINDOW, TAU, RETENTION)
    shared = RedisWindowStore(connect(broker_url), WINDOW, TAU, RETENTION)
    keys = ["hashtag:#a", "hashtag:#b", "url:https://x.example/1", "domain:x.example", 12345]
    accounts = [f"u{i}" for i in range(8)]
    t = 1_433_152_800.0
    seen: list[tuple[object, str, float]] = []
    for n in range(400):
        t += rng.expovariate(1 / 30)  # bursts and gaps around the 600 s window
        if rng.random() < 0.02:
            t += 2000
        key = rng.choice(keys)
        post, account = f"p{n}", rng.choice(accounts)
        young = account in ("u0", "u1")
        sample = "the same text again" if key == 12345 else ""
        got_m = memory.observe(key, t, post, account, young, sample)
        got_r = shared.observe(key, t, post, account, young, sample)
        assert snapshot(got_r, accounts) == snapshot(got_m, accounts), (n, key)
        seen.append((key, post, t))
        if rng.random() < 0.2:  # feedback: an earlier post found violating
            k, p, pt = rng.choice(seen[-40:])
            assert snapshot(shared.mark_violating(k, p, pt), accounts) == snapshot(memory.mark_violating(k, p, pt), accounts)
        if got_m is not None and rng.random() < 0.1:  # the detector judges it a campaign
            got_r.hot, got_r.hot_until, got_r.judged = "burst", t + WINDOW, (1.5, 4.0)
            got_m.hot, got_m.hot_until, got_m.judged = "burst", t + WINDOW, (1.5, 4.0)
            again = shared.get(key)
            assert (again.hot, again.hot_until, again.judged) == ("burst", t + WINDOW, (1.5, 4.0))


def test_workers_observing_the_same_key_at_once_all_count(broker_url):
    stores = [RedisWindowStore(connect(broker_url), WINDOW, TAU, RETENTION) for _ in range(4)]

    def observe(i: int, store: RedisWindowStore) -> None:
        for n in range(250):
            store.observe("hashtag:#raid", 1_433_152_800.0 + n * 0.01, f"p{i}-{n}", f"a{i}-{n % 7}", n % 2 == 0)

    threads = [threading.Thread(target=observe, args=(i, s)) for i, s in enumerate(stores)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    w = stores[0].get("hashtag:#raid")
    assert w.volume == 1000 and w.account_count() == 28
    assert w.young_accounts == 16  # accounts a{i}-{0,2,4,6}... used with young=True


def test_counters_are_exact_under_concurrency_and_windows_expire(broker_url):
    counters = [RedisCounters(connect(broker_url)) for _ in range(4)]
    results: list[int] = []

    def bump(c: RedisCounters) -> None:
        for _ in range(500):
            results.append(c.incr("reports:acct1", window_s=60, now=1_000_020.0))

    threads = [threading.Thread(target=bump, args=(c,)) for c in counters]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert counters[0].get("reports:acct1", window_s=60, now=1_000_050.0) == 2000  # same window
    assert sorted(results) == list(range(1, 2001))  # every increment saw a distinct value
    c = counters[0]
    assert [c.add_sliding("posts:acct2", f"p{i}", at=100.0 + i, window_s=10) for i in range(15)][-1] == 10
    assert c.add_sliding("posts:acct2", "late", at=200.0, window_s=10) == 1  # the old ones left the window
    assert c.add_distinct("reporters:post9", ["r1", "r2", "r1"], window_s=60) == 2
    assert c.add_distinct("reporters:post9", ["r3"], window_s=60) == 3
    assert 0 < c.r.ttl("seawall:ctr:reporters:post9") <= 60
