"""Feature hashing: stable across processes, robust to obfuscation once normalised."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from seawall.classify.features import HashingFeaturizer, dot
from seawall.classify.train import normalize_skeletons

TEXTS = ["i will kill you tomorrow", "اقتلهم جميعا", "nice weather today", ""]


def _dense(f, n_buckets):
    m = np.zeros((f.n_docs, n_buckets))
    np.add.at(m, (f.doc, f.idx), f.val)
    return m


def _digest(texts):
    f = HashingFeaturizer(bits=16).transform(texts)
    return [int(x) for x in f.idx[:50]], float(np.round(f.val.sum(), 5)), len(f.idx)


def test_hashing_is_stable_across_processes():
    code = (
        "from seawall.classify.features import HashingFeaturizer; import numpy as np;"
        f"f=HashingFeaturizer(bits=16).transform({TEXTS!r});"
        "print([int(x) for x in f.idx[:50]], float(np.round(f.val.sum(),5)), len(f.idx))"
    )
    outs = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                       env={"PYTHONHASHSEED": str(seed)}).stdout.strip()
        for seed in (1, 2)
    }
    idx, s, n = _digest(TEXTS)
    assert outs == {f"{idx} {s} {n}"}
    assert n > 0


def test_batch_independent_and_normalised():
    fz = HashingFeaturizer(bits=16)
    a = _dense(fz.transform(TEXTS), fz.n_buckets)
    b = np.vstack([_dense(fz.transform([t]), fz.n_buckets) for t in TEXTS])
    assert np.allclose(a, b)
    assert np.count_nonzero(a[3]) <= 1  # empty text: at most the "  " padding bigram
    # each block is scaled by 1/sqrt(count): squared norm 1 per block when no n-gram repeats
    # (2 for a text with words), a little more when some do
    n2 = (a**2).sum(axis=1)
    assert np.all((n2[:3] >= 1.99) & (n2[:3] < 3.0))


def test_obfuscated_text_is_close_to_plain():
    fz = HashingFeaturizer(bits=18)
    plain, obf, other = normalize_skeletons(["I will kill you", "I w1ll k.i.l.l y0u", "Lovely garden party"])
    m = _dense(fz.transform([plain, obf, other]), fz.n_buckets)
    cos = lambda x, y: float(x @ y / np.linalg.norm(x) / np.linalg.norm(y))
    assert cos(m[0], m[1]) > 0.95
    assert cos(m[0], m[2]) < 0.3


def test_dot_matches_dense():
    fz = HashingFeaturizer(bits=12)
    f = fz.transform(TEXTS)
    W = np.random.default_rng(0).normal(size=(fz.n_buckets, 2))
    assert np.allclose(dot(f, W), _dense(f, fz.n_buckets) @ W)
    assert np.allclose(dot(f, W[:, 0]), _dense(f, fz.n_buckets) @ W[:, 0])


def test_spans_name_the_ngrams():
    f = HashingFeaturizer(bits=12).transform(["kill them"], keep_spans=True)
    spans = {f.span_text(k) for k in range(len(f.idx))}
    assert {"kill", "them", "kill them", "ki"} <= spans
