"""Account linker at scale: 1M synthetic suspended accounts, sign-up scoring latency.

Builds a LinkIndex over `--accounts` synthetic suspended accounts (handles and display names from
a pseudo-word vocabulary with numbers and separators, avatars for half of them, bios for a
third, links for a tenth, 5 followers each from a pool of 2x the accounts, style vectors for
`--style-share` of them: random clustered vectors standing in for real posts, since only the
index's speed is measured here; accuracy is measured by `seawall link-eval`); the same accounts
get 10 synthetic posts of behaviour (a retweeted source and a hashtag each, drawn log-uniformly from
pools of 50,000 sources and 20,000 hashtags, so a few are very common), so first-post scoring
includes the behaviour index's candidate generation and cosines. Then scores
`--queries` sign-ups (profile only, K = 0): half returners (a numbered or separator variant of a
suspended handle, half of those with the same avatar re-encoded = a few PDQ bits flipped), half
new people; and `--post-queries` first-post scorings (K = 5: style search and behaviour postings).

The peer, in the same run: rapidfuzz `process.extract` of each sign-up's handle over all suspended
handles (the brute-force scan a small platform would write), on `--peer-queries` sign-ups.

Prints one JSON object. Latencies are wall-clock (`*_ms`) and the scoring thread's CPU time
(`*_cpu_*`): on a shared machine the wall figures include waiting for a core, the CPU ones do not.

    .venv/bin/python bench/link.py [--accounts 1000000] [--queries 2000]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import time

import numpy as np
from rapidfuzz import fuzz, process

from seawall.linking import handles
from seawall.linking.index import LinkIndex
from seawall.linking.profile import Profile
from seawall.linking.style import N_FW

SYL = ["ab", "u", "al", "ka", "mi", "ra", "te", "su", "no", "vi", "da", "re", "po", "li", "ma", "ze", "tu", "be",
       "sha", "kh", "ir", "on", "el", "an", "ja", "har", "ib", "n", "or", "is", "ad", "um", "et", "ho", "qa", "wi"]


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def word(rng: random.Random) -> str:
    return "".join(rng.choice(SYL) for _ in range(rng.randint(2, 4)))


def handle(rng: random.Random) -> str:
    h = word(rng) + rng.choice(["_", "", ".", "_"]) + word(rng)
    r = rng.random()
    if r < 0.4:
        h += str(rng.randint(0, 9999))
    elif r < 0.5:
        h = rng.choice(["the_", "real_", "abu_", "mr"]) + h
    return h


def flip(pdq: str, rng: random.Random, bits: int) -> str:
    v = int(pdq, 16)
    for b in rng.sample(range(256), bits):
        v ^= 1 << b
    return f"{v:064x}"


def behaviour_posts(rng: random.Random, n: int) -> list[str]:
    """Posts that retweet a source and use a hashtag, both log-uniform over their pools."""
    return [f"RT @src{int(50_000 ** rng.random())}: words #tag{int(20_000 ** rng.random())}" for _ in range(n)]


def pct(xs: list[float], q: float) -> float:
    return round(float(np.percentile(np.asarray(xs) * 1000, q)), 3)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=2000)
    ap.add_argument("--post-queries", type=int, default=300)
    ap.add_argument("--peer-queries", type=int, default=30)
    ap.add_argument("--style-share", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    nrng = np.random.default_rng(args.seed)
    width = 256 + N_FW
    centers = nrng.normal(size=(64, width)).astype(np.float32)

    rss0 = rss_mb()
    t0 = time.perf_counter()
    c0 = time.process_time()
    index = LinkIndex()
    handles_list: list[str] = []
    avatars: dict[int, str] = {}
    for i in range(args.accounts):
        h = handle(rng)
        handles_list.append(h)
        p = Profile(f"s{i}", handle=h, display_name=h.replace("_", " ").title() if rng.random() < 0.7 else "")
        if rng.random() < 0.5:
            p.avatar_pdq = f"{rng.getrandbits(256):064x}"
            avatars[i] = p.avatar_pdq
        if rng.random() < 0.33:
            p.bio = " ".join(word(rng) for _ in range(rng.randint(4, 12)))
        if rng.random() < 0.1:
            p.links = [f"https://{word(rng)}.example/{word(rng)}"]
        p.followers = [f"u{rng.randrange(2 * args.accounts)}" for _ in range(5)]
        raw = None
        if rng.random() < args.style_share:
            raw = (centers[rng.randrange(64)] + nrng.normal(scale=0.7, size=width)).astype(np.float32)
            raw[256:] = np.abs(raw[256:]) / 50  # function-word rates are small and positive
            p.posts = behaviour_posts(rng, 10)
            p.post_hours = [rng.randrange(24) for _ in range(10)]
        index.add(p, style_raw=raw)
    t_add = time.perf_counter() - t0
    index.build()
    build_s = time.perf_counter() - t0
    build_cpu_s = time.process_time() - c0
    gc.collect()
    rss1 = rss_mb()

    # sign-up queries
    queries: list[tuple[Profile, str | None]] = []
    for q in range(args.queries):
        if q % 2 == 0:
            i = rng.randrange(args.accounts)
            p = Profile(f"n{q}", handle=rng.choice(handles.variants(handles_list[i])))
            if i in avatars and rng.random() < 0.5:
                p.avatar_pdq = flip(avatars[i], rng, rng.randint(0, 12))
            queries.append((p, f"s{i}"))
        else:
            queries.append((Profile(f"n{q}", handle=handle(rng), display_name=word(rng).title()), None))
    lat: list[float] = []
    cpu: list[float] = []
    found = 0
    linked_fresh = 0
    for p, want in queries:
        t, c = time.perf_counter(), time.thread_time()
        cands = index.link(p)
        lat.append(time.perf_counter() - t)
        cpu.append(time.thread_time() - c)
        if want is not None:
            found += bool(cands) and cands[0].account_id == want
        else:
            linked_fresh += bool(cands) and cands[0].score >= 0.9
    # first-post queries (style search)
    plat: list[float] = []
    pcpu: list[float] = []
    for q in range(args.post_queries):
        p = Profile(f"m{q}", handle=handle(rng), posts=behaviour_posts(rng, 5),
                    post_hours=[rng.randrange(24) for _ in range(5)])
        raw = (centers[rng.randrange(64)] + nrng.normal(scale=0.7, size=width)).astype(np.float32)
        raw[256:] = np.abs(raw[256:]) / 50
        t, c = time.perf_counter(), time.thread_time()
        index.link(p, style_raw=raw)
        plat.append(time.perf_counter() - t)
        pcpu.append(time.thread_time() - c)
    # the brute-force peer
    peer: list[float] = []
    for p, _ in queries[: args.peer_queries]:
        t = time.perf_counter()
        process.extract(p.handle, handles_list, scorer=fuzz.ratio, limit=10)
        peer.append(time.perf_counter() - t)
    returners = sum(1 for _, w in queries if w is not None)
    out = {
        "accounts": args.accounts,
        "with_avatar": len(avatars),
        "with_style": len(index.style),
        "with_behaviour": index.behaviour.accounts,
        "build_s": round(build_s, 1),
        "add_s": round(t_add, 1),
        "build_cpu_s": round(build_cpu_s, 1),
        "rss_mb": round(rss1 - rss0, 0),
        "index_arrays_mb": round(index.nbytes() / 2**20, 1),
        "signup_queries": len(queries),
        "signup_p50_ms": pct(lat, 50),
        "signup_p99_ms": pct(lat, 99),
        "signup_max_ms": pct(lat, 100),
        "signup_cpu_p50_ms": pct(cpu, 50),
        "signup_cpu_p99_ms": pct(cpu, 99),
        "first_post_p50_ms": pct(plat, 50),
        "first_post_p99_ms": pct(plat, 99),
        "first_post_cpu_p99_ms": pct(pcpu, 99),
        "returners_top1": round(found / returners, 4),
        "new_people_linked_at_0.9": round(linked_fresh / (len(queries) - returners), 4),
        "peer": "rapidfuzz process.extract(handle, all handles, fuzz.ratio, limit=10)",
        "peer_queries": len(peer),
        "peer_p50_ms": pct(peer, 50),
        "speedup_p50": round(float(np.percentile(peer, 50) / np.percentile(lat, 50)), 1),
        "target_p99_ms": 50,
        "cpu_count": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
