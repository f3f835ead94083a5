"""Classifier throughput: prints one JSON object.

    python bench/classify.py [--posts N] [--no-stage2]

Figures (single process, single thread: run with OMP_NUM_THREADS=1 and pinned to one core for a
per-core figure, e.g. `taskset -c 0`):
  first_stage_posts_per_s_per_core   featurise + score + calibrate, from normalisation skeletons
  normalize_posts_per_s_per_core     seawall.normalize.normalize_text alone (for context)
  normalize_plus_first_stage_posts_per_s_per_core
  signal_posts_per_s_per_core        ClassifierSignal.evaluate on normalised Items (stage 2 off)
  stage2_us_per_routed_post          the word CNN (stage 2) on one routed post, in batches of 100
  stage2_routed_share                share of the synthetic posts the shipped cascade sends to stage 2
  cascade_posts_per_s_per_core       stage 1 + stage 2 with the shipped cap (second_stage_max_share)
  stage2_cost_share_at_6000_per_s    stage 2's core time per post at the cap, over the pipeline's
                                     core time per post at 6,000 posts/s on 2 cores (333 us)
Posts are synthetic (generated here from word lists, English and Arabic, 8-40 words, 5% with violent
words mixed in), not data; `signal_hit_share` says how many got a hit (evidence costs time).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from datetime import datetime, timezone

os.environ.setdefault("OMP_NUM_THREADS", "1")

EN = ("the a we they you i will not going to people city today news video watch this is about state "
      "government police love family game match weather morning coffee friend tonight house school never "
      "always life justice music dinner work train weekend photo").split()
VIOLENT = "kill shoot burn dead death attack slaughter bomb islamic khilafah soldiers kuffar die".split()
AR = "الله الدولة الاسلامية دولة الخلافة باقية الجهاد المجاهدين الكفار اليوم غدا نحن هم انت سوف نقتل الحرب السلام الناس البيت المدرسة".split()


HOSTILE_SHARE = 0.05  # posts drawing on a violent vocabulary as well


def posts(n: int, seed: int = 0) -> list[str]:
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        words = AR if rnd.random() < 0.2 else EN
        if rnd.random() < HOSTILE_SHARE:
            words = words + VIOLENT * 3
        t = " ".join(rnd.choice(words) for _ in range(rnd.randint(8, 40)))
        if rnd.random() < 0.3:
            t += " #" + rnd.choice(words) + " https://t.co/" + "".join(rnd.choice("abcdefgh123") for _ in range(10))
        out.append(t)
    return out


def rate(fn, n: int, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return n / best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=20_000)
    ap.add_argument("--no-stage2", action="store_true")
    args = ap.parse_args()

    from seawall.classify.cascade import shared_cascade
    from seawall.events.model import PostEvent
    from seawall.normalize.item import Item
    from seawall.normalize.text import normalize_text
    from seawall.signals.classifier import ClassifierSettings, ClassifierSignal

    texts = posts(args.posts)
    cas = shared_cascade(None, use_second=False)
    nts = [normalize_text(t) for t in texts]
    sk = [nt.skeleton for nt in nts]
    res: dict = {"posts": len(texts), "mean_chars": round(sum(map(len, texts)) / len(texts), 1),
                 "model_version": cas.version, "batch": 1024}
    res["first_stage_posts_per_s_per_core"] = round(rate(lambda: cas.score(sk), len(sk)))
    res["normalize_posts_per_s_per_core"] = round(rate(lambda: [normalize_text(t) for t in texts], len(texts), 1))
    res["normalize_plus_first_stage_posts_per_s_per_core"] = round(
        rate(lambda: cas.score([normalize_text(t).skeleton for t in texts]), len(texts), 1))
    now = datetime(2026, 11, 29, tzinfo=timezone.utc)
    items = [Item(PostEvent(id=str(i), account_id="a", text=t, created_at=now), str(i), 0.0) for i, t in enumerate(texts)]
    for it, nt in zip(items, nts):
        it.texts["text"] = nt
    sig = ClassifierSignal(ClassifierSettings(second_stage=False))
    res["signal_posts_per_s_per_core"] = round(rate(lambda: [sig.evaluate(items[i:i + 500]) for i in range(0, len(items), 500)], len(items), 1))
    hits = [h for i in range(0, len(items), 500) for h in sig.evaluate(items[i:i + 500])]
    res["signal_hit_share"] = round(sum(1 for h in hits if h) / len(items), 4)
    res["signal_hit_share_at_0_5"] = round(sum(1 for h in hits if any(x.score >= 0.5 for x in h)) / len(items), 4)
    if not args.no_stage2:
        from seawall.classify.cascade import DEFAULT_MAX_SHARE

        full = shared_cascade(None, use_second=True, max_share=DEFAULT_MAX_SHARE)
        if full.second is None:
            res["stage2"] = "no stage2.npz shipped"
        else:
            head = full.second
            routed = sk[:2000]
            head.raw(routed[:100])  # warm-up
            per_post = 1e6 / rate(lambda: [head.raw(routed[i:i + 100]) for i in range(0, len(routed), 100)], len(routed))
            res["stage2_us_per_routed_post"] = round(per_post, 1)
            r = full.score(sk)
            res["stage2_routed_share"] = round(float((r.stage == 2).mean()), 4)
            res["stage2_max_share"] = DEFAULT_MAX_SHARE
            res["cascade_posts_per_s_per_core"] = round(rate(lambda: full.score(sk), len(sk)))
            res["stage2_cost_share_at_6000_per_s"] = round(DEFAULT_MAX_SHARE * per_post / (2e6 / 6000), 4)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
