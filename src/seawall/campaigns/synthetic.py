"""A seeded synthetic stream with known campaigns, to measure the detector (docs/campaigns.md).

Background: established accounts posting ordinary texts at a steady rate, with steady popular
hashtags and links, one of which ("#news") carries a steady share of violating posts. Injected,
with their ground truth:

- violating hashtag bursts (a new hashtag, dozens of posts in minutes, most violating);
- benign bursts (a sports final: a new hashtag at the same volume, nothing violating): not campaigns;
- copypasta from young accounts (the same text from 8 accounts created days earlier, minutes
  apart), and the same kind of text from established accounts (a popular quote): not campaigns;
- co-sharing clusters: 6 accounts that repeatedly post the same fresh links within minutes.

Violating posts use the demo's extremist vocabulary and a file-locker link, so the real default
signals (watch terms, link domains) find them when the stream goes through the pipeline.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

START = datetime(2024, 3, 1, 6, 0, tzinfo=timezone.utc)

ORDINARY = ["lovely morning in {c}, coffee first", "anyone watching the match in {c} tonight?",
            "new bakery opened near {c} station, highly recommend", "traffic in {c} is awful again",
            "finished a great book about {c} history", "rain again in {c}, of course"]
VIOLATING = ["baqiya wa tatamadad! the new release is out, download before it is removed {l}",
             "the dawla remains and expands, share everywhere {l}",
             "brothers, the caliphate calls you, hijrah now {l}"]
LOCKERS = ["https://mega.nz/file/{k}", "https://justpaste.it/{k}", "https://top4top.io/downloadf-{k}"]
CITIES = ["Leeds", "Lyon", "Cairo", "Amman", "Porto", "Oslo", "Tunis", "Graz", "Bari", "Cork"]
STEADY_TAGS = ["news", "football", "weather"]
STEADY_LINKS = ["https://www.bbc.co.uk/news", "https://en.wikipedia.org/wiki/Main_Page"]


@dataclass
class Truth:
    campaigns: set[str] = field(default_factory=set)  # keys the detector should report
    negatives: set[str] = field(default_factory=set)  # injected look-alikes it must not report
    cluster_accounts: list[set[str]] = field(default_factory=list)
    violating_posts: set[str] = field(default_factory=set)
    members: dict[str, set[str]] = field(default_factory=dict)  # campaign key -> its posts


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def generate(seed: int = 1, hours: float = 6.0, rate_per_min: float = 30.0, campaigns: int = 4) -> tuple[list[dict[str, Any]], Truth]:
    """Events in time order and the ground truth. `campaigns` of each injected kind."""
    rng = random.Random(seed)
    truth = Truth()
    timed: list[tuple[datetime, int, dict[str, Any]]] = []
    n = 0

    def add(t: datetime, ev: dict[str, Any]) -> None:
        nonlocal n
        timed.append((t, n, ev))
        n += 1

    def post(t: datetime, account: str, text: str, tags: list[str] = (), violating: bool = False,  # type: ignore[assignment]
             key: str | None = None) -> str:
        pid = f"s{seed}p{n}"
        ev: dict[str, Any] = {"type": "post", "id": pid, "account_id": account, "created_at": _iso(t), "text": text}
        if tags:
            ev["hashtags"] = list(tags)
        add(t, ev)
        if violating:
            truth.violating_posts.add(pid)
        if key is not None:
            truth.members.setdefault(key, set()).add(pid)
        return pid

    old = [f"o{i:04d}" for i in range(400)]
    for a in old:
        add(START - timedelta(days=400), {"type": "account", "id": a, "handle": f"user_{a}",
                                          "created_at": _iso(START - timedelta(days=rng.randint(200, 2000)))})
    span = hours * 60.0
    # -- steady background ---------------------------------------------------------------------------
    total = int(span * rate_per_min)
    for _ in range(total):
        t = START + timedelta(minutes=rng.uniform(0, span))
        a = rng.choice(old)
        roll = rng.random()
        if roll < 0.10:  # the steady hashtag with a violating share (30%): not a burst, not a campaign
            if rng.random() < 0.3:
                text = rng.choice(VIOLATING).format(l=rng.choice(LOCKERS).format(k=rng.randint(1, 10**6)))
                post(t, a, text + " #news", ["news"], violating=True)
            else:
                post(t, a, f"headline from {rng.choice(CITIES)} today #news", ["news"])
        elif roll < 0.25:
            tag = rng.choice(STEADY_TAGS[1:])
            post(t, a, f"{rng.choice(ORDINARY).format(c=rng.choice(CITIES))} #{tag}", [tag])
        elif roll < 0.32:
            post(t, a, f"{rng.choice(ORDINARY).format(c=rng.choice(CITIES))} {rng.choice(STEADY_LINKS)}")
        else:
            post(t, a, f"{rng.choice(ORDINARY).format(c=rng.choice(CITIES))} ({rng.randint(1, 10**6)})")
    truth.negatives |= {f"hashtag:#{t}" for t in STEADY_TAGS}

    # Injections start after the detector's warm-up (the first hour) and are spread over the rest.
    slots = sorted(rng.uniform(60, span - 20) for _ in range(4 * campaigns))
    kinds = ["burst", "benign", "young", "quote"] * campaigns
    rng.shuffle(kinds)
    in_crews: set[str] = set()
    for i, (kind, at) in enumerate(zip(kinds, slots)):
        t0 = START + timedelta(minutes=at)
        if kind == "burst":
            tag = f"raid{seed}x{i}"
            key = f"hashtag:#{tag}"
            truth.campaigns.add(key)
            crew = rng.sample(old, 40)
            for j in range(rng.randint(40, 70)):
                t = t0 + timedelta(seconds=rng.uniform(0, 480))
                bad = rng.random() < 0.6
                text = (rng.choice(VIOLATING).format(l=rng.choice(LOCKERS).format(k=rng.randint(1, 10**6))) if bad
                        else f"what is going on with #{tag} {rng.randint(1, 999)}")
                post(t, rng.choice(crew), f"{text} #{tag}", [tag], violating=bad, key=key)
        elif kind == "benign":
            tag = f"final{seed}x{i}"
            truth.negatives.add(f"hashtag:#{tag}")
            for j in range(rng.randint(40, 70)):
                t = t0 + timedelta(seconds=rng.uniform(0, 480))
                post(t, rng.choice(old), f"what a goal!!! {rng.randint(1, 999)} #{tag}", [tag])
        elif kind == "young":
            text = f"wake up brothers, the hour of {rng.choice(CITIES)} is near, spread this message number {i}"
            young = [f"y{seed}x{i}n{j}" for j in range(8)]
            pids = []
            for j, a in enumerate(young):
                born = t0 - timedelta(days=rng.uniform(0.5, 5))
                add(born, {"type": "account", "id": a, "handle": f"fresh_{a}", "created_at": _iso(born)})
                t = t0 + timedelta(seconds=rng.uniform(0, 240))
                pids.append(post(t, a, text))
            truth.members[f"text:{text}"] = set(pids)
            truth.campaigns.add(f"text:{text}")
            # ... and, independently, a co-sharing cluster: 6 accounts posting the same fresh links.
            crew = rng.sample(sorted(set(old) - in_crews), 6)  # crews do not overlap
            in_crews.update(crew)
            truth.cluster_accounts.append(set(crew))
            for r in range(4):
                link = f"https://news-{seed}-{i}-{r}.example.net/story/{rng.randint(1, 10**6)}"
                tr = t0 + timedelta(minutes=20 * r + 5)
                for a in crew:
                    post(tr + timedelta(seconds=rng.uniform(0, 300)), a, f"must read {link}")
        else:  # quote: the same text from established accounts, a few hours apart -> not a campaign
            text = f"be the change you wish to see in the world, said someone wise in {rng.choice(CITIES)}"
            truth.negatives.add(f"text:{text}")
            for j in range(8):
                post(t0 + timedelta(minutes=rng.uniform(0, 240)), rng.choice(old), text)
    events = [ev for _, _, ev in sorted(timed, key=lambda x: (x[0], x[1]))]
    return events, truth
