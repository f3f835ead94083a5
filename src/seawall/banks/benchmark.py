"""PDQ index benchmark: Seawall's multi-index against python-threatexchange's PDQIndex.

Both engines see the same bank and the same queries, each in its own subprocess so that resident
memory is measured fairly:

* the bank: `hashes` 256-bit hashes, 80% uniformly random and 20% clustered (made by flipping
  1-40 random bits of one of `seeds` seed hashes, since real banks hold many near-copies of
  the same pictures);
* the queries: half are planted near-duplicates (a bank entry with exactly d distinct bits flipped,
  d uniform in 1..31, taken from the whole bank so clustered entries are queried too), half are
  fresh random hashes that match nothing;
* build_s: from the list of hex strings (the form both take) to a queryable index;
* ms_per_query: wall time of one batched search over all queries / number of queries;
* recall: share of planted queries whose source entry is among the results at distance <= 31;
* rss_mb: resident memory held after the build once the inputs are dropped, minus the process's
  resident memory before the bank was generated; peak_rss_mb is the process's peak.

pytx's PDQIndex needs `pip install -e .[bench]` (threatexchange and faiss-cpu).
"""

from __future__ import annotations

import gc
import json
import os
import resource
import subprocess
import sys
import time
from typing import Any

import numpy as np

