"""The figures of one arm: impressions of violating content before action, time to action,
re-uploads blocked at upload, returning accounts actioned before their first post, false actions
on ordinary accounts, reviewer load."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from seawall.simulate.exposure import impressions_before
from seawall.simulate.world import Truth, World, percentile


@dataclass(slots=True)
class ArmExtras:
    """What only the arm's runner knows: latencies, queue waits, SLA, reviewer work."""

    auto_latencies: list[float] = field(default_factory=list)  # action time - event time, auto-actions
    queue_waits: dict[str, list[float]] = field(default_factory=dict)  # queue -> decision time - arrival
    sla_seconds: dict[str, float] = field(default_factory=dict)
    decisions: int = 0
    decision_times: list[float] = field(default_factory=list)
    reviewers: int = 0
    decisions_per_hour: float = 0.0
    backlog: list[tuple[float, int]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


def _r(x: float | None, nd: int = 3) -> float | None:
    return None if x is None else round(x, nd)


def arm_figures(truth: Truth, world: World, ex: ArmExtras) -> dict[str, Any]:
    hl = truth.half_life_minutes
    reach_published = 0.0
    impressions = 0.0
    per_item: list[float] = []
    by_category: dict[str, float] = {}
    ttas: list[float] = []
    actioned = 0
    prevented = 0
    for pid, rec in truth.posts.items():
        if pid in world.prevented:
            prevented += 1
            continue
        if pid not in world.posted:
            continue  # not due inside the measured window in this arm
        reach_published += rec["reach"]
        t = world.posted[pid][1]
        down = world.taken_down_at(pid)
        seen = impressions_before(rec["reach"], t, down, hl)
        impressions += seen
        per_item.append(seen)
        by_category[rec["category"]] = by_category.get(rec["category"], 0.0) + seen
        if down is not None:
            actioned += 1
            ttas.append(down - t)
    window_reach = sum(rec["reach"] for rec in truth.posts.values() if rec["t"] < truth.end)
    # Re-uploads of known media: blocked when the decision on the upload itself removed it.
    reuploads = truth.reuploads
    attempted = [p for p in reuploads if p in world.posted]
    blocked = [p for p in attempted if p in world.blocked_at_upload]
    # Returning accounts: suspended (by this arm) before their first post was due.
    returners = [r for r in truth.returns if r["new"] in world.first_post]
    before = [r for r in returners if world.is_suspended(r["new"], world.first_post[r["new"]])]
    flagged = [r for r in returners if world.first_flag.get(("account", r["new"]), float("inf")) <= world.first_post[r["new"]]]
    ordinary = truth.ordinary_accounts
    ordinary_set = set(ordinary)
    false_accounts: set[str] = set()
    false_posts = 0
    false_by: dict[str, int] = {}
    for a in world.actions:
        if a.kind == "suspend" and a.subject in ordinary_set:
            false_accounts.add(a.subject)
            false_by[f"suspend_{a.by}"] = false_by.get(f"suspend_{a.by}", 0) + 1
        elif a.kind == "remove" and a.subject not in truth.posts:
            author = world.posted.get(a.subject, ("", 0, None))[0]
            if author in ordinary_set:
                false_accounts.add(author)
                false_posts += 1
                false_by[f"remove_{a.by}"] = false_by.get(f"remove_{a.by}", 0) + 1
    ordinary_posts = sum(1 for pid, (acc, _, _) in world.posted.items() if acc in ordinary_set)
    waits_all = [w for ws in ex.queue_waits.values() for w in ws]
    sla = {}
    for q, ws in sorted(ex.queue_waits.items()):
        limit = ex.sla_seconds.get(q)
        sla[q] = {"items": len(ws), "sla_s": limit, "wait_p50_s": _r(percentile(ws, 0.5), 1),
                  "wait_p99_s": _r(percentile(ws, 0.99), 1),
                  "within_sla_share": _r(sum(1 for w in ws if limit is None or w <= limit) / len(ws), 4) if ws else None}
    hours = max((truth.end - truth.start) / 3600.0, 1e-9)
    return {
        "impressions": round(impressions, 1),
        "published_reach": round(reach_published, 1),  # impressions the published violating posts would get if never actioned
        "impressions_share_of_reach": _r(impressions / reach_published if reach_published else None, 4),
        "simulated_window_reach": round(window_reach, 1),
        "impressions_by_category": {k: round(v, 1) for k, v in sorted(by_category.items())},
        # per published violating post (the refused ones had none)
        "impressions_per_item_p50": _r(percentile(per_item, 0.5), 3),
        "impressions_per_item_p90": _r(percentile(per_item, 0.9), 3),
        "impressions_per_item_max": _r(max(per_item) if per_item else None, 3),
        "violating_posts": prevented + len(per_item),
        "violating_posts_prevented": prevented,
        "violating_posts_published": len(per_item),
        "violating_posts_actioned": actioned,
        "tta_p50_s": _r(percentile(ttas, 0.5), 3),
        "tta_p90_s": _r(percentile(ttas, 0.9), 3),
        "tta_p99_s": _r(percentile(ttas, 0.99), 3),
        "auto_actions": len(ex.auto_latencies),
        "auto_tta_p50_s": _r(percentile(ex.auto_latencies, 0.5), 4),
        "auto_tta_p99_s": _r(percentile(ex.auto_latencies, 0.99), 4),
        "auto_tta_max_s": _r(max(ex.auto_latencies) if ex.auto_latencies else None, 4),
        "queued_items": len(waits_all),
        "queue_wait_p50_s": _r(percentile(waits_all, 0.5), 1),
        "queue_wait_p99_s": _r(percentile(waits_all, 0.99), 1),
        "queues": sla,
        "reuploads": len(reuploads),
        "reuploads_attempted": len(attempted),
        "reuploads_prevented_by_suspension": sum(1 for p in reuploads if p in world.prevented),
        "reupload_blocked_share": _r(len(blocked) / len(attempted) if attempted else None, 4),
        "returners": len(returners),
        "returners_before_first_post": len(before),
        "returners_before_first_post_share": _r(len(before) / len(returners) if returners else None, 4),
        "returners_flagged_before_first_post": len(flagged),
        "ordinary_accounts": len(ordinary),
        "ordinary_accounts_falsely_actioned": len(false_accounts),
        "false_action_share": _r(len(false_accounts) / len(ordinary) if ordinary else None, 5),
        "ordinary_posts_published": ordinary_posts,
        "ordinary_posts_removed": false_posts,
        "false_actions_by": dict(sorted(false_by.items())),
        "_false_posts": [a.subject for a in world.actions if a.kind == "remove" and a.subject not in truth.posts],
        "reviewer_decisions": ex.decisions,
        "reviewers": ex.reviewers,
        "decisions_per_hour_per_reviewer": round(ex.decisions_per_hour, 6),
        # busy share of the reviewers' time during the window (1.0 = saturated)
        "reviewer_utilisation": _r(min(1.0, sum(1 for t in ex.decision_times if t < truth.end)
                                       / (ex.reviewers * ex.decisions_per_hour * hours))
                                   if ex.reviewers and ex.decisions_per_hour else None, 4),
        "max_backlog": max((b for _, b in ex.backlog), default=0),
        **ex.extra,
        # for the plots only (keys starting with "_" are not printed)
        "_per_item": per_item + [0.0] * prevented,
        "_ttas": ttas,
    }
