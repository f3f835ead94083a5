"""Arm (b): the 2015 baseline. No detection of its own: only what users report is looked at, in
the order it was reported, by a unit whose capacity is that of a police referral unit (about 1,000
items a week, BRIEF.md) scaled to the simulation's volume of violating posts. A referred item that
is judged violating is removed and its account suspended. The platform's own staff suspensions in
the event stream happen in this arm as in the other.

Scaling: 1,000 items a week against the ~90,000 posts a day attributed to ISIS and its supporters
in 2015 press reports is a capacity of about 0.16% of the violating volume; the unit here gets the
same share of the simulated violating volume (`capacity_share`), unless a capacity is given.
"""

from __future__ import annotations

import heapq
import random
from typing import Any

from seawall.simulate.metrics import ArmExtras, arm_figures
from seawall.simulate.output import SimDir
from seawall.simulate.review import ReviewItem, ReviewTeam
from seawall.simulate.seawall_arm import HORIZON_DAYS, load_events
from seawall.simulate.timeline import Timeline
from seawall.simulate.world import Truth, World

REFERRAL_ITEMS_PER_WEEK = 1000.0
VIOLATING_POSTS_PER_DAY_2015 = 90_000.0
CAPACITY_SHARE = REFERRAL_ITEMS_PER_WEEK / (VIOLATING_POSTS_PER_DAY_2015 * 7)
# Report reasons that reach a counter-terrorism referral queue.
REFERRED_REASONS = {"terrorism", "violent_threat", "violence", "hate", "extremism"}


def scaled_capacity(truth: Truth, days: float) -> float:
    """Items per week: the referral unit's share of the simulated violating volume."""
    per_week = sum(1 for r in truth.posts.values() if r["t"] < truth.end) / max(days, 1e-9) * 7
    return per_week * CAPACITY_SHARE


def run_baseline(sim: SimDir, truth: Truth, accuracy: float, capacity_per_week: float | None = None,
                 seed: int = 0) -> dict[str, Any]:
    capacity = capacity_per_week if capacity_per_week is not None else scaled_capacity(truth, sim.params.days)
    world = World()
    extras = ArmExtras(reviewers=1, decisions_per_hour=capacity / 168.0)
    extras.sla_seconds["referral"] = None  # type: ignore[assignment] - no SLA existed
    unit = ReviewTeam(1, max(capacity, 1e-9) / 168.0, accuracy, random.Random(seed), by_priority=False)
    referred: set[str] = set()

    timeline = Timeline(load_events(sim), truth)
    heap = list(timeline.main)
    heapq.heapify(heap)

    def suspend(account: str, at: float, by: str, ingest: float | None = None) -> None:
        if world.suspend(account, at, by, ingest):
            for entry in timeline.suspended(account, at):  # the supporter's next account (timeline.py)
                heapq.heappush(heap, entry)

    def decide(until: float) -> None:
        for dec in unit.advance(until):
            extras.queue_waits.setdefault("referral", []).append(dec.at - dec.item.arrived)
            post = dec.item.subject[1]
            truly = post in truth.posts
            if (truly if dec.correct else not truly):
                world.remove(post, dec.at, "unit", dec.item.arrived)
                author = world.posted.get(post, (None,))[0]
                if author is not None:
                    suspend(author, dec.at, "unit", dec.item.arrived)

    while heap:
        t, _, ev = heapq.heappop(heap)
        decide(t)
        if t >= truth.end:
            continue  # outside the measured window
        if ev["type"] == "post":
            world.first_post.setdefault(ev["account_id"], t)
        why = world.allows(ev, t)
        if why is not None:
            if ev["type"] == "post":
                world.prevented[ev["id"]] = why
            continue
        kind = ev["type"]
        if kind == "post":
            world.posted[ev["id"]] = (ev["account_id"], t, ev.get("repost_of"))
        elif kind == "enforcement" and ev.get("account_id") and ev["action"] == "suspend":
            suspend(ev["account_id"], t, "platform")
        elif kind == "report" and ev["target_type"] == "post" and ev["reason"].lower() in REFERRED_REASONS:
            target = ev["target_id"]
            if target not in referred:
                referred.add(target)
                unit.add(ReviewItem(("post", target), "referral", 0, t))
                world.first_flag.setdefault(("post", target), t)
    decide(truth.end + HORIZON_DAYS * 86400)
    extras.decisions = unit.decided
    extras.decision_times = unit.decision_times
    extras.backlog = unit.backlog
    extras.extra = {"capacity_items_per_week": round(capacity, 3), "items_referred": len(referred),
                    "items_undecided_at_horizon": unit.pending()}
    figures = arm_figures(truth, world, extras)
    figures["_backlog"] = extras.backlog
    figures["_actions"] = [(a.at, a.kind, a.by) for a in world.actions]
    return figures
