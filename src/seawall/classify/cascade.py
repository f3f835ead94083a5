"""The cascade: a fast first stage on every post, a second stage on the posts it cannot decide.

Stage 1 (every post): hashed character and word n-grams of the normalisation skeleton, one
calibrated logistic regression per label (linear.py). ~20k posts/s per core with featurisation.

Stage 2 (only undecided posts, optional): a small word-level convolutional network (wordcnn.py,
`stage2.npz`) whose score is combined with the stage-1 score. A post goes to stage 2 when its
stage-1 probability for one of the head's labels lies in the band stored in the head's file, and
at most `max_share` of a batch goes (the posts closest to 0.5 first): the cap, not the stream,
bounds stage 2's cost, so the pipeline keeps its throughput whatever the stream looks like. When
the head file is absent or stage 2 is switched off, stage-1 scores stand.
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Sequence

import numpy as np

from seawall.classify.calibrate import apply_platt
from seawall.classify.linear import LinearModel
from seawall.classify.wordcnn import WordCNN

log = logging.getLogger(__name__)

FIRST_STAGE_FILE = "first_stage.npz"
SECOND_STAGE_FILE = "stage2.npz"
# Default share of each batch stage 2 may see: its cost measured by bench/classify.py
# (stage2_us_per_routed_post) times this share stays a few percent of the pipeline's time per post.
DEFAULT_MAX_SHARE = 0.5


def models_dir() -> Path:
    return Path(str(resources.files("seawall") / "data" / "models"))


@dataclass
class CascadeResult:
    scores: np.ndarray  # (n, k) calibrated probabilities
    stage: np.ndarray  # (n,) 1 or 2: which stage decided
    raw1: np.ndarray  # (n, k) stage-1 raw scores


class Cascade:
    def __init__(self, first: LinearModel, second: WordCNN | None = None, use_second: bool = True,
                 max_share: float = DEFAULT_MAX_SHARE):
        self.first = first
        self.second = second if (second is not None and use_second) else None
        self.max_share = max_share

    @property
    def labels(self) -> list[str]:
        return self.first.labels

    @property
    def version(self) -> str:
        v = self.first.version
        if self.second is not None:
            v += "+" + str(self.second.meta.get("version", "s2"))
        return v

    @classmethod
    def load(cls, directory: str | Path | None = None, use_second: bool = True,
             max_share: float = DEFAULT_MAX_SHARE) -> "Cascade":
        d = Path(directory) if directory else models_dir()
        first = LinearModel.load(d / FIRST_STAGE_FILE)
        second = None
        if use_second and (d / SECOND_STAGE_FILE).exists():
            second = WordCNN.load(d / SECOND_STAGE_FILE)
            fitted_to = second.meta.get("first_stage")
            if fitted_to != first.fingerprint():
                # its combiner weighs a different stage 1's scores: using it would be wrong
                log.warning("%s was fitted to another first_stage.npz (%s); stage 2 is off until it is "
                            "retrained (seawall train --second-stage)", d / SECOND_STAGE_FILE, fitted_to)
                second = None
        return cls(first, second, use_second, max_share)

    def undecided(self, p1: np.ndarray) -> np.ndarray:
        """Indices of the posts stage 2 should see: in the band, closest to 0.5 first, capped."""
        if self.second is None or len(p1) == 0:
            return np.zeros(0, dtype=np.int64)
        lo, hi = self.second.band
        p = p1[:, self._head_cols()]
        inband = ((p >= lo) & (p <= hi)).any(axis=1)
        cand = np.flatnonzero(inband)
        cap = int(math.ceil(self.max_share * len(p1))) if self.max_share < 1 else len(p1)
        if len(cand) > cap:
            dist = np.abs(p[cand] - 0.5).min(axis=1)
            cand = cand[np.argsort(dist, kind="stable")[:cap]]
        return np.sort(cand)

    def _head_cols(self) -> list[int]:
        """Stage-1 columns of the labels the stage-2 head scores."""
        assert self.second is not None
        return [self.labels.index(lab) for lab in self.second.labels if lab in self.labels]

    def score(self, skeletons: Sequence[str], texts: Sequence[str] | None = None, batch: int = 1024) -> CascadeResult:
        """Score posts given their normalisation skeletons. (`texts`, the readable forms, are
        accepted for callers that have them; both stages read the skeleton.)"""
        n = len(skeletons)
        k = len(self.labels)
        raw = np.empty((n, k))
        for i in range(0, n, batch):
            raw[i : i + batch] = self.first.raw(self.first.featurizer.transform(skeletons[i : i + batch]))
        p = apply_platt(raw, self.first.platt)
        stage = np.ones(n, dtype=np.int8)
        # Too little text to judge (emoji, punctuation, a bare link): the model would answer with
        # what its training sets' near-empty rows looked like (pro-ISIS tweets whose URLs were
        # removed), not with anything read in the post. Such posts are not scored (stage 0, p = 0).
        mute = np.fromiter((not judgeable(s) for s in skeletons), dtype=bool, count=n)
        p[mute] = 0.0
        stage[mute] = 0
        idx = self.undecided(p)
        idx = idx[~mute[idx]] if len(idx) else idx
        if len(idx):
            cols = self._head_cols()
            p2 = self.second.predict([skeletons[i] for i in idx], raw[np.ix_(idx, cols)])  # type: ignore[union-attr]
            p[np.ix_(idx, cols)] = p2
            stage[idx] = 2
        return CascadeResult(p, stage, raw)


MIN_TEXT_CHARS = 3


def judgeable(skeleton: str) -> bool:
    """At least MIN_TEXT_CHARS letters or digits: below that a post says nothing a text model can read."""
    count = 0
    for ch in skeleton:
        if ch.isalnum():
            count += 1
            if count >= MIN_TEXT_CHARS:
                return True
    return False


_cache: dict[tuple, Cascade] = {}
_cache_lock = threading.Lock()


def shared_cascade(directory: str | None = None, use_second: bool = True,
                   max_share: float = DEFAULT_MAX_SHARE) -> Cascade:
    """One loaded cascade per (directory, settings) per process: signals and CLI share the arrays."""
    key = (directory, use_second, max_share)
    with _cache_lock:
        if key not in _cache:
            _cache[key] = Cascade.load(directory, use_second, max_share)
        return _cache[key]
