"""When to try an action again, and when to stop: exponential backoff with jitter, bounded by a
number of attempts and by the time since the action was queued."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from seawall.actions.settings import RetrySettings


@dataclass(frozen=True)
class RetryPolicy:
    base_delay_s: float = 5.0
    max_delay_s: float = 3600.0
    max_attempts: int = 40
    max_age_s: float = 72 * 3600.0
    jitter: float = 0.5

    @classmethod
    def from_settings(cls, s: RetrySettings) -> "RetryPolicy":
        return cls(s.base_delay_s, s.max_delay_s, s.max_attempts, s.max_age_s, s.jitter)

    def delay_s(self, attempts: int, retry_after_s: float | None = None, rng: random.Random | None = None) -> float:
        """The wait after the `attempts`-th failed attempt: base * 2^(attempts-1), capped, with the
        last `jitter` fraction randomised so that many actions failing together do not retry in
        lockstep. A platform's Retry-After is honoured up to the cap."""
        exp = min(self.max_delay_s, self.base_delay_s * (2 ** min(max(attempts - 1, 0), 60)))
        r = (rng or random).random()
        wait = exp * (1 - self.jitter) + exp * self.jitter * r
        if retry_after_s is not None:
            wait = max(wait, min(retry_after_s, self.max_delay_s))
        return wait

    def gives_up(self, attempts: int, queued_at: datetime, now: datetime) -> bool:
        """True when the action should become `failed` after `attempts` failed attempts."""
        return attempts >= self.max_attempts or (now - queued_at).total_seconds() >= self.max_age_s
