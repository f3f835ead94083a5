"""Evaluation: ROC-AUC, miss rate at 5% false alarms, precision / recall at the shipped threshold,
per data set and per language, on the held-out test split (and on obfuscated copies of it)."""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable, Sequence

import numpy as np


def roc_auc(y: np.ndarray, s: np.ndarray) -> float | None:
    """Mann-Whitney AUC with tied scores counted half; None when one class is missing."""
    y = np.asarray(y).astype(bool)
    s = np.asarray(s, dtype=np.float64)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    order = np.argsort(s, kind="mergesort")
    ss = s[order]
    ranks = np.empty(len(s), dtype=np.float64)
    # average ranks over ties
    _, first, counts = np.unique(ss, return_index=True, return_counts=True)
    avg = first + (counts - 1) / 2.0 + 1.0
    ranks[order] = np.repeat(avg, counts)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def miss_at_fa(y: np.ndarray, s: np.ndarray, fa: float = 0.05) -> float | None:
    """Share of positives scored at or below the threshold that lets `fa` of negatives through."""
    y = np.asarray(y).astype(bool)
    s = np.asarray(s, dtype=np.float64)
    if y.sum() == 0 or (~y).sum() == 0:
        return None
    neg = np.sort(s[~y])
    k = int(np.ceil((1 - fa) * len(neg))) - 1
    thr = neg[min(max(k, 0), len(neg) - 1)]
    return float((s[y] <= thr).mean())


def pr_at(y: np.ndarray, s: np.ndarray, thr: float) -> tuple[float | None, float | None]:
    y = np.asarray(y).astype(bool)
    pred = np.asarray(s) >= thr
    tp = int((pred & y).sum())
    prec = tp / int(pred.sum()) if pred.sum() else None
    rec = tp / int(y.sum()) if y.sum() else None
    return prec, rec


def summarize(y: np.ndarray, s: np.ndarray, thr: float) -> dict:
    y = np.asarray(y)
    p, r = pr_at(y, s, thr)
    out = {"n": int(len(y)), "pos": int(y.sum())}
    auc = roc_auc(y, s)
    if auc is not None:
        out["roc_auc"] = round(auc, 4)
        out["miss_at_5pct_fa"] = round(miss_at_fa(y, s), 4)
    if p is not None:
        out["precision"] = round(p, 4)
    if r is not None:
        out["recall"] = round(r, 4)
    if auc is None:  # one class only: say how often the threshold fires
        out["flagged_share"] = round(float((np.asarray(s) >= thr).mean()), 4)
    return out


def breakdown(y: Sequence[int], s: Sequence[float], keys: Iterable[str], thr: float) -> dict:
    """summarize() overall and per key (data set, language)."""
    y = np.asarray(y)
    s = np.asarray(s)
    keys = list(keys)
    groups: dict[str, list[int]] = defaultdict(list)
    for i, k in enumerate(keys):
        groups[k].append(i)
    out = {"all": summarize(y, s, thr)}
    for k in sorted(groups):
        ix = np.array(groups[k])
        out[k] = summarize(y[ix], s[ix], thr)
    return out
