"""Writing style of an account's posts as one fixed-size vector.

Two profiles, concatenated:

* character 3-grams and word unigrams of the posts (case and punctuation kept: they are style),
  hashed by seawall.classify.features.HashingFeaturizer and folded to `dim` signed buckets;
* the relative frequencies of function words ("the", "of", "and", ...), which authors use at
  habitual rates whatever they write about.

An account's vector is the mean of its posts' vectors. Comparing two accounts subtracts the mean
vector of the known (suspended) population first (and scales each bucket by its spread), so what
every account shares (English, retweet markers) does not make every pair look alike; the result is
L2-normalised and compared by cosine. URLs are kept as written: a link an account keeps posting
(its own site, the same short link) can tell as much as its words (on the IRA data, keeping or
dropping them changed MRR by about 0.01).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Sequence

import numpy as np

from seawall.classify.features import HashingFeaturizer
from seawall.normalize import clean

DEFAULT_DIM = 256
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)

# English function words (pronouns, determiners, prepositions, conjunctions, auxiliaries).
FUNCTION_WORDS = tuple("""
a about above after again against all am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have
having he her here hers herself him himself his how i if in into is it its itself just me more most
my myself no nor not now of off on once only or other our ours ourselves out over own same she
should so some such than that the their theirs them themselves then there these they this those
through to too under until up very was we were what when where which while who whom why will with
would you your yours yourself yourselves also yet though however must may might shall
""".split())
_FW_INDEX = {w: i for i, w in enumerate(FUNCTION_WORDS)}
_FW_SET = frozenset(FUNCTION_WORDS)
N_FW = len(FUNCTION_WORDS)
# Weight of the function-word block relative to the n-gram block (each is unit length).
FW_WEIGHT = 0.5

_featurizer = HashingFeaturizer(bits=18, char_ngrams=(3, 3), word_ngrams=(1, 1))


def prepare(text: str) -> str:
    return clean(text)


def post_vectors(texts: Sequence[str], dim: int = DEFAULT_DIM) -> np.ndarray:
    """(n, dim + N_FW) float32: each post's folded n-gram vector and function-word frequencies."""
    n = len(texts)
    out = np.zeros((n, dim + N_FW), dtype=np.float32)
    if n == 0:
        return out
    prepared = [prepare(t) for t in texts]
    f = _featurizer.transform(prepared)
    if len(f.doc):
        flat = f.doc.astype(np.int64) * dim + (f.idx % dim)
        out[:, :dim] = np.bincount(flat, weights=f.val, minlength=n * dim).reshape(n, dim)
    for i, t in enumerate(prepared):
        words = _WORD.findall(t.lower())
        if not words:
            continue
        counts = Counter(words)
        row = out[i, dim:]
        for w in counts.keys() & _FW_SET:
            row[_FW_INDEX[w]] = counts[w]
        row /= len(words)
    return out


def account_vector(texts: Sequence[str], dim: int = DEFAULT_DIM) -> np.ndarray | None:
    """Mean of the posts' vectors; None for an account without text."""
    texts = [t for t in texts if t and t.strip()]
    if not texts:
        return None
    return post_vectors(texts, dim).mean(axis=0)


def _spread(x: np.ndarray) -> np.ndarray:
    """Per-dimension spread for standardising, floored at a tenth of the average spread (a
    dimension that happens to be constant in a small population must not be divided by ~0); a
    population too small to estimate spreads (under 50) gets the same spread everywhere."""
    std = x.std(axis=0)
    avg = float(std.mean()) or 1.0
    if len(x) < 50:
        return np.full_like(std, avg)
    return np.maximum(std, 0.1 * avg)


class StyleSpace:
    """The population statistics that turn raw account vectors into comparable unit vectors:
    the mean n-gram vector and the mean and spread of each function word's frequency."""

    def __init__(self, dim: int, mean: np.ndarray, std: np.ndarray, fw_mean: np.ndarray, fw_std: np.ndarray):
        self.dim = dim
        self.mean = mean.astype(np.float32)
        self.std = np.maximum(std.astype(np.float32), 1e-4)
        self.fw_mean = fw_mean.astype(np.float32)
        self.fw_std = np.maximum(fw_std.astype(np.float32), 1e-3)

    @classmethod
    def fit(cls, raw: np.ndarray, dim: int = DEFAULT_DIM) -> "StyleSpace":
        if len(raw) == 0:
            return cls(dim, np.zeros(dim), np.ones(dim), np.zeros(N_FW), np.ones(N_FW))
        raw = raw.astype(np.float32)
        return cls(dim, raw[:, :dim].mean(axis=0), _spread(raw[:, :dim]), raw[:, dim:].mean(axis=0),
                   _spread(raw[:, dim:]))

    def embed(self, raw: np.ndarray) -> np.ndarray:
        """Raw account vectors (n, dim + N_FW) -> unit vectors of the same width."""
        raw = np.atleast_2d(raw).astype(np.float32)
        ng = (raw[:, : self.dim] - self.mean) / self.std
        fw = (raw[:, self.dim :] - self.fw_mean) / self.fw_std
        ng /= np.maximum(np.linalg.norm(ng, axis=1, keepdims=True), 1e-9)
        fw /= np.maximum(np.linalg.norm(fw, axis=1, keepdims=True), 1e-9)
        out = np.concatenate([ng, FW_WEIGHT * fw], axis=1)
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)
        return out

    def as_dict(self) -> dict[str, object]:
        return {"dim": self.dim, "mean": self.mean.tolist(), "fw_mean": self.fw_mean.tolist(),
                "fw_std": self.fw_std.tolist()}
