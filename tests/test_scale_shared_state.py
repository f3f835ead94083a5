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


# -- the whole detector, split across workers ---------------------------------------------------------
def _decide(items, detectors, truth, batch=250, signups_from_db=True):
    """Batches go round-robin to the detectors (as a consumer group hands them to workers); after
    each batch its detector learns the violating posts (the ground truth stands in for the other
    signals) and, with `signups_from_db`, every detector learns the batch's sign-ups (as the signal
    does from the accounts table at its next batch)."""
    findings: dict[str, list] = {}
    recorded: dict[str, set[str]] = {}
    for n, i in enumerate(range(0, len(items), batch)):
        d = detectors[n % len(detectors)]
        chunk = items[i: i + batch]
        for it, found in zip(chunk, d.observe(chunk)):
            if found:
                findings[it.event.id] = sorted(
                    (f.campaign, f.reason, f.label if f.reason != "cosharing" else "") for f in found)
        for it in chunk:
            if it.event.type == "post" and it.event.id in truth.violating_posts:
                d.violating(it)
        for other in detectors if signups_from_db else ():
            for it in chunk:
                ev = it.event
                if ev.type == "account" and ev.occurred_at.timestamp() - ev.created_at.timestamp() < other.young_seconds:
                    other.created[ev.id] = ev.created_at.timestamp()
        for u in d.drain():
            if u.merged_into is None:
                recorded.setdefault(u.campaign, set()).update(p for _, p, _ in u.posts)
    return findings, recorded


def test_three_workers_sharing_redis_state_find_what_one_process_finds(broker_url):
    from seawall.campaigns.detector import CampaignDetector
    from seawall.campaigns.evaluate import _items
    from seawall.campaigns.model import DetectorConfig
    from seawall.campaigns.synthetic import generate
    from seawall.normalize import Normalizer
    from seawall.scale.cosharing import RedisCoShareGraph

    events, truth = generate(seed=3, hours=4.0, rate_per_min=30.0, campaigns=3)
    items = _items(events)
    Normalizer().normalize_batch(items)
    cfg = DetectorConfig()
    one = _decide(items, [CampaignDetector(cfg)], truth)

    def shared() -> CampaignDetector:
        client = connect(broker_url)
        d = CampaignDetector(cfg, RedisWindowStore(client, cfg.window_seconds, cfg.baseline_tau_seconds,
                                                   cfg.retention_seconds))
        d.graph = RedisCoShareGraph(client, cfg.coshare_min_keys, cfg.cluster_min_accounts,
                                    cfg.coshare_max_key_accounts, cfg.coshare_pair_ttl_seconds)
        return d

    three = _decide(items, [shared() for _ in range(3)], truth, signups_from_db=False)  # from Redis
    apart = _decide(items, [CampaignDetector(cfg) for _ in range(3)], truth)

    reasons = {r for fs in one[0].values() for _, r, _ in fs}
    assert reasons == {"burst", "young_accounts", "cosharing"}  # the stream exercises every kind
    assert three[0] == one[0]  # every post: the same campaigns, for the same reasons, same labels
    assert three[1] == one[1]  # the same campaigns recorded with the same members
    assert apart[0] != one[0]  # (each worker on its own share of the stream would not)
    # Nothing shared is kept forever: every key expires (idle windows, pairs, single uses), except
    # the log of links every worker replays.
    r = connect(broker_url)
    forever = [k for k in r.scan_iter(match="seawall:*", count=1000) if r.ttl(k) < 0]
    assert forever == [b"seawall:campaign:links"]
