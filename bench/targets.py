"""Throughput of the protected-targets signal alone: prints one JSON object.

    .venv/bin/python bench/targets.py [--posts 20000] [--batch 500] [--seed 7] [--big 1000]

Figures (wall clock, one thread, on items normalised beforehand; normalisation is not counted):
  targets_posts_per_s         TargetsSignal.evaluate with the shipped example list (7 targets)
  targets_big_posts_per_s     the same posts with a synthetic list of --big targets (5 aliases,
                              3 partial aliases, 2 requires_context aliases and 2 handles each)
  targets_us_per_post         1e6 / targets_posts_per_s
  hit_share                   share of posts with at least one hit (example list)

Posts are the synthetic tweet-length mix of bench/normalize.py (60% English, 40% Arabic, with
mentions, hashtags, emoji and links), with about 3% naming an example target (full names, handles,
Arabic and Cyrillic aliases, obfuscated spellings). No data set is read.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from seawall.events import PostEvent
from seawall.normalize import Item, Normalizer
from seawall.signals.targets import TargetsSettings, TargetsSignal

_spec = importlib.util.spec_from_file_location("bench_normalize", Path(__file__).with_name("normalize.py"))
assert _spec is not None and _spec.loader is not None
_bn = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_bn)

MENTIONS = [
    "great interview with the Example Social CEO", "@example_ceo when is the next update?",
    "Dana Quillmere spoke at the conference", "D4na Qu1llm3re will pay", "ماذا قالت دانا كويلمير",
    "Илья Морванов объяснил", "your moderators deleted my post again",
    "protest outside Harbourline House",
    "#ExampleSocial is down again", "برج اكزامبل", "@examp1e_ce0 fake account",
]
SYLL = "ka ri mo za ne lu vi to sa de qu il ra bo en ha".split()


def _name(rng: random.Random) -> str:
    return "".join(rng.choice(SYLL) for _ in range(3)).capitalize()


def big_list(n: int, seed: int) -> str:
    rng = random.Random(seed)
    out = ["version = 1"]
    for i in range(n):
        first, last = _name(rng), _name(rng)
        aliases = [f"{first} {last}", f"{first} {last}{rng.choice(SYLL)}", f"{last} {first}",
                   f"{first} {rng.choice(SYLL)} {last}", f"{last} Group {i}"]
        out += [
            "[[targets]]", f'id = "t{i}"', 'kind = "person"', f'name = "{first} {last}"',
            f"aliases = {json.dumps(aliases, ensure_ascii=False)}",
            f'partial_aliases = ["{last}", "{last}{rng.choice(SYLL)}", "{last}son"]',
            f'requires_context = ["{first}", "{first}{rng.choice(SYLL)}"]',
            f'handles = ["@{first.lower()}_{i}", "@{last.lower()}{i}"]',
        ]
    return "\n".join(out) + "\n"


def _items(texts: list[str]) -> list[Item]:
    now = datetime.now(timezone.utc)
    out = []
    for i, t in enumerate(texts):
        ev = PostEvent(id=str(i), account_id=f"a{i % 997}", text=t, created_at=now)
        out.append(Item(event=ev, key=ev.key(), received_at=0.0))
    return out


def _time(signal: TargetsSignal, items: list[Item], batch: int, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for k in range(0, len(items), batch):
            signal.evaluate(items[k : k + batch])
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=20_000)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--big", type=int, default=1000, help="targets in the synthetic large list")
    args = ap.parse_args()
    load = os.getloadavg()[0]
    rng = random.Random(args.seed)
    texts = []
    for i in range(args.posts):
        t = _bn.make_post(rng, i)
        if rng.random() < 0.03:
            t = f"{t} {rng.choice(MENTIONS)}"
        texts.append(t)
    items = _items(texts)
    normalizer = Normalizer()
    for k in range(0, len(items), args.batch):
        normalizer.normalize_batch(items[k : k + args.batch])

    t_build = time.perf_counter()
    example = TargetsSignal()
    t_build = time.perf_counter() - t_build
    t_example = _time(example, items, args.batch)
    hits = sum(1 for h in example.evaluate(items) if h)

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "big.toml"
        path.write_text(big_list(args.big, args.seed), encoding="utf-8")
        t_big_build = time.perf_counter()
        big = TargetsSignal(TargetsSettings(lists=[str(path)]))
        t_big_build = time.perf_counter() - t_big_build
    t_big = _time(big, items, args.batch)

    print(
        json.dumps(
            {
                "targets_posts_per_s": round(len(items) / t_example, 1),
                "targets_us_per_post": round(t_example / len(items) * 1e6, 2),
                "targets_big_posts_per_s": round(len(items) / t_big, 1),
                "big_targets": args.big,
                "big_automaton_keys": len(big._automaton) if big._automaton is not None else 0,
                "build_example_ms": round(t_build * 1e3, 1),
                "build_big_ms": round(t_big_build * 1e3, 1),
                "hit_share": round(hits / len(items), 4),
                "posts": len(items),
                "load_avg_1min": round(load, 2),
                "cpus": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
