"""Small synthetic streams for the campaign tests: steady background traffic and violating bursts."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

T0 = datetime(2024, 3, 1, 6, 0, tzinfo=timezone.utc)
RELEASE = "baqiya wa tatamadad! the new release is out, download before it is removed https://mega.nz/file/R{n}"
# Scored by the shipped extremism classifier between its queue threshold (0.9) and 0.5.
BORDERLINE = "support the brothers"


def iso(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def background(rng: random.Random, minutes: int, per_min: int = 4) -> list[dict]:
    out = [{"type": "account", "id": f"o{i}", "handle": f"user{i}", "created_at": "2020-01-01T00:00:00Z"}
           for i in range(60)]
    n = 0
    for m in range(minutes):
        for _ in range(per_min):
            n += 1
            text = f"ordinary day {n}, nothing to see" + (" #news" if rng.random() < 0.5 else "")
            out.append({"type": "post", "id": f"b{n}", "account_id": f"o{rng.randrange(60)}",
                        "created_at": iso(m + rng.random()), "text": text})
    return out


def burst(rng: random.Random, start: float, count: int, prefix: str, tag: str = "raid") -> list[dict]:
    return [{"type": "post", "id": f"{prefix}{i}", "account_id": f"o{rng.randrange(60)}",
             "created_at": iso(start + rng.uniform(0, 5)),
             "text": (RELEASE.format(n=f"{prefix}{i}") if i % 4 else f"what is #{tag} about {i}") + f" #{tag}"}
            for i in range(count)]


def in_order(events: list[dict]) -> list[dict]:
    accounts = [e for e in events if e["type"] == "account"]
    posts = sorted((e for e in events if e["type"] != "account"), key=lambda e: (e["created_at"], e["id"]))
    return accounts + posts
