"""The behaviour side of the suspended-account index: an inverted index from behaviour tokens
(retweeted, quoted and mentioned handles, hashtags, link domains) to the suspended accounts that
used them, their token counts and their hour-of-day histograms.

Candidates are found through the postings only (never a scan of all accounts): each token of the
new account adds its TF-IDF weight to every suspended account that used it, tokens used by more
than `MAX_POSTING` accounts are skipped for candidate generation (they still count in the cosine),
and the best `CANDIDATES` by that sum are kept.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from typing import Any

import numpy as np

from seawall.linking import scoring
from seawall.linking.behaviour import Behaviour, hour_similarity, idf, weights
from seawall.linking.postings import PostingIndex

CANDIDATES = 50
MAX_POSTING = 20_000
KINDS = {"r": "retweeted", "q": "quoted", "m": "mentioned", "h": "hashtags", "d": "link_domains"}


class BehaviourIndex:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.postings = PostingIndex()
        self.tokens: dict[int, Counter] = {}  # account -> token counts (capped)
        self.hours: dict[int, np.ndarray] = {}
        self.retweet_share: dict[int, float] = {}
        self.norm: dict[int, float] = {}  # TF-IDF norm as of the last build (or of the add)
        self.accounts = 0  # suspended accounts with any posts (the idf population)

    def add(self, i: int, b: Behaviour, built: bool) -> None:
        with self._lock:
            if b.posts == 0:
                return
            self.accounts += 1
            b = b.capped()
            if b.tokens:
                self.tokens[i] = b.tokens
                for t in b.tokens:
                    self.postings.add(t, i)
            if b.hours.any():
                self.hours[i] = b.hours.astype(np.float32)
            self.retweet_share[i] = b.retweet_share
            if built:
                self.norm[i] = self._norm(b.tokens)

    def _idf(self, token: str) -> float:
        return idf(self.postings.df(token), self.accounts)

    def _norm(self, tokens: Counter) -> float:
        return math.sqrt(sum(((1.0 + math.log(c)) * self._idf(t)) ** 2 for t, c in tokens.items())) or 1.0

    def build(self) -> None:
        with self._lock:
            self.postings.freeze()
            self.norm = {i: self._norm(c) for i, c in self.tokens.items()}

    def query_weights(self, b: Behaviour) -> dict[str, float]:
        idf_of = {t: self._idf(t) for t in b.tokens}
        return weights(b.tokens, idf_of)

    def candidates(self, q: dict[str, float]) -> dict[int, float]:
        """The suspended accounts sharing the most weight with the query, with their cosine."""
        lists, w = [], []
        for t, x in q.items():
            ids = self.postings.get(t)
            if 0 < len(ids) <= MAX_POSTING:
                lists.append(ids)
                w.append(np.full(len(ids), x, np.float32))
        if not lists:
            return {}
        ids, inv = np.unique(np.concatenate(lists), return_inverse=True)
        sums = np.bincount(inv, weights=np.concatenate(w))
        if len(ids) > CANDIDATES:
            top = np.argpartition(-sums, CANDIDATES - 1)[:CANDIDATES]
            ids = ids[top]
        return {i: self.cosine(q, i) for i in ids.tolist()}

    def cosine(self, q: dict[str, float], i: int) -> float:
        old = self.tokens.get(i)
        if not old or not q:
            return 0.0
        norm = self.norm.get(i) or self._norm(old)
        return sum(x * (1.0 + math.log(old[t])) * self._idf(t) for t, x in q.items() if t in old) / norm

    def shared(self, q: dict[str, float], i: int, limit: int = 10) -> dict[str, list[str]]:
        """The tokens both accounts used, strongest first, by kind (what the reviewer sees)."""
        old = self.tokens.get(i) or {}
        common = sorted((t for t in q if t in old), key=lambda t: -q[t])[:limit]
        out: dict[str, list[str]] = {}
        for t in common:
            kind, _, value = t.partition(":")
            out.setdefault(KINDS.get(kind, kind), []).append(value)
        return out

    def hour_sim(self, hours: np.ndarray, i: int) -> float | None:
        old = self.hours.get(i)
        return None if old is None else hour_similarity(hours, old)

    def add_evidence(self, i: int, ev: scoring.Evidence, beh: Behaviour, q: dict[str, float],
                     sims: dict[int, float]) -> None:
        """The behaviour term of one (new account, suspended account `i`) pair, added to `ev`."""
        cos = sims[i] if i in sims else self.cosine(q, i)
        hour = self.hour_sim(beh.hours, i) if beh.hours.any() else None
        if cos <= 0 and hour is None:
            return
        # accounts outside the candidates share no token: their cosine is 0 (as in the fit)
        gap = cos - max((s for o, s in sims.items() if o != i), default=0.0)
        model = scoring.behaviour_model()
        raw = model.raw(cos, gap, beh.posts, hour)
        llr = model.llr(cos, gap, beh.posts, hour)
        ev.clipped += raw - llr
        ev.add("behaviour", llr, **self.evidence(q, beh, i, cos, gap, hour))

    def evidence(self, q: dict[str, float], b: Behaviour, i: int, cos: float, gap: float,
                 hour: float | None) -> dict[str, Any]:
        return {"cosine": round(cos, 3), "gap": round(gap, 3), "shared": self.shared(q, i),
                "hour_similarity": None if hour is None else round(hour, 3),
                "retweet_share": {"new": round(b.retweet_share, 3), "old": round(self.retweet_share.get(i, 0.0), 3)},
                "new_posts": b.posts}
