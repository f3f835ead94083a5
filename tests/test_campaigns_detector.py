"""The campaign detector on synthetic streams: bursts against steady traffic, young accounts,
co-sharing clusters, the window store and lowered crisis thresholds (no database)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import orjson
import pytest

from seawall.campaigns.crisis import lowered_ruleset
from seawall.campaigns.detector import CampaignDetector, DetectorConfig
from seawall.campaigns.evaluate import evaluate
from seawall.campaigns.windows import InMemoryWindowStore
from seawall.ingest.intake import Intake
from seawall.normalize import Normalizer
from seawall.policy.conditions import AllOf, NotCond, SignalCond
from seawall.policy.rules import parse_rules

T0 = datetime(2024, 3, 1, 6, 0, tzinfo=timezone.utc)


def iso(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def items_of(events):
    res = Intake("seawall").accept_objects((i, ev, orjson.dumps(ev)) for i, ev in enumerate(events))
    assert not res.rejected, res.rejected[0].reason
    Normalizer().normalize_batch(res.items)
    return res.items


class Stream:
    """Builds a time-ordered stream and runs it through a detector with violating feedback."""

    def __init__(self, seed: int = 0):
        self.rng = random.Random(seed)
        self.events: list[tuple[float, int, dict]] = []
        self.violating: set[str] = set()
        self.n = 0

    def account(self, aid: str, age_days: float, at: float = 0.0) -> None:
        born = (T0 + timedelta(minutes=at) - timedelta(days=age_days)).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.events.append((at - 1e6, self.n, {"type": "account", "id": aid, "handle": aid, "created_at": born}))
        self.n += 1

    def post(self, minute: float, account: str, text: str, tags=(), bad: bool = False) -> str:
        pid = f"p{self.n}"
        ev = {"type": "post", "id": pid, "account_id": account, "created_at": iso(minute), "text": text}
        if tags:
            ev["hashtags"] = list(tags)
        self.events.append((minute, self.n, ev))
        self.n += 1
        if bad:
            self.violating.add(pid)
        return pid

    def run(self, detector: CampaignDetector, batch: int = 200):
        evs = [e for _, _, e in sorted(self.events, key=lambda x: (x[0], x[1]))]
        items = items_of(evs)
        updates, hits = [], {}
        for i in range(0, len(items), batch):
            chunk = items[i : i + batch]
            for it, found in zip(chunk, detector.observe(chunk)):
                if found:
                    hits[it.event.id] = found
            for it in chunk:
                if it.event.type == "post" and it.event.id in self.violating:
                    detector.violating(it)
            updates += detector.drain()
        return updates, hits


def steady_background(s: Stream, minutes: int = 240, per_min: int = 6, accounts: int = 200) -> list[str]:
    olds = [f"o{i}" for i in range(accounts)]
    for a in olds:
        s.account(a, age_days=s.rng.uniform(100, 1000))
    for m in range(minutes):
        for _ in range(per_min):
            t = m + s.rng.random()
            # A popular hashtag at a steady rate, a third of it violating: popular, not a burst.
            if s.rng.random() < 0.5:
                bad = s.rng.random() < 0.35
                s.post(t, s.rng.choice(olds), f"headline {s.rng.randint(1, 10**6)} #news", ["news"], bad=bad)
            else:
                s.post(t, s.rng.choice(olds), f"just an ordinary day number {s.rng.randint(1, 10**6)}")
    return olds


def campaigns(updates) -> dict[str, object]:
    return {u.campaign: u for u in updates if u.merged_into is None}


def test_steady_popular_hashtag_is_not_a_campaign_but_a_violating_burst_is():
    s = Stream(1)
    olds = steady_background(s)
    # At minute 150: a new hashtag, 40 posts in 6 minutes, two thirds violating.
    burst = [s.post(150 + s.rng.uniform(0, 6), s.rng.choice(olds), f"release {i} #raid", ["raid"], bad=i % 3 != 0)
             for i in range(40)]
    updates, hits = s.run(CampaignDetector(), batch=20)  # ~3 minutes of stream per batch, as live
    found = campaigns(updates)
    assert "hashtag:#news" not in found  # 3 posts a minute for hours, 35% violating: not a burst
    assert "hashtag:#raid" in found
    upd = found["hashtag:#raid"]
    assert upd.reason == "burst" and upd.label == "campaign"
    members = {p for u in updates if u.campaign == "hashtag:#raid" for _, p, _ in u.posts}
    assert members == set(burst)  # every post of the burst, including those before it was recognised
    ev = upd.evidence
    assert ev["volume"] >= 20 and ev["violating_share"] >= 0.3 and ev["baseline"] < ev["volume"] / 3
    # Posts after recognition carry a hit with the evidence rules and reviewers need.
    late = [hits[p] for p in burst if p in hits]
    assert late and all(f.label == "campaign" and f.evidence["key"] == "hashtag:#raid" for fs in late for f in fs)


def test_a_burst_without_violating_posts_is_not_a_campaign():
    s = Stream(2)
    olds = steady_background(s, minutes=180)
    for i in range(60):
        s.post(120 + s.rng.uniform(0, 5), s.rng.choice(olds), f"what a goal {i} #final", ["final"])
    updates, _ = s.run(CampaignDetector())
    assert "hashtag:#final" not in campaigns(updates)


def test_burst_before_warmup_is_not_judged():
    s = Stream(3)
    olds = steady_background(s, minutes=60)
    for i in range(40):
        s.post(10 + s.rng.uniform(0, 5), s.rng.choice(olds), f"release {i} #early", ["early"], bad=True)
    updates, _ = s.run(CampaignDetector())
    assert "hashtag:#early" not in campaigns(updates)  # no baseline yet for anything
    updates, _ = Stream(3).run(CampaignDetector(DetectorConfig(warmup_seconds=0)))  # sanity: empty stream
    assert updates == []


def test_same_text_from_young_accounts_is_a_campaign_and_from_old_accounts_is_not():
    s = Stream(4)
    olds = steady_background(s, minutes=180)
    text = "wake up brothers, the hour is near, spread this message everywhere"
    young = [f"y{i}" for i in range(7)]
    for a in young:
        s.account(a, age_days=2, at=100)
    pushed = [s.post(100 + s.rng.uniform(0, 3), a, text) for a in young]
    quote = "be the change you wish to see in the world, as the saying goes"
    for i in range(7):
        s.post(130 + s.rng.uniform(0, 3), olds[i], quote)
    updates, hits = s.run(CampaignDetector())
    texts = {k: u for k, u in campaigns(updates).items() if k.startswith("text:")}
    assert len(texts) == 1
    [(key, upd)] = texts.items()
    assert upd.reason == "young_accounts" and upd.label == "coordinated"  # nothing violating in it
    assert upd.evidence["young_accounts"] >= 5 and "wake up brothers" in upd.evidence["text"]
    assert {p for u in updates if u.campaign == key for _, p, _ in u.posts} == set(pushed)


def test_accounts_that_keep_co_sharing_form_a_cluster():
    s = Stream(5)
    olds = steady_background(s, minutes=240)
    crew = olds[:5]
    for r in range(4):  # four fresh links, each posted by the whole crew within minutes
        link = f"https://story-{r}.example.net/a/{r * 7919}"
        for a in crew:
            s.post(60 + 30 * r + s.rng.uniform(0, 4), a, f"must read {link}")
    updates, hits = s.run(CampaignDetector())
    clusters = {k: u for k, u in campaigns(updates).items() if k.startswith("cluster:")}
    assert len(clusters) == 1
    accounts = set().union(*(u.accounts for u in updates if u.campaign in clusters))
    assert accounts == set(crew)
    # Meanwhile 200 accounts sharing #news at random never formed a cluster.
    assert all(len(u.accounts) <= 5 for u in clusters.values())


def test_window_store_evicts_and_estimates_a_steady_baseline():
    ws = InMemoryWindowStore(window=600, tau=21600, retention=86400)
    assert ws.observe("hashtag:#x", 0.0, "p0", "a0", True) is None  # first sighting: a single
    # One post a minute for 10 hours.
    w = None
    for i in range(1, 600):
        w = ws.observe("hashtag:#x", 60.0 * i, f"p{i}", f"a{i % 7}", i % 7 == 0)
    assert w is not None
    assert w.volume == 11  # the last 10 minutes, both ends included
    assert w.account_count() == 7 and w.young_accounts == 1
    expected = w.expected(60.0 * 599, 600, 21600, 6 / 3600)
    assert 8.0 < expected < 12.0  # ~10 per window, learnt from what left the window
    assert ws.mark_violating("hashtag:#x", "p599", 60.0 * 599) is w and w.violating == 1
    assert ws.mark_violating("hashtag:#x", "p5", 300.0) is None  # long gone from the window


def test_synthetic_stream_precision_and_recall():
    r = evaluate(seed=7, hours=4, rate_per_min=20, campaigns=2)
    assert r["precision"] >= 0.9 and r["recall"] >= 0.9, r
    assert r["negatives_reported"] == [], r
    assert r["member_precision"] >= 0.95 and r["member_recall"] >= 0.9, r


def test_lowered_ruleset_lowers_only_the_named_signals():
    rules = parse_rules("""
