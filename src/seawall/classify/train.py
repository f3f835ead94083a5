"""Training: L2-regularised logistic regression on hashed n-grams, fitted with L-BFGS in numpy.

No scikit-learn or scipy: the design matrix stays in coordinate form (row, bucket, value) and the
two products the optimiser needs are `np.bincount` calls (X @ w over rows, X.T @ r over buckets).
On ~150k posts a label trains in a minute or two on one core.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import date
from typing import Callable, Sequence

import numpy as np

from seawall.classify.calibrate import apply_platt, fit_platt, sigmoid
from seawall.classify.datasets import LABELS, Row, assign_splits
from seawall.classify.features import Features, HashingFeaturizer
from seawall.classify.linear import LinearModel


# URLs in the readable normal form. The classifiers do not read them: link targets are the
# linkdomain and hashbank signals' business, and in the training data full "https://..." links
# are a collection artifact (the pro-ISIS tweets keep them, most negative sets do not), which a
# model trained with them learnt as "extremist" (0.92 for "the weather is lovely today https://...").
_URL_RE = re.compile(r"(?:https?|hxxps?)\s*:\s*/\s*/\S*|www\.\S+")


def classifier_skeleton(text: str, skel: str) -> str:
    """The skeleton the classifiers read: `skel` (the normalisation skeleton of the readable
    `text`), recomputed without the URLs when `text` holds any (cheap test first)."""
    if "/" not in text and "www" not in text:
        return skel
    stripped = _URL_RE.sub(" ", text)
    if stripped == text:
        return skel
    from seawall.normalize.text import skeleton

    return skeleton(stripped)


def normalize_skeletons(texts: Sequence[str]) -> list[str]:
    """Raw texts -> the skeletons the classifiers read (normalised, URLs left out)."""
    from seawall.normalize.text import normalize_text

    out = []
    for t in texts:
        nt = normalize_text(t)
        out.append(classifier_skeleton(nt.text, nt.skeleton))
    return out


def subset(f: Features, rows: np.ndarray) -> Features:
    """The features of the given rows, renumbered 0..len(rows)-1."""
    remap = np.full(f.n_docs, -1, dtype=np.int64)
    remap[rows] = np.arange(len(rows))
    keep = remap[f.doc] >= 0
    return Features(len(rows), remap[f.doc[keep]].astype(np.int32), f.idx[keep], f.val[keep])


def lbfgs(fg: Callable[[np.ndarray], tuple[float, np.ndarray]], x0: np.ndarray, max_iter: int = 200,
          m: int = 10, tol: float = 1e-6) -> np.ndarray:
    x = x0.copy()
    f, g = fg(x)
    S: list[np.ndarray] = []
    Y: list[np.ndarray] = []
    for it in range(max_iter):
        q = g.copy()
        alphas = []
        for s, y in zip(reversed(S), reversed(Y)):
            rho = 1.0 / float(y @ s)
            a = rho * float(s @ q)
            alphas.append((a, rho, s, y))
            q -= a * y
        if S:
            q *= float(S[-1] @ Y[-1]) / float(Y[-1] @ Y[-1])
        for a, rho, s, y in reversed(alphas):
            b = rho * float(y @ q)
            q += s * (a - b)
        d = -q
        gd = float(g @ d)
        if gd >= 0:  # not a descent direction: restart from the gradient
            S.clear(); Y.clear()
            d = -g
            gd = float(g @ d)
        step = 1.0 if S else 1.0 / max(1.0, float(np.linalg.norm(g)))
        while True:
            xn = x + step * d
            fn, gn = fg(xn)
            if fn <= f + 1e-4 * step * gd or step < 1e-10:
                break
            step *= 0.5
        s, y = xn - x, gn - g
        if float(s @ y) > 1e-12:
            S.append(s); Y.append(y)
            if len(S) > m:
                S.pop(0); Y.pop(0)
        rel = abs(f - fn) / max(abs(f), 1e-12)
        x, f, g = xn, fn, gn
        if rel < tol:
            break
    return x


def fit_logistic(f: Features, y: np.ndarray, sw: np.ndarray, n_buckets: int, l2: float,
                 max_iter: int = 200) -> tuple[np.ndarray, float]:
    sw = sw / sw.sum()
    doc, idx, val = f.doc, f.idx, f.val.astype(np.float64)

    def fg(x: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = x[:-1], x[-1]
        z = np.bincount(doc, weights=w[idx] * val, minlength=f.n_docs) + b
        # log(1 + e^z) - y z, stably
        loss = float(sw @ (np.logaddexp(0.0, z) - y * z)) + 0.5 * l2 * float(w @ w)
        r = sw * (sigmoid(z) - y)
        gw = np.bincount(idx, weights=r[doc] * val, minlength=n_buckets) + l2 * w
        return loss, np.concatenate([gw, [r.sum()]])

    x = lbfgs(fg, np.zeros(n_buckets + 1), max_iter=max_iter)
    return x[:-1], float(x[-1])


@dataclass
class Prepared:
    rows: list[Row]
    skeletons: list[str]
    features: Features
    dropped_duplicates: int


def prepare(rows: list[Row], featurizer: HashingFeaturizer, log: Callable[[str], None] = print) -> Prepared:
    """Split by group, normalise, drop calibration/test rows whose skeleton also occurs in training
    (retweets and copy-paste would otherwise leak), and featurise everything once."""
    assign_splits(rows)
    t = time.time()
    sk = normalize_skeletons([r.text for r in rows])
    log(f"normalised {len(rows)} texts in {time.time() - t:.1f}s")
    train_sk = {s for s, r in zip(sk, rows) if r.split == "train"}
    keep = [i for i, r in enumerate(rows) if r.split == "train" or sk[i] not in train_sk]
    dropped = len(rows) - len(keep)
    rows = [rows[i] for i in keep]
    sk = [sk[i] for i in keep]
    t = time.time()
    parts = []
    off = 0
    for i in range(0, len(sk), 4096):
        f = featurizer.transform(sk[i : i + 4096])
        parts.append((f.doc + off, f.idx, f.val))
        off += f.n_docs
    feats = Features(len(sk), np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]),
                     np.concatenate([p[2] for p in parts]))
    log(f"featurised in {time.time() - t:.1f}s: {len(feats.idx)} entries; dropped {dropped} leaked duplicates")
    return Prepared(rows, sk, feats, dropped)


def label_rows(rows: list[Row], label: str, split: str) -> np.ndarray:
    return np.array([i for i, r in enumerate(rows) if r.split == split and label in r.labels], dtype=np.int64)


# Per-label weight multipliers for the rows of some data sets. Threats: the YouTube sentences weigh 10x,
# so that the large Telegram / Gab sets do not decide alone what a threat looks like (measured on
# the non-test YouTube videos, 4-fold cross-validation by video: ROC-AUC 0.926 (1x) -> 0.932 (4x)
# -> 0.938 (10x), see the model card). Data sets not named weigh 1; user data is never re-weighted.
DATASET_WEIGHTS: dict[str, dict[str, float]] = {"threat": {"youtube": 10.0}}


def row_weights(rows: list[Row], tr: np.ndarray, lab: str, y: np.ndarray, pos_balance: float = 0.5,
                dataset_balance: float = 0.0, dataset_weights: dict[str, dict[str, float]] | None = None) -> np.ndarray:
    """Training weights of rows `tr` for one label (stage 1 and stage 2 use the same).

    Each data set weighs by its rows, times its `dataset_weights` multiplier, except that positives
    are up-weighted so that they carry `pos_balance` of the negatives' total weight (rare classes
    would be ignored otherwise)."""
    if dataset_weights is None:
        dataset_weights = DATASET_WEIGHTS
    sw = np.ones(len(tr))
    npos, nneg = y.sum(), len(y) - y.sum()
    if dataset_balance:
        # each data set's total weight ~ n_rows ** (1 - dataset_balance): 1 = all sets equal
        names = np.array([rows[i].dataset for i in tr])
        for ds in np.unique(names):
            m = names == ds
            sw[m] = m.sum() ** (-dataset_balance)
        sw *= len(sw) / sw.sum()
    mult = dataset_weights.get(lab, {})
    if mult:
        names = np.array([rows[i].dataset for i in tr])
        for ds, wt in mult.items():
            sw[names == ds] *= float(wt)
    if npos and nneg:
        sw[y > 0] *= max(1.0, pos_balance * sw[y == 0].sum() / sw[y > 0].sum())
    return sw


def train_first_stage(prep: Prepared, featurizer: HashingFeaturizer, labels: Sequence[str] = LABELS,
                      l2: float = 1e-6, max_iter: int = 250, pos_balance: float = 0.5,
                      dataset_balance: float = 0.0, dataset_weights: dict[str, dict[str, float]] | None = None,
                      log: Callable[[str], None] = print) -> LinearModel:
    rows = prep.rows
    if dataset_weights is None:
        dataset_weights = DATASET_WEIGHTS
    W = np.zeros((featurizer.n_buckets, len(labels)), dtype=np.float32)
    bias = np.zeros(len(labels))
    platt = np.tile([1.0, 0.0], (len(labels), 1))
    summary: dict = {}
    for j, lab in enumerate(labels):
        tr = label_rows(rows, lab, "train")
        if len(tr) == 0:
            log(f"{lab}: no training rows, skipped")
            continue
        y = np.array([rows[i].labels[lab] for i in tr], dtype=np.float64)
        npos = y.sum()
        sw = row_weights(rows, tr, lab, y, pos_balance, dataset_balance, dataset_weights)
        t = time.time()
        w, b = fit_logistic(subset(prep.features, tr), y, sw, featurizer.n_buckets, l2, max_iter)
        W[:, j] = w
        bias[j] = b
        ca = label_rows(rows, lab, "calib")
        yc = np.array([rows[i].labels[lab] for i in ca], dtype=np.float64)
        fc = subset(prep.features, ca)
        zc = np.bincount(fc.doc, weights=w[fc.idx] * fc.val, minlength=len(ca)) + b
        a, c = fit_platt(zc, yc)
        platt[j] = (a, c)
        summary[lab] = {"train_rows": int(len(tr)), "train_pos": int(npos), "calib_rows": int(len(ca)),
                        "calib_pos": int(yc.sum()), "seconds": round(time.time() - t, 1)}
        log(f"{lab}: trained on {len(tr)} rows ({int(npos)} positive) in {time.time() - t:.1f}s; platt a={a:.3f} b={c:.3f}")
    meta = {
        "version": f"hng-{date.today().isoformat()}",
        "trained": summary,
        "l2": l2,
        "pos_balance": pos_balance,
        "dataset_balance": dataset_balance,
        "dataset_weights": dataset_weights,
        "thresholds": {lab: 0.5 for lab in labels},
        "dropped_duplicates": prep.dropped_duplicates,
    }
    return LinearModel(featurizer, list(labels), W, bias, platt, meta)


def first_stage_scores(model: LinearModel, prep: Prepared) -> np.ndarray:
    """Calibrated scores (n_rows, k) for every prepared row."""
    z = model.raw(prep.features)
    return apply_platt(z, model.platt)
