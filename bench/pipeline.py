"""End-to-end throughput and latency of the embedded default (SQLite, default signals and rules).

Prints one JSON object: posts_per_s (bulk replay: parse, validate, normalise, signals, policy,
SQLite commit), and p50_ms / p99_ms from acceptance into the durable inbox to the stored verdict,
with events offered at half the measured throughput (the issue's latency condition). The peer is
the 2013-15 Twitter average of ~5,700 posts/s, reported as a ratio in the same run.

    .venv/bin/python bench/pipeline.py [--posts 60000] [--latency-seconds 20]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

import orjson

from seawall.config import load_settings
from seawall.demo.generate import generate_events
from seawall.embedded import Embedded
from seawall.ingest.intake import Intake
from seawall.pipeline.pipeline import Pipeline, tune_gc
from seawall.pipeline.replay import replay_stream
from seawall.storage.sql import open_store

TWITTER_2015_AVG_POSTS_PER_S = 5_700
TARGET_POSTS_PER_S = 6_000


def make_stream(posts: int, seed: int) -> tuple[bytes, int]:
    events = list(generate_events(seed=seed, accounts=max(200, posts // 20), posts=posts))
    n_posts = sum(1 for e in events if e["type"] == "post")
    return b"\n".join(orjson.dumps(e) for e in events) + b"\n", n_posts


def throughput(stream: bytes, n_posts: int, home: Path, profile: bool = False) -> dict:
    os.environ["SEAWALL_HOME"] = str(home)
    settings = load_settings(home)
    store = open_store(settings.database_url)
    pipeline = Pipeline.from_settings(settings, store)
    pipeline.decide([])  # warm-up: language models and matchers loaded before the clock starts
    tune_gc()  # as `seawall run` and `seawall replay` do
    started = time.perf_counter()
    cpu_started = time.process_time()
    prof = cProfile.Profile() if profile else None
    if prof:
        prof.enable()
    summary = replay_stream(pipeline, io.BytesIO(stream), "seawall", "bench", batch_size=settings.pipeline.batch_size)
    if prof:
        prof.disable()
        pstats.Stats(prof, stream=sys.stderr).sort_stats("tottime").print_stats(30)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    store.close()
    return {
        "events": summary["events_read"],
        "posts": n_posts,
        "elapsed_s": round(elapsed, 3),
        "cpu_s": round(cpu, 3),  # over both threads: cpu_s / elapsed_s > 1 means both cores worked
        "events_per_s": round(summary["events_read"] / elapsed, 1),
        "posts_per_s": round(n_posts / elapsed, 1),
        "verdicts": summary["verdicts"],
    }


def latency(stream: bytes, rate_events_per_s: float, seconds: float, home: Path) -> dict:
    """Offer events at a steady rate through the same intake the HTTP API uses; measure the time
    from acceptance to the committed verdict of each event."""
    settings = load_settings(home)
    runtime = Embedded(settings)
    latencies: list[float] = []

    def committed(decided) -> None:  # noqa: ANN001 - a listener: called after each commit
        done = time.time()
        latencies.extend(done - p.item.received_at for p in decided)

    runtime.pipeline.listeners.append(committed)
    runtime.pipeline.decide([])
    tune_gc()
    runtime.start()
    intake = Intake("seawall", source="bench")
    lines = [ln for ln in stream.split(b"\n") if ln]
    tick = 0.02  # offer a small chunk every 20 ms: a steady stream, not one burst
    per_tick = max(1, int(rate_events_per_s * tick))
    offered = 0
    started = time.perf_counter()
    deadline = started + seconds
    i = 0
    while time.perf_counter() < deadline and i < len(lines):
        chunk = lines[i : i + per_tick]
        i += per_tick
        result = intake.accept_lines(list(enumerate(chunk)))
        runtime.submit(result.items, "bench")
        offered += len(result.items)
        next_at = started + (offered / rate_events_per_s)
        pause = next_at - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
    # Let the worker finish what was offered.
    wait_until = time.perf_counter() + 60
    while runtime.store.inbox_size() and time.perf_counter() < wait_until:
        time.sleep(0.05)
    time.sleep(0.2)
    runtime.stop()
    latencies.sort()
    n = len(latencies)
    pick = lambda q: round(latencies[min(n - 1, int(q * n))] * 1000, 2) if n else None  # noqa: E731
    return {
        "offered_events": offered,
        "offered_events_per_s": round(rate_events_per_s, 1),
        "measured": n,
        "p50_ms": pick(0.50),
        "p90_ms": pick(0.90),
        "p99_ms": pick(0.99),
        "max_ms": round(latencies[-1] * 1000, 2) if n else None,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--posts", type=int, default=60_000)
    ap.add_argument("--latency-seconds", type=float, default=20.0)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--profile", action="store_true", help="Print a profile of the throughput run to stderr.")
    args = ap.parse_args()

    stream, n_posts = make_stream(args.posts, args.seed)
    with tempfile.TemporaryDirectory(prefix="seawall-bench-") as tmp:
        bulk = throughput(stream, n_posts, Path(tmp) / "bulk", args.profile)
        half_rate_events = bulk["events_per_s"] / 2
        lat_stream, _ = make_stream(args.posts, args.seed + 1)
        lat = latency(lat_stream, half_rate_events, args.latency_seconds, Path(tmp) / "latency")
    out = {
        "posts_per_s": bulk["posts_per_s"],
        "p50_ms": lat["p50_ms"],
        "p99_ms": lat["p99_ms"],
        "target_posts_per_s": TARGET_POSTS_PER_S,
        "peer": {"name": "Twitter 2013-15 average load", "posts_per_s": TWITTER_2015_AVG_POSTS_PER_S},
        "ratio_vs_peer": round(bulk["posts_per_s"] / TWITTER_2015_AVG_POSTS_PER_S, 2),
        "throughput": bulk,
        "latency_at_half_rate": lat,
        "cores": os.cpu_count(),
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
