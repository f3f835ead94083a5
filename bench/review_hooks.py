"""What review adds to the pipeline's commit: the time spent in `record_reach` (followers and
reposts), `score_cases` (priority) and `keep_case_media` while the demo stream is replayed with the
default signals and rules, as a share of the whole run.

Prints one JSON object.

    .venv/bin/python bench/review_hooks.py [--posts 3000]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import tempfile
import time
from pathlib import Path

HOOKS = ("record_reach", "score_cases", "keep_case_media")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=3000)
    args = ap.parse_args()
    home = Path(tempfile.mkdtemp())
    os.environ["SEAWALL_HOME"] = str(home)
    from seawall.config import load_settings
    from seawall.demo.generate import generate_events
    from seawall.pipeline.pipeline import Pipeline
    from seawall.pipeline.replay import replay_file
    from seawall.storage.sql import open_store

    import orjson

    settings = load_settings()
    store = open_store(settings.database_url)
    pipeline = Pipeline.from_settings(settings, store)
    demo = home / "demo.jsonl"
    with demo.open("wb") as f:
        for ev in generate_events(seed=7, accounts=max(100, args.posts // 10), posts=args.posts):
            f.write(orjson.dumps(ev) + b"\n")
    prof = cProfile.Profile()
    start = time.perf_counter()
    prof.enable()
    summary = replay_file(pipeline, demo)
    prof.disable()
    wall = time.perf_counter() - start
    stats = pstats.Stats(prof)
    spent = {name: 0.0 for name in HOOKS}
    for (filename, _line, name), (_cc, _nc, _tt, cumulative, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if name in spent and "/review/" in filename:
            spent[name] += cumulative
    total = stats.total_tt  # type: ignore[attr-defined]
    print(json.dumps({
        "events": summary["accepted"],
        "cases_opened": summary.get("cases_opened"),
        "profiled_s": round(total, 3),
        "wall_s": round(wall, 3),
        "hooks_s": {k: round(v, 4) for k, v in spent.items()},
        "hooks_share": round(sum(spent.values()) / total, 4),
    }))


if __name__ == "__main__":
    main()
