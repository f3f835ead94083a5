"""The exposure model: how many impressions a post has collected by a given time.

A post's reach R (expected impressions if nothing is done) comes from its author's followers at
posting time times the share of followers who see it. Impressions arrive with exponential decay,
half-life H (median ~80 minutes for tweets, Pfeffer et al. 2023):

    impressions(t) = R * (1 - 2 ** (-(t - t0) / H))

so acting at time t removes every impression after t. A repost is its own post with its own reach
(the reposter's followers); removing the original takes its reposts down with it.
"""

from __future__ import annotations

import math


def seen_share(dt_seconds: float, half_life_minutes: float) -> float:
    """Share of a post's reach seen within dt seconds of posting."""
    if dt_seconds <= 0:
        return 0.0
    if math.isinf(dt_seconds):
        return 1.0
    return 1.0 - 2.0 ** (-dt_seconds / (half_life_minutes * 60.0))


def impressions_before(reach: float, posted: float, acted: float | None, half_life_minutes: float) -> float:
    """Impressions a post of `reach` collects from `posted` until `acted` (None: never acted on)."""
    if acted is None:
        return reach
    return reach * seen_share(acted - posted, half_life_minutes)


def sample_view_delay(rng, half_life_minutes: float) -> float:  # noqa: ANN001 - random.Random
    """Seconds after posting at which one impression happens (the decay's distribution)."""
    return rng.expovariate(math.log(2) / (half_life_minutes * 60.0))
