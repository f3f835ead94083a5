"""Calibration: raw linear scores -> probabilities, fitted on a held-out calibration split.

Platt scaling (a logistic fit of p = sigmoid(a * z + b) on the calibration split's raw scores) is
used: two numbers per label, monotone by construction (a > 0 is enforced), and stable on small
calibration sets where isotonic regression overfits its steps. The probabilities are calibrated
to the class mix of the calibration split (see the model card): on a platform where threats are
far rarer, a given score still ranks the same, but the share of true threats above a threshold is
lower than the probability says.
"""

from __future__ import annotations

import numpy as np


def sigmoid(z: np.ndarray) -> np.ndarray:
    z = np.clip(z, -40.0, 40.0)
    return 1.0 / (1.0 + np.exp(-z))


def fit_platt(z: np.ndarray, y: np.ndarray, iters: int = 100) -> tuple[float, float]:
    """Newton's method on the log loss, with Platt's smoothed targets against overconfidence."""
    z = np.asarray(z, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n_pos, n_neg = y.sum(), len(y) - y.sum()
    if n_pos == 0 or n_neg == 0:
        return 1.0, 0.0
    t = np.where(y > 0, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))

    def loss(a: float, b: float) -> float:
        zz = a * z + b
        return float(np.sum(np.logaddexp(0.0, zz) - t * zz))

    a, b = 1.0, float(np.log((n_pos + 1) / (n_neg + 1)))
    f = loss(a, b)
    for _ in range(iters):
        p = sigmoid(a * z + b)
        g = p - t
        w = np.maximum(p * (1 - p), 1e-12)
        ga, gb = float(g @ z), float(g.sum())
        haa, hab, hbb = float(w @ (z * z)) + 1e-9, float(w @ z), float(w.sum()) + 1e-9
        det = haa * hbb - hab * hab
        if det <= 0:
            break
        da = (hbb * ga - hab * gb) / det
        db = (haa * gb - hab * ga) / det
        # Newton step, halved until the loss does not rise (a full step can overshoot when the
        # raw scores are large and the smoothed targets sit close to 0 and 1)
        step = 1.0
        while step > 1e-8:
            fn = loss(a - step * da, b - step * db)
            if fn <= f:
                break
            step *= 0.5
        else:
            break
        a, b, f = a - step * da, b - step * db, fn
        if abs(step * da) < 1e-10 and abs(step * db) < 1e-10:
            break
    if a <= 0:  # a model worse than chance on calibration data: refuse to invert it
        a = 1e-6
    return float(a), float(b)


def apply_platt(z: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """z: (n, k) raw scores, ab: (k, 2) -> (n, k) probabilities."""
    return sigmoid(z * ab[:, 0] + ab[:, 1])
