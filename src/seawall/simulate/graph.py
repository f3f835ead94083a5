"""The follower graph: heavy-tailed, with a densely connected extremist network inside it.

Every account has a lognormal popularity; whom it follows is drawn in proportion to popularity, so
follower counts are heavy-tailed (a few accounts with many followers, most with few). Network
members draw most of their follows from the network (homophily); a small share of ordinary accounts
("sympathisers", the curious, researchers) follow some members too.
"""

from __future__ import annotations

import numpy as np


def _draw(rng: np.random.Generator, cdf: np.ndarray, pool: np.ndarray, k: int, exclude: int) -> set[int]:
    """Up to k distinct members of `pool` drawn in proportion to popularity (cdf over the pool)."""
    if k <= 0 or len(pool) == 0:
        return set()
    picks = pool[np.searchsorted(cdf, rng.random(k * 2 + 4) * cdf[-1], side="right").clip(0, len(pool) - 1)]
    out: set[int] = set()
    for p in picks.tolist():
        if p != exclude:
            out.add(p)
            if len(out) >= k:
                break
    return out


def follower_graph(
    rng: np.random.Generator,
    n: int,
    members: np.ndarray,
    follows_median: float,
    follows_sigma: float,
    popularity_sigma: float,
    homophily: float,
    sympathiser_share: float,
) -> list[set[int]]:
    """followers[j] = the set of accounts following account j."""
    popularity = rng.lognormal(0.0, popularity_sigma, n)
    is_member = np.zeros(n, dtype=bool)
    is_member[members] = True
    everyone = np.arange(n)
    ordinary = everyone[~is_member]
    cdf_all = np.cumsum(popularity[ordinary])
    cdf_net = np.cumsum(popularity[members]) if len(members) else np.zeros(0)
    out_degree = np.maximum(1, rng.lognormal(np.log(follows_median), follows_sigma, n).astype(int))
    out_degree = np.minimum(out_degree, n - 1)
    sympathisers = set(rng.choice(ordinary, size=int(len(ordinary) * sympathiser_share), replace=False).tolist()) \
        if len(ordinary) else set()
    followers: list[set[int]] = [set() for _ in range(n)]
    for i in range(n):
        k = int(out_degree[i])
        if is_member[i]:
            k_net = int(round(k * homophily))
            targets = _draw(rng, cdf_net, members, k_net, i) | _draw(rng, cdf_all, ordinary, k - k_net, i)
        else:
            targets = _draw(rng, cdf_all, ordinary, k, i)
            if i in sympathisers:
                targets |= _draw(rng, cdf_net, members, max(1, k // 4), i)
        for j in targets:
            followers[j].add(i)
    return followers
