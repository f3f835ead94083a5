"""Account-level extremism: an account's score from its posts' scores and its profile's score.

The aggregate is the mean of the account's post scores with the profile (bio) counted as
`profile_weight` extra posts. A mean, not a maximum or noisy-OR: those grow with the number of
posts, so a prolific, harmless account would outscore a quiet extremist one, and in the evaluation
data the extremist accounts have ~160 posts each against ~2 for the others, which would let a
count-driven aggregate look better than it is. Measured alternatives are in the model card.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable, Sequence

import numpy as np


def aggregate(post_scores: Sequence[float], profile_score: float | None = None, profile_weight: float = 2.0,
              prior: float = 0.0, prior_weight: float = 0.0) -> float:
    s = float(np.sum(post_scores)) + prior * prior_weight
    n = len(post_scores) + prior_weight
    if profile_score is not None:
        s += profile_weight * profile_score
        n += profile_weight
    return s / n if n else 0.0


def top_k_mean(post_scores: Sequence[float], k: int = 5) -> float:
    if not len(post_scores):
        return 0.0
    return float(np.mean(sorted(post_scores, reverse=True)[:k]))


def by_account(accounts: Iterable[str], scores: Iterable[float]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = defaultdict(list)
    for a, s in zip(accounts, scores):
        out[a].append(float(s))
    return out
