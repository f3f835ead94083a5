"""Clusters of accounts that co-share: the same URL, hashtag or text within one window, again and
again.

Two accounts that used the same key within the detector's window form a co-sharing pair for that
key. A pair that co-shared `min_keys` distinct keys (within `pair_ttl` seconds of each other) is
linked, and linked accounts are merged with a union-find; a component of at least `min_accounts`
accounts is a cluster. Keys used by more than `max_key_accounts` accounts in one window are
skipped: a trending hashtag is shared by everyone and says nothing about coordination (the same
reason IDF discounts common words).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


@dataclass(slots=True)
class Cluster:
    id: str  # stable: derived from the first linked pair
    accounts: set[str] = field(default_factory=set)
    posts: int = 0  # posts by its accounts since it formed
    violating: int = 0
    first_t: float = 0.0


class CoShareGraph:
    def __init__(self, min_keys: int = 3, min_accounts: int = 4, max_key_accounts: int = 50, pair_ttl: float = 21600.0):
        self.min_keys = min_keys
        self.min_accounts = min_accounts
        self.max_key_accounts = max_key_accounts
        self.pair_ttl = pair_ttl
        # (a, b) with a < b -> (keys co-shared, last time); dropped once linked or stale.
        self._pairs: dict[tuple[str, str], tuple[set[str], float]] = {}
        self._parent: dict[str, str] = {}
        self._clusters: dict[str, Cluster] = {}  # by union-find root
        self._last_prune = 0.0
        # (absorbed cluster id, surviving cluster id) for each merge of two named clusters.
        self.merged: list[tuple[str, str]] = []

    def __len__(self) -> int:
        return len(self._pairs)

    def sync(self) -> None:
        """Take in links found elsewhere (a graph shared between workers); nothing in one process."""

    def co_shared(self, key: str, account: str, others: list[str], t: float) -> list[str]:
        """`account` used `key` at t, as did `others` (distinct, within the window). Returns the
        accounts newly linked to `account` (possibly empty)."""
        linked: list[str] = []
        pairs = self._pairs
        for other in others:
            if other == account:
                continue
            pair = (account, other) if account < other else (other, account)
            found = pairs.get(pair)
            if found is None:
                pairs[pair] = ({key}, t)
                continue
            keys, _ = found
            keys.add(key)
            if len(keys) >= self.min_keys:
                del pairs[pair]
                if self._union(pair[0], pair[1], t):
                    linked.append(other)
            else:
                pairs[pair] = (keys, t)
        return linked

    def find(self, account: str) -> str | None:
        parent = self._parent
        if account not in parent:
            return None
        root = account
        while parent[root] != root:
            root = parent[root]
        while parent[account] != root:  # path compression
            parent[account], account = root, parent[account]
        return root

    def cluster_of(self, account: str) -> Cluster | None:
        root = self.find(account)
        if root is None:
            return None
        c = self._clusters.get(root)
        return c if c is not None and len(c.accounts) >= self.min_accounts else None

    def _union(self, a: str, b: str, t: float) -> bool:
        parent = self._parent
        for x in (a, b):
            if x not in parent:
                parent[x] = x
                self._clusters[x] = Cluster(id="", accounts={x}, first_t=t)
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        ca, cb = self._clusters[ra], self._clusters[rb]  # type: ignore[index]
        if len(ca.accounts) < len(cb.accounts):
            ra, rb, ca, cb = rb, ra, cb, ca
        parent[rb] = ra  # type: ignore[index]
        del self._clusters[rb]  # type: ignore[arg-type]
        # The bigger cluster keeps its name; a fresh one is named after its first pair.
        if ca.id and cb.id:
            self.merged.append((cb.id, ca.id))
        if not ca.id:
            ca.id = cb.id or hashlib.blake2b(f"{min(a, b)}\x00{max(a, b)}".encode(), digest_size=6).hexdigest()
        ca.accounts |= cb.accounts
        ca.posts += cb.posts
        ca.violating += cb.violating
        ca.first_t = min(ca.first_t, cb.first_t)
        return True

    def prune(self, now: float) -> None:
        if now - self._last_prune < self.pair_ttl / 4:
            return
        self._last_prune = now
        horizon = now - self.pair_ttl
        for pair in [p for p, (_, t) in self._pairs.items() if t < horizon]:
            del self._pairs[pair]
