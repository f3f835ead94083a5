"""What the campaign detector is configured with and what it reports."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

NONE: list = []  # noqa: RUF012 - the shared "no findings" list: never modified


@dataclass(slots=True)
class DetectorConfig:
    window_seconds: float = 600.0
    baseline_tau_seconds: float = 21600.0
    retention_seconds: float = 86400.0
    prior_rate_per_hour: float = 6.0  # a key with no history is judged against this rate
    warmup_seconds: float = 1800.0  # no burst is judged until the detector has seen this much stream
    min_volume: int = 20
    min_z: float = 4.0
    min_ratio: float = 3.0
    min_violating_share: float = 0.3
    min_violating: int = 3
    young_account_days: float = 30.0
    min_young_accounts: int = 5
    min_young_share: float = 0.6
    text_min_chars: int = 24
    coshare_min_keys: int = 3
    cluster_min_accounts: int = 4
    coshare_max_key_accounts: int = 20
    coshare_max_expected: float = 2.0  # keys expected more often than this per window are not rare
    coshare_pair_ttl_seconds: float = 21600.0
    # Which hits make a post violating (signal -> minimum score), besides enforced verdicts that
    # rest on a signal other than this one.
    violating_signals: dict[str, float] = field(default_factory=lambda: {"classifier": 0.8, "hashbank": 0.75})


@dataclass(slots=True)
class Finding:
    """A post is a member of a live campaign."""

    campaign: str  # subject id: hashtag:#x | url:... | domain:... | text:<hash> | cluster:<id>
    reason: str  # burst | young_accounts | cosharing
    label: str  # campaign (violating share high) | coordinated
    score: float
    evidence: dict[str, Any]


@dataclass(slots=True)
class CampaignUpdate:
    """What changed about one campaign since the last drain: to be recorded as its case."""

    campaign: str
    kind: str
    reason: str
    label: str
    score: float
    evidence: dict[str, Any]
    posts: list[tuple[float, str, str]] = field(default_factory=list)  # (t, post id, account id)
    accounts: set[str] = field(default_factory=set)
    merged_into: str | None = None


def text_id(text: str) -> str:
    """The stable name of a text campaign: 64 bits of BLAKE2b of its normalised text."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()