version = 1
[[rules]]
name = "clf"
verdict = "queue"
queue = "x"
when = { all = [ { signal = "classifier", label = "threat", min_score = 0.8 }, { signal = "watchterms", min_score = 0.9 } ] }
[[rules]]
name = "neg"
verdict = "queue"
queue = "x"
when = { all = [ { signal = "campaign", label = "campaign", min_score = 0.7 }, { not = { signal = "classifier", min_score = 0.5 } } ] }
""")
    low = lowered_ruleset(rules, 0.2, ["classifier", "campaign"])
    clf = low.get("clf").when
    assert isinstance(clf, AllOf)
    assert clf.children[0].min_score == pytest.approx(0.6)  # type: ignore[union-attr]
    assert clf.children[1].min_score == pytest.approx(0.9)  # watchterms untouched  # type: ignore[union-attr]
    neg = low.get("neg").when
    assert neg.children[0].min_score == pytest.approx(0.5)  # type: ignore[union-attr]
    inner = neg.children[1]  # type: ignore[union-attr]
    assert isinstance(inner, NotCond) and isinstance(inner.child, SignalCond) and inner.child.min_score == 0.5
    assert rules.get("clf").when.children[0].min_score == 0.8  # the original is unchanged  # type: ignore[union-attr]
    assert lowered_ruleset(rules, 0.9, ["classifier"]).get("clf").when.children[0].min_score == 0.05  # type: ignore[union-attr]
