"""Stage 2: a small word-level convolutional network, run with numpy on the posts stage 1 cannot decide.

Why this network: stage 1 sees a bag of n-grams, so it cannot tell "they will be killed" said as a
wish from the same words in a report, and it has no notion of which words play the same part
("shoot", "hang", "stab" only share weights when they share characters). The network reads the
post's words in order: each word (of the normalisation skeleton, hashed into `2**bits` buckets)
gets a learnt vector, a width-3 convolution looks at every window of three words, and the
strongest response of each filter over the post (max-pooling) feeds one output unit. It is trained
here with PyTorch (`seawall.classify.stage2`, training only); the file holds plain arrays and
inference below needs numpy only.

The network's score is not used alone: on a routed post, the probability is
`sigmoid(a * raw1 + b * raw2 + c)`, where raw1 is the stage-1 raw score and raw2 the network's,
and (a, b, c) are fitted on the calibration split (which neither model was trained on). So stage 2
refines stage 1 where it is unsure instead of replacing it.

File (`stage2.npz`, loaded with `allow_pickle=False`):

    emb      (2**bits + 1, dim) float16   word vectors; row 0 is padding (zeros)
    conv_w   (filters, dim, width) float32
    conv_b   (filters,)            float32
    out_w    (k, filters)          float32   one output unit per label
    out_b    (k,)                  float32
    combine  (k, 3)                float32   (a, b, c) per label, see above
    meta     UTF-8 JSON: labels, bits, max_words, band, version, training summary
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from seawall.classify.calibrate import sigmoid
from seawall.classify.features import HashingFeaturizer
from seawall.classify.linear import pack_meta, unpack_meta

KIND = "word-cnn-v1"


def word_featurizer(bits: int) -> HashingFeaturizer:
    """Word unigrams only (the char n-gram range 2..1 is empty), in text order."""
    return HashingFeaturizer(bits=bits, char_ngrams=(2, 1), word_ngrams=(1, 1))


def word_ids(skeletons: Sequence[str], bits: int, max_words: int) -> tuple[np.ndarray, np.ndarray]:
    """(ids, starts): the first `max_words` word buckets of each text, shifted by one (0 = padding),
    concatenated; text d's words are ids[starts[d]:starts[d + 1]]."""
    f = word_featurizer(bits).transform(list(skeletons))
    doc = f.doc.astype(np.int64)
    n = len(skeletons)
    first = np.searchsorted(doc, np.arange(n + 1))
    pos = np.arange(len(doc)) - first[doc]  # position of each word within its text
    keep = pos < max_words
    doc, ids = doc[keep], f.idx[keep].astype(np.int64) + 1
    return ids, np.searchsorted(doc, np.arange(n + 1))


@dataclass
class WordCNN:
    labels: list[str]
    emb: np.ndarray  # (V + 1, dim)
    conv_w: np.ndarray  # (filters, dim, width)
    conv_b: np.ndarray
    out_w: np.ndarray  # (k, filters)
    out_b: np.ndarray  # (k,)
    combine: np.ndarray  # (k, 3)
    meta: dict = field(default_factory=dict)

    @property
    def bits(self) -> int:
        return int(self.meta["bits"])

    @property
    def max_words(self) -> int:
        return int(self.meta.get("max_words", 64))

    @property
    def band(self) -> tuple[float, float]:
        lo, hi = self.meta.get("band", [0.2, 0.8])
        return float(lo), float(hi)

    def _projected(self) -> np.ndarray:
        """(width, V + 1, filters): each word's contribution to each filter at each tap, computed
        once. The convolution is then sums of table look-ups: no BLAS call per batch, which
        matters because a multi-threaded BLAS spinning beside the pipeline's other threads on 2
        cores measured ~30% off the pipeline's throughput (25 MB per process for the table)."""
        proj = getattr(self, "_proj", None)
        if proj is None:
            proj = np.stack([self.emb @ self.conv_w[:, :, t].T for t in range(self.conv_w.shape[2])])
            proj[:, 0] = 0.0  # padding contributes nothing
            self._proj = proj = np.ascontiguousarray(proj, dtype=np.float32)
        return proj

    def raw(self, skeletons: Sequence[str]) -> np.ndarray:
        """The network's raw scores (n, k)."""
        n = len(skeletons)
        k = len(self.labels)
        if n == 0:
            return np.zeros((0, k))
        ids, starts = word_ids(skeletons, self.bits, self.max_words)
        proj = self._projected()
        width, _, filters = proj.shape
        half = width // 2
        doc = np.repeat(np.arange(n), np.diff(starts))
        h = proj[half][ids] + self.conv_b
        for t in range(width):
            off = t - half  # this tap reads the word `off` positions away; padding across text borders
            if off == 0:
                continue
            src = np.arange(len(ids)) + off
            ok = (src >= 0) & (src < len(ids))
            ok[ok] = doc[src[ok]] == doc[ok]
            shifted = np.zeros(len(ids), dtype=np.int64)
            shifted[ok] = ids[src[ok]]
            h += proj[t][shifted]
        np.maximum(h, 0.0, out=h)
        pooled = np.zeros((n, filters), dtype=np.float32)  # a text without words pools to zeros
        has = np.diff(starts) > 0
        if has.any():
            pooled[has] = np.maximum.reduceat(h, starts[:-1][has], axis=0)
        # elementwise products, not a matrix product: keeps BLAS out of the serving path
        return (pooled[:, None, :].astype(np.float64) * self.out_w[None, :, :]).sum(axis=2) + self.out_b

    def predict(self, skeletons: Sequence[str], raw1: np.ndarray) -> np.ndarray:
        """Probabilities (n, k) from the network's score and stage 1's raw scores (n, k) of the
        same labels."""
        z2 = self.raw(skeletons)
        c = self.combine
        return sigmoid(c[:, 0] * raw1 + c[:, 1] * z2 + c[:, 2])

    def save(self, path: str | Path) -> None:
        meta = dict(self.meta, labels=list(self.labels), kind=KIND)
        np.savez_compressed(path, emb=self.emb.astype(np.float16), conv_w=self.conv_w.astype(np.float32),
                            conv_b=self.conv_b.astype(np.float32), out_w=self.out_w.astype(np.float32),
                            out_b=self.out_b.astype(np.float32), combine=self.combine.astype(np.float32),
                            meta=pack_meta(meta))

    @classmethod
    def load(cls, path: str | Path) -> "WordCNN":
        with np.load(path, allow_pickle=False) as z:
            meta = unpack_meta(z["meta"])
            if meta.get("kind") != KIND:
                raise ValueError(f"{path}: stage-2 file kind {meta.get('kind')!r}, expected {KIND!r}")
            return cls(list(meta["labels"]), z["emb"].astype(np.float32), z["conv_w"].astype(np.float32),
                       z["conv_b"].astype(np.float32), z["out_w"].astype(np.float32),
                       z["out_b"].astype(np.float64), z["combine"].astype(np.float64), meta)
