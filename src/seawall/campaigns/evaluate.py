"""Precision and recall of the campaign detector on the seeded synthetic stream (synthetic.py).

The detector runs exactly as inside the signal (batches in order, violating feedback after each
batch), with the ground truth standing in for the other signals' verdicts so that the figures
measure the detector, not the classifier. Campaign level: a reported key is right if it is an
injected campaign (a co-sharing cluster is right if it overlaps an injected crew by Jaccard >= 0.5);
member level: the reported members of the right campaigns against the injected posts.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from seawall.campaigns.detector import CampaignDetector
from seawall.campaigns.model import DetectorConfig, text_id
from seawall.campaigns.synthetic import generate
from seawall.ingest.intake import Intake
from seawall.normalize import Normalizer
from seawall.normalize.text import normalize_text


def _items(events: list[dict[str, Any]]) -> list[Any]:
    intake = Intake("seawall", source="synthetic")
    res = intake.accept_objects((i, ev, orjson.dumps(ev)) for i, ev in enumerate(events))
    if res.rejected:
        raise ValueError(f"synthetic stream has bad events: {res.rejected[0].reason}")
    return res.items


def evaluate(seed: int = 1, hours: float = 6.0, rate_per_min: float = 30.0, campaigns: int = 4,
             batch: int = 500, config: DetectorConfig | None = None) -> dict[str, Any]:
    events, truth = generate(seed, hours, rate_per_min, campaigns)
    items = _items(events)
    Normalizer().normalize_batch(items)
    detector = CampaignDetector(config or DetectorConfig())
    reported: dict[str, set[str]] = {}
    cluster_accounts: dict[str, set[str]] = {}
    posts = sum(1 for it in items if it.event.type == "post")
    hits = 0
    busy = 0.0
    for i in range(0, len(items), batch):
        chunk = items[i : i + batch]
        started = time.process_time()
        found = detector.observe(chunk)
        for it in chunk:
            if it.event.type == "post" and it.event.id in truth.violating_posts:
                detector.violating(it)
        updates = detector.drain()
        busy += time.process_time() - started
        hits += sum(1 for f in found if f)
        for u in updates:
            if u.merged_into is not None:
                continue
            reported.setdefault(u.campaign, set()).update(p for _, p, _ in u.posts)
            if u.campaign.startswith("cluster:"):
                cluster_accounts.setdefault(u.campaign, set()).update(u.accounts)
    # Ground truth in the detector's naming (texts by the hash of their matching form).
    def named(key: str) -> str:
        if key.startswith("text:"):
            return f"text:{text_id(normalize_text(key[5:]).skeleton)}"
        return key

    want = {named(k) for k in truth.campaigns}
    members = {named(k): v for k, v in truth.members.items()}
    negatives = {named(k) for k in truth.negatives}
    keyed = {k for k in reported if not k.startswith("cluster:")}
    tp_keys = keyed & want
    # A link domain (or link) that bursts because a true campaign pushes it is the same campaign
    # seen through another key: counted apart, neither right nor wrong.
    pushed = set().union(*(members.get(c, set()) for c in want)) if want else set()
    duplicates = {k for k in keyed - want if len(reported[k] & pushed) >= 0.5 * len(reported[k])}
    # Clusters: each injected crew is found if some reported cluster overlaps it enough.
    crews_found = 0
    good_clusters = 0
    for key, accts in cluster_accounts.items():
        if any(len(accts & crew) / len(accts | crew) >= 0.5 for crew in truth.cluster_accounts):
            good_clusters += 1
    for crew in truth.cluster_accounts:
        if any(len(accts & crew) / len(accts | crew) >= 0.5 for accts in cluster_accounts.values()):
            crews_found += 1
    n_reported = len(keyed - duplicates) + len(cluster_accounts)
    n_true = len(want) + len(truth.cluster_accounts)
    tp = len(tp_keys) + good_clusters
    found_truth = len(tp_keys) + crews_found
    member_tp = sum(len(reported[k] & members.get(k, set())) for k in tp_keys)
    member_reported = sum(len(reported[k]) for k in tp_keys)
    member_true = sum(len(members.get(k, set())) for k in want)
    return {
        "seed": seed,
        "hours": hours,
        "events": len(items),
        "posts": posts,
        "injected": {"campaigns": len(want), "clusters": len(truth.cluster_accounts), "negatives": len(negatives)},
        "reported": {"keys": len(keyed), "clusters": len(cluster_accounts)},
        "precision": round(tp / n_reported, 4) if n_reported else None,
        "recall": round(found_truth / n_true, 4) if n_true else None,
        "false_keys": sorted(keyed - want - duplicates)[:20],
        "duplicate_keys": sorted(duplicates),
        "clusters_found": crews_found,
        "clusters_reported_right": good_clusters,
        "negatives_reported": sorted(keyed & negatives),
        "missed": sorted(want - keyed),
        "member_precision": round(member_tp / member_reported, 4) if member_reported else None,
        "member_recall": round(member_tp / member_true, 4) if member_true else None,
        "posts_with_hits": hits,
        "detector_cpu_us_per_post": round(busy / max(posts, 1) * 1e6, 2),
    }
