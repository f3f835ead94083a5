"""What an account does, as opposed to how it writes: whom it retweets, quotes and mentions, which
hashtags it uses, which sites it links to, at what hours it posts and how much of it is retweets.

A returning operator keeps amplifying the same accounts and pushing the same hashtags under a new
name, which a style vector (dominated by other people's retweeted words) does not see. Tokens:

* `r:handle` the account retweeted ("RT @handle:" at the start of the post) or `q:handle` quoted;
* `m:handle` any other @mention;
* `h:tag` a hashtag (folded to lower case);
* `d:domain` a link's domain (t.co short links are skipped: the same short link never recurs, the
  domain says nothing; expanded links in the post's `links` count).

Suspended accounts keep their token counts (the `MAX_TOKENS` most frequent) and a 24-bucket
hour-of-day histogram; the linker weights tokens by inverse document frequency over the suspended
population (a hashtag every account uses says nothing) and compares accounts by cosine.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from seawall.normalize import canonical_url

MAX_TOKENS = 200  # tokens kept per suspended account (the most frequent)
_RT = re.compile(r"^\s*RT\s+@(\w{1,30})\s*:?", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w@])@(\w{1,30})")
_HASHTAG = re.compile(r"(?<![\w#&])#(\w{2,60})")
_URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
_SHORTENERS = frozenset({"t.co"})


def post_tokens(text: str, links: Iterable[str] = (), quote_of_handle: str | None = None) -> tuple[set[str], bool]:
    """The behaviour tokens of one post and whether it is a retweet."""
    out: set[str] = set()
    text = text or ""
    m = _RT.match(text)
    rt_handle = m.group(1).lower() if m else None
    if rt_handle:
        out.add("r:" + rt_handle)
    if quote_of_handle:
        out.add("q:" + quote_of_handle.lower().lstrip("@"))
    if "@" in text:
        for h in _MENTION.findall(text):
            h = h.lower()
            if h != rt_handle:
                out.add("m:" + h)
    if "#" in text:
        out.update("h:" + t.lower() for t in _HASHTAG.findall(text) if not t.isdigit())
    for url in [*_URL.findall(text), *links]:
        c = canonical_url(url.rstrip(".,);:!?…"))
        if c is not None and c.domain and c.domain not in _SHORTENERS:
            out.add("d:" + c.domain)
    return out, rt_handle is not None


@dataclass(slots=True)
class Behaviour:
    """Token counts (posts using each token), the hour-of-day histogram and the retweet count."""

    tokens: Counter = field(default_factory=Counter)
    hours: np.ndarray = field(default_factory=lambda: np.zeros(24, np.float32))
    posts: int = 0
    retweets: int = 0

    @property
    def retweet_share(self) -> float:
        return self.retweets / self.posts if self.posts else 0.0

    def capped(self, n: int = MAX_TOKENS) -> "Behaviour":
        if len(self.tokens) <= n:
            return self
        return Behaviour(Counter(dict(self.tokens.most_common(n))), self.hours, self.posts, self.retweets)


def behaviour_of(texts: Sequence[str], hours: Sequence[int] = (), links: Iterable[str] = ()) -> Behaviour:
    """An account's behaviour from its posts' texts, posting hours and (expanded) post links."""
    b = Behaviour()
    for t in texts:
        toks, rt = post_tokens(t)
        b.tokens.update(toks)
        b.retweets += rt
    domains, _ = post_tokens("", links)
    b.tokens.update(domains)
    b.posts = max(len(texts), len(hours))
    for h in hours:
        if 0 <= h < 24:
            b.hours[h] += 1
    return b


def idf(df: int, n: int) -> float:
    """Smoothed inverse document frequency over `n` suspended accounts (0 for a token nobody has)."""
    if df <= 0:
        return 0.0
    return math.log((n + 1) / (df + 0.5))


def weights(tokens: Counter, idf_of: dict[str, float]) -> dict[str, float]:
    """Unit-length TF-IDF weights (sublinear tf) over the tokens with a known idf."""
    w = {k: (1.0 + math.log(c)) * idf_of[k] for k, c in tokens.items() if idf_of.get(k, 0.0) > 0}
    norm = math.sqrt(sum(x * x for x in w.values())) or 1.0
    return {k: x / norm for k, x in w.items()}


def hour_similarity(a: np.ndarray, b: np.ndarray) -> float | None:
    """Cosine of two hour-of-day histograms (None when either is empty)."""
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na == 0 or nb == 0:
        return None
    return float(a @ b) / (na * nb)