THRESHOLD = 31
ENGINES = ("seawall", "pytx")


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def flip_exact(words: np.ndarray, distances: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Copies of rows with exactly distances[i] distinct bits flipped."""
    out = words.copy()
    n = len(words)
    if n == 0:
        return out
    order = np.argsort(rng.random((n, 256)), axis=1)  # a random permutation of bit positions per row
    for j in range(int(distances.max())):
        active = distances > j
        pos = order[:, j]
        for w in range(4):
            sel = active & (pos // 64 == w)
            out[sel, w] ^= np.uint64(1) << (pos[sel] % 64).astype(np.uint64)
    return out


def make_bank(n: int, seed: int = 7, clustered: float = 0.2, seeds: int = 4000) -> np.ndarray:
    rng = np.random.default_rng(seed)
    words = rng.integers(0, 2**64, size=(n, 4), dtype=np.uint64)
    n_c = int(n * clustered)
    if n_c:
        centers = rng.integers(0, 2**64, size=(min(seeds, n_c), 4), dtype=np.uint64)
        start = n - n_c
        for lo in range(start, n, 1_000_000):  # in slices: bounded temporary memory
            hi = min(n, lo + 1_000_000)
            m = hi - lo
            block = centers[rng.integers(0, len(centers), m)]
            k = rng.integers(1, 41, m)
            for j in range(40):  # positions may repeat: up to k flips, as real edits vary
                active = k > j
                pos = rng.integers(0, 256, m)
                for w in range(4):
                    sel = active & (pos // 64 == w)
                    block[sel, w] ^= np.uint64(1) << (pos[sel] % 64).astype(np.uint64)
            words[lo:hi] = block
    return words


def make_queries(bank: np.ndarray, q: int, seed: int = 11) -> tuple[np.ndarray, np.ndarray]:
    """(queries, source id or -1): the first half planted near-duplicates, then random hashes."""
    rng = np.random.default_rng(seed)
    planted = q // 2
    src = rng.integers(0, len(bank), planted)
    d = rng.integers(1, THRESHOLD + 1, planted)
    near = flip_exact(bank[src], d, rng)
    rand = rng.integers(0, 2**64, size=(q - planted, 4), dtype=np.uint64)
    return np.concatenate([near, rand]), np.concatenate([src, np.full(q - planted, -1)])


def _hex(words: np.ndarray) -> list[str]:
    from seawall.banks.index import words_to_hex

    return words_to_hex(words)


def run_engine(engine: str, n: int, q: int, seed: int = 7) -> dict[str, Any]:
    """Measure one engine in this process (call it in a fresh subprocess for a fair rss_mb)."""
    gc.collect()
    base = _rss_mb()
    bank = make_bank(n, seed)
    queries, src = make_queries(bank, q, seed + 4)
    bank_hex = _hex(bank)
    query_hex = _hex(queries)
    add_hex = _hex(np.random.default_rng(seed + 9).integers(0, 2**64, size=(10_000, 4), dtype=np.uint64))
    del bank, queries
    gc.collect()
    out: dict[str, Any] = {"engine": engine, "hashes": n, "queries": q}
    planted = src >= 0

    if engine == "seawall":
        from seawall.banks.index import PDQIndex

        t0 = time.perf_counter()
        index = PDQIndex(bank_hex, threshold=THRESHOLD)
        out["build_s"] = time.perf_counter() - t0
        del bank_hex
        gc.collect()
        out["rss_mb"] = _rss_mb() - base
        t0 = time.perf_counter()
        m = index.search(query_hex)
        dt = time.perf_counter() - t0
        hit = np.zeros(q, dtype=bool)
        hit[m.query[m.ids == src[m.query]]] = True
        out["matches"] = int(len(m))
        # writes: 10k additions without a rebuild, then a disable seen by the next query
        t0 = time.perf_counter()
        ids = index.add(add_hex)
        out["add_10k_s"] = time.perf_counter() - t0
        out["added_found"] = bool(any(i == ids[0] for i, _ in index.query(add_hex[0])))
        victim = int(src[0])
        index.disable([victim])
        out["disable_effective"] = victim not in {i for i, _ in index.query(query_hex[0])}
    elif engine == "pytx":
        from threatexchange.signal_type.pdq.pdq_index import PDQIndex as PytxIndex

        t0 = time.perf_counter()
        index = PytxIndex(((h, i) for i, h in enumerate(bank_hex)))
        out["build_s"] = time.perf_counter() - t0
        del bank_hex
        gc.collect()
        out["rss_mb"] = _rss_mb() - base
        t0 = time.perf_counter()
        res = index.index.search_with_distance_in_result(query_hex, THRESHOLD)
        dt = time.perf_counter() - t0
        hit = np.zeros(q, dtype=bool)
        total = 0
        for i, h in enumerate(query_hex):
            found = res.get(h, [])
            total += len(found)
            if src[i] >= 0 and any(int(r[0]) == src[i] for r in found):
                hit[i] = True
        out["matches"] = total
        t0 = time.perf_counter()
        index.add_all((h, n + i) for i, h in enumerate(add_hex))
        out["add_10k_s"] = time.perf_counter() - t0
    else:
        raise ValueError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")
    out["ms_per_query"] = dt * 1000 / q
    out["recall"] = float(hit[planted].mean()) if planted.any() else 1.0
    out["peak_rss_mb"] = _peak_mb()
    return out


def run(n: int, q: int, engines: tuple[str, ...] = ENGINES, seed: int = 7) -> dict[str, Any]:
    """Run each engine in its own subprocess on the same bank and queries; add the ratios."""
    result: dict[str, Any] = {"hashes": n, "queries": q, "threshold": THRESHOLD, "cpus": os.cpu_count()}
    for engine in engines:
        proc = subprocess.run(
            [sys.executable, "-m", "seawall.banks.benchmark", "--engine", engine,
             "--hashes", str(n), "--queries", str(q), "--seed", str(seed)],
            capture_output=True, text=True,
        )
        if proc.returncode != 0:
            result[engine] = {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1]}
            continue
        result[engine] = json.loads(proc.stdout.strip().splitlines()[-1])
    s, p = result.get("seawall", {}), result.get("pytx", {})
    if "build_s" in s and "build_s" in p:
        result["ratios"] = {
            "query_throughput_x": p["ms_per_query"] / s["ms_per_query"],
            "memory_fraction": s["rss_mb"] / p["rss_mb"] if p["rss_mb"] > 0 else None,
            "build_time_fraction": s["build_s"] / p["build_s"],
        }
        r = result["ratios"]
        result["targets"] = {
            "throughput_10x": r["query_throughput_x"] >= 10,
            "memory_half": r["memory_fraction"] is not None and r["memory_fraction"] <= 0.5,
            "build_fifth": r["build_time_fraction"] <= 0.2,
            "add_10k_under_1s": s.get("add_10k_s", 99) < 1.0,
            "recall_100": s.get("recall") == 1.0,
            "disable_immediate": bool(s.get("disable_effective")),
        }
    return result


def run_text(n: int, q: int, seed: int = 7) -> dict[str, Any]:
    """Near-duplicate text index: n generated 20-word texts (70% words from a 50k vocabulary, 30%
    common words); q queries, each a bank text with 2 of its 20 words replaced."""
    import random

    from seawall.banks.text_index import TextIndex

    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(50_000)]
    common = ["the", "a", "of", "and", "to", "in", "is", "we", "you", "they"]
    texts = [" ".join(rng.choice(vocab) if rng.random() < 0.7 else rng.choice(common) for _ in range(20))
             for _ in range(n)]
    src = [rng.randrange(n) for _ in range(q)]
    queries = []
    for s in src:
        w = texts[s].split()
        for p in rng.sample(range(20), 2):
            w[p] = f"edited{rng.randrange(10**9)}"
        queries.append(" ".join(w))
    gc.collect()
    base = _rss_mb()
    t0 = time.perf_counter()
    idx = TextIndex()
    idx.add(texts)
    build = time.perf_counter() - t0
    rss = _rss_mb() - base
    t0 = time.perf_counter()
    res = idx.search(queries)
    dt = time.perf_counter() - t0
    found = sum(s in {i for i, _ in r} for s, r in zip(src, res))
    return {"texts": n, "queries": q, "build_s": build, "ms_per_query": dt * 1000 / q,
            "recall_2_of_20_edited": found / q, "index_mb": idx.nbytes() / 2**20, "rss_mb": rss,
            "mb_per_1m_texts": idx.nbytes() / 2**20 * 1_000_000 / n}


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hashes", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=2_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--engine", choices=ENGINES, help="measure one engine in this process")
    ap.add_argument("--only", choices=ENGINES, action="append", help="run only these engines")
    ap.add_argument("--text", action="store_true", help="benchmark the near-duplicate text index instead")
    args = ap.parse_args(argv)
    if args.text:
        print(json.dumps(run_text(args.hashes, args.queries, args.seed), indent=2))
    elif args.engine:
        print(json.dumps(run_engine(args.engine, args.hashes, args.queries, args.seed)))
    else:
        print(json.dumps(run(args.hashes, args.queries, tuple(args.only or ENGINES), args.seed), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
