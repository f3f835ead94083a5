"""The first-stage model: one hashed-n-gram logistic regression per label, plus calibration.

Stored as a plain `.npz` of arrays (no pickle; loads with `allow_pickle=False`):

    weights  (n_buckets, n_labels) float16   per-bucket weights
    bias     (n_labels,)           float32
    platt    (n_labels, 2)         float32   calibration: p = sigmoid(a * raw + b)
    meta     (n,)                  uint8     UTF-8 JSON: labels, featurizer config, version,
                                             thresholds, uncertainty band, training summary
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from seawall.classify.calibrate import apply_platt
from seawall.classify.features import Features, HashingFeaturizer, dot


def pack_meta(meta: dict) -> np.ndarray:
    return np.frombuffer(json.dumps(meta, sort_keys=True).encode("utf-8"), dtype=np.uint8)


def unpack_meta(arr: np.ndarray) -> dict:
    return json.loads(arr.tobytes().decode("utf-8"))


@dataclass
class LinearModel:
    featurizer: HashingFeaturizer
    labels: list[str]
    weights: np.ndarray  # (n_buckets, k) float32 in memory
    bias: np.ndarray  # (k,)
    platt: np.ndarray  # (k, 2)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def version(self) -> str:
        return str(self.meta.get("version", "0"))

    def fingerprint(self) -> str:
        """A digest of the stored weights: a stage-2 head records the stage 1 it was fitted to."""
        import hashlib

        h = hashlib.sha256(self.weights.astype(np.float16).tobytes())
        h.update(self.bias.astype(np.float32).tobytes())
        return h.hexdigest()[:16]

    def raw(self, f: Features) -> np.ndarray:
        return dot(f, self.weights) + self.bias

    def predict_features(self, f: Features) -> np.ndarray:
        return apply_platt(self.raw(f), self.platt)

    def predict(self, skeletons: Sequence[str], batch: int = 1024) -> np.ndarray:
        """Calibrated probabilities (n, k) for a list of normalisation skeletons."""
        out = np.empty((len(skeletons), len(self.labels)), dtype=np.float64)
        for i in range(0, len(skeletons), batch):
            out[i : i + batch] = self.predict_features(self.featurizer.transform(skeletons[i : i + batch]))
        return out

    def explain(self, skeleton: str, label: str, top: int = 5) -> list[dict]:
        """The n-grams of one text that push its `label` score up the most."""
        return self.explain_batch([skeleton], [label], top)[0]

    def explain_batch(self, skeletons: Sequence[str], labels: Sequence[str], top: int = 5) -> list[list[dict]]:
        """explain() for many (text, label) pairs with one featurisation pass."""
        if not skeletons:
            return []
        f = self.featurizer.transform(list(skeletons), keep_spans=True)
        cols = np.array([self.labels.index(lab) for lab in labels], dtype=np.int64)
        contrib = self.weights[f.idx, cols[f.doc]] * f.val
        pos = np.flatnonzero(contrib > 0)
        order = pos[np.lexsort((-contrib[pos], f.doc[pos]))]
        docs = f.doc[order]
        bounds = np.searchsorted(docs, np.arange(len(skeletons) + 1))
        out: list[list[dict]] = []
        for d in range(len(skeletons)):
            agg: dict[str, float] = {}
            for k in order[bounds[d] : min(bounds[d + 1], bounds[d] + top * 4)]:
                sp = f.span_text(int(k))
                if sp:
                    agg[sp] = agg.get(sp, 0.0) + float(contrib[k])
            # prefer the strongest n-grams, dropping those contained in a stronger one
            chosen: list[tuple[str, float]] = []
            for sp, c in sorted(agg.items(), key=lambda kv: -kv[1]):
                if any(sp in t for t, _ in chosen):
                    continue
                chosen.append((sp, c))
                if len(chosen) >= top:
                    break
            out.append([{"ngram": sp, "weight": round(c, 4)} for sp, c in chosen])
        return out

    def save(self, path: str | Path) -> None:
        meta = dict(self.meta)
        meta["labels"] = list(self.labels)
        meta["featurizer"] = self.featurizer.config()
        np.savez_compressed(
            path,
            weights=self.weights.astype(np.float16),
            bias=self.bias.astype(np.float32),
            platt=self.platt.astype(np.float32),
            meta=pack_meta(meta),
        )

    @classmethod
    def load(cls, path: str | Path) -> "LinearModel":
        with np.load(path, allow_pickle=False) as z:
            meta = unpack_meta(z["meta"])
            return cls(
                featurizer=HashingFeaturizer.from_config(meta["featurizer"]),
                labels=list(meta["labels"]),
                weights=z["weights"].astype(np.float32),
                bias=z["bias"].astype(np.float64),
                platt=z["platt"].astype(np.float64),
                meta=meta,
            )
