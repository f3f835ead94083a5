"""From the evidence about one (new account, suspended account) pair to one calibrated score.

The score is a logistic combination: a prior log-odds plus one log-likelihood ratio per kind of
evidence, each bounded so that no single weak coincidence decides. The ratios for names discount
by how many suspended accounts share the matched key (`-ln n`): `john_2` matching one of 400
suspended `john`s is worth far less than `abu_muthanna_2` matching the only `abumuthanna`.

The writing-style and behaviour terms are fitted on data (the IRA split, fit authors only: see
seawall.linking.evaluate, `--fit` and `--fit-behaviour`) and stored as plain JSON beside the
package; the other terms are
set by hand from what each kind of evidence can coincide with, and documented in docs/linking.md.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

PRIOR = -7.0
LINK_THRESHOLD = 0.9  # `linked`, and the default rules' suspend
REVIEW_THRESHOLD = 0.6  # the default rules' review queue


@dataclass(slots=True)
class Evidence:
    """Why one suspended account is a candidate: per kind, its log-likelihood ratio and the two
    sides (new vs old) for the reviewer."""

    terms: dict[str, float] = field(default_factory=dict)
    sides: dict[str, dict[str, Any]] = field(default_factory=dict)
    # what the clipping of the fitted terms took off (negative below lo): it orders candidates whose
    # scores are equal, never changes a score
    clipped: float = 0.0

    def add(self, kind: str, llr: float, **side: Any) -> None:
        if llr > self.terms.get(kind, -math.inf):
            self.terms[kind] = llr
            self.sides[kind] = side

    def logit(self) -> float:
        return PRIOR + sum(self.terms.values())

    def order(self) -> float:
        return self.logit() + self.clipped

    def as_dict(self) -> dict[str, Any]:
        return {k: {"weight": round(self.terms[k], 2), **self.sides[k]}
                for k in sorted(self.terms, key=lambda k: -self.terms[k])}


def sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


# -- names --------------------------------------------------------------------------------------
def name_llr(kind: str, similarity: float, key_len: int, sharing: int, cap: float) -> float:
    """Handle or display-name evidence. `key_len` is the length of the shared letters, `sharing`
    how many suspended accounts have that key (>= 1)."""
    if kind == "exact":
        base = 2.5 + 0.75 * min(key_len, 14)
    elif kind == "same_letters":
        base = 2.0 + 0.7 * min(key_len, 14)
    elif kind == "fuzzy" and similarity >= 0.75:
        base = (similarity - 0.75) / 0.25 * (0.5 * min(key_len, 14))
    else:
        return 0.0
    return max(0.0, min(cap, base) - math.log(max(sharing, 1)))


def number_continues(old: str, new: str) -> bool:
    """`x1` -> `x2`, `x` -> `x2`: the new handle's trailing number follows the old one's."""
    import re

    mo, mn = re.search(r"(\d+)$", old), re.search(r"(\d+)$", new)
    if mn is None:
        return False
    n = int(mn.group(1)[-6:])
    if mo is None:
        return 0 <= n <= 20
    return 0 < n - int(mo.group(1)[-6:]) <= 5


# -- media, texts, identity, graph -------------------------------------------------------------
def pdq_llr(distance: int, banner: bool = False) -> float:
    """A PDQ match of the avatar (or banner): near-identical pictures are strong, edited ones less;
    stock pictures and logos are why it is not absolute."""
    base = 9.0 - 7.0 * min(distance, 31) / 31.0
    return base * (0.8 if banner else 1.0)


IDENTITY_LLR = {"email_hash": 10.0, "phone_hash": 10.0, "device_hash": 7.0, "ip_hash": 3.0}


def bio_llr(jaccard: float, words: int) -> float:
    if words < 4 or jaccard < 0.3:
        return 0.0
    return min(8.0, 9.0 * jaccard) * min(1.0, words / 8)


def link_llr(df: int) -> float:
    return max(0.0, 6.0 - math.log(max(df, 1)))


def follower_llr(weight: float, common: int) -> float:
    """`weight` sums 1/log2(1 + number of suspended accounts the follower followed) over the
    followers the two accounts share: a follower of one suspended account says more than a
    follower of hundreds."""
    if common < 2:
        return 0.0
    return min(8.0, 2.0 * weight)


# -- style (fitted) -----------------------------------------------------------------------------
@dataclass(slots=True, frozen=True)
class StyleModel:
    """llr = a * cosine + b * gap + c * cosine * log(1 + posts) + d, where gap is the cosine minus
    the best cosine of any other suspended account among the style candidates; clipped to [lo, hi]
    (lo = 0: posts that do not look alike are no evidence against: a returner may change topic)."""

    a: float = 6.0
    b: float = 12.0
    c: float = 2.0
    d: float = -1.0
    lo: float = 0.0
    hi: float = 8.0
    fitted_on: str = "defaults"

    def raw(self, cosine: float, gap: float, posts: int) -> float:
        return self.a * cosine + self.b * gap + self.c * cosine * math.log1p(posts) + self.d

    def llr(self, cosine: float, gap: float, posts: int) -> float:
        return max(self.lo, min(self.hi, self.raw(cosine, gap, posts)))


@lru_cache(maxsize=1)
def style_model() -> StyleModel:
    try:
        data = json.loads(resources.files("seawall.data").joinpath("linking/style_model.json").read_text())
    except (FileNotFoundError, OSError, json.JSONDecodeError):
        return StyleModel()
    return StyleModel(**{k: data[k] for k in ("a", "b", "c", "d", "lo", "hi", "fitted_on") if k in data})


# -- behaviour (fitted) -------------------------------------------------------------------------
@dataclass(slots=True, frozen=True)
class BehaviourModel:
    """llr = a * cosine + b * gap + c * cosine * log(1 + posts) + e * hours + d, where cosine is the
    TF-IDF cosine of the behaviour tokens (retweeted / mentioned accounts, hashtags, link domains),
    gap its margin over the best other behaviour candidate and hours the cosine of the hour-of-day
    histograms scaled by min(posts, 20) / 20; clipped to [lo, hi]. Fitted *given* the style term
    (style's llr is an offset in the fit), so what style already says is not counted twice."""

    a: float = 4.0
    b: float = 6.0
    c: float = 1.0
    e: float = 0.0
    d: float = -1.5
    lo: float = 0.0
    hi: float = 8.0
    fitted_on: str = "defaults"

    def raw(self, cosine: float, gap: float, posts: int, hours: float | None) -> float:
        h = (hours or 0.0) * min(posts, 20) / 20
        return self.a * cosine + self.b * gap + self.c * cosine * math.log1p(posts) + self.e * h + self.d

    def llr(self, cosine: float, gap: float, posts: int, hours: float | None) -> float:
        return max(self.lo, min(self.hi, self.raw(cosine, gap, posts, hours)))


@lru_cache(maxsize=1)
def behaviour_model() -> BehaviourModel:
    try:
        data = json.loads(resources.files("seawall.data").joinpath("linking/behaviour_model.json").read_text())
    except (FileNotFoundError, OSError, json.JSONDecodeError):
        return BehaviourModel()
    return BehaviourModel(**{k: data[k] for k in ("a", "b", "c", "e", "d", "lo", "hi", "fitted_on") if k in data})
