"""Campaign detection: precision and recall on seeded synthetic streams, and the cost per post.

Prints one JSON object:
- `quality`: per background rate, precision / recall of campaigns (hashtag bursts, young-account
  copypasta, co-sharing clusters) and of their members, over seeds (seawall.campaigns.evaluate);
- `cost`: CPU microseconds per event of the `campaign` signal on the benchmark's demo stream
  (bench/pipeline.py's stream; best of --repeat runs) and of the detector on the synthetic stream.

    .venv/bin/python bench/campaigns.py [--seeds 5] [--rates 30,120] [--posts 30000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pipeline import make_stream  # noqa: E402  (bench/pipeline.py: the same demo stream)

from seawall.campaigns.evaluate import evaluate  # noqa: E402
from seawall.ingest.intake import Intake  # noqa: E402
from seawall.normalize import Normalizer  # noqa: E402
from seawall.pipeline.pipeline import tune_gc  # noqa: E402
from seawall.signals.campaign import CampaignSignal  # noqa: E402


def quality(seeds: int, rate: float) -> dict:
    runs = [evaluate(seed=s, hours=6.0, rate_per_min=rate, campaigns=4) for s in range(1, seeds + 1)]
    mean = lambda k: round(statistics.mean(r[k] for r in runs if r[k] is not None), 4)  # noqa: E731
    return {
        "background_posts_per_min": rate,
        "seeds": seeds,
        "posts_per_seed": runs[0]["posts"],
        "injected_per_seed": runs[0]["injected"],
        "precision": mean("precision"),
        "recall": mean("recall"),
        "member_precision": mean("member_precision"),
        "member_recall": mean("member_recall"),
        "min_precision": min(r["precision"] for r in runs),
        "min_recall": min(r["recall"] for r in runs),
        "false_keys": sorted({k for r in runs for k in r["false_keys"]}),
        "duplicate_keys": sorted({k for r in runs for k in r["duplicate_keys"]}),
        "negatives_reported": sorted({k for r in runs for k in r["negatives_reported"]}),
        "detector_cpu_us_per_post": round(statistics.median(r["detector_cpu_us_per_post"] for r in runs), 2),
    }


def signal_cost(posts: int, repeat: int, batch: int = 2500) -> dict:
    stream, n_posts = make_stream(posts, 11)
    lines = [(i, ln) for i, ln in enumerate(stream.split(b"\n")) if ln]
    items = Intake("seawall").accept_lines(lines).items
    norm = Normalizer()
    norm.normalize_batch(items)
    tune_gc()
    batches = [items[i : i + batch] for i in range(0, len(items), batch)]
    best = float("inf")
    norm_best = float("inf")
    for _ in range(repeat):
        signal = CampaignSignal()
        started = time.process_time()
        for b in batches:
            signal.evaluate(b)
        best = min(best, time.process_time() - started)
        started = time.process_time()
        for b in batches:
            norm.normalize_batch(b)
        norm_best = min(norm_best, time.process_time() - started)
    return {
        "stream": "bench/pipeline.py demo stream (seed 11)",
        "events": len(items),
        "posts": n_posts,
        "signal_cpu_us_per_event": round(best / len(items) * 1e6, 2),
        # The same run's normaliser, as a yardstick: docs/performance.md has it at 26 us/event quiet.
        "normalize_cpu_us_per_event": round(norm_best / len(items) * 1e6, 2),
        "windows_after": len(signal.detector.windows),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--rates", default="30,120", help="Background posts per minute, comma-separated.")
    ap.add_argument("--posts", type=int, default=30_000, help="Posts in the demo stream for the cost figure.")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    out = {
        "quality": [quality(args.seeds, float(r)) for r in args.rates.split(",")],
        "cost": signal_cost(args.posts, args.repeat),
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
