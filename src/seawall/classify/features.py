"""Hashed n-gram features, computed for a whole batch of texts at once with numpy.

Input is the normalisation *skeleton* of each post (seawall.normalize: NFKC, homoglyphs folded,
leetspeak undone, separators inside words removed, repeats squeezed, Arabic diacritics removed), so
that "k1ll", "k.i.l.l" and "kïll" give the same features as "kill" before any hashing happens.

Features of one text (padded with one space on each side, so that n-grams see word boundaries):

* character n-grams, n = 2..5 (over Unicode code points, not bytes: an Arabic letter is one unit);
* word unigrams and bigrams (words are the space-separated tokens of the skeleton).

Each n-gram is hashed with a polynomial rolling hash over the code points (mod 2^64) followed by
the murmur3 64-bit finaliser, salted with the n-gram kind; the low bits pick one of `2**bits`
buckets and the top bit a sign (+1/-1, as in Weinberger et al. 2009, so that collisions cancel
on average instead of adding up). The hash is fixed arithmetic, not Python's salted `hash()`, so
the same text gives the same vector in every process and on every machine.

Weighting: every occurrence of a character n-gram weighs 1/sqrt(number of character n-grams of
the text), and every word n-gram 1/sqrt(number of word n-grams of the text). This is the L2
normalisation of each block as if all its n-grams were distinct; it needs no per-text sort, which
keeps featurisation a handful of vectorised passes over the batch. Training and inference use the
same function, so the model is fitted to exactly this scaling.

Why vectorised: a per-post Python loop over ~500 n-grams costs ~100 us a post, which alone would use
the whole 10k posts/s budget. Here all texts of a batch are joined into one code-point array, the
prefix hashes are one cumulative sum, and every n-gram hash of every text is one array expression.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

MAX_CHARS = 2_000  # longer texts are cut: a post's meaning is in its first screens
_P = np.uint64(0x100000001B3)  # odd multiplier of the rolling hash
_P_INV = np.uint64(pow(0x100000001B3, -1, 2**64))
_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)
_GOLD = 0x9E3779B97F4A7C15
_SPACE = 32

_pow_cache: dict[str, np.ndarray] = {}


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """P**i and P**-i (mod 2**64) for i < n, cached and grown as needed."""
    have = _pow_cache.get("p")
    if have is None or len(have) < n:
        size = max(n, 1 << 16, 2 * (len(have) if have is not None else 0))
        with np.errstate(over="ignore"):
            p = np.full(size, _P, dtype=np.uint64)
            p[0] = 1
            pi = np.full(size, _P_INV, dtype=np.uint64)
            pi[0] = 1
            _pow_cache["p"] = np.cumprod(p, dtype=np.uint64)
            _pow_cache["pi"] = np.cumprod(pi, dtype=np.uint64)
    return _pow_cache["p"], _pow_cache["pi"]


def _fmix(h: np.ndarray) -> np.ndarray:
    h ^= h >> _S33
    h *= _M1
    h ^= h >> _S33
    h *= _M2
    h ^= h >> _S33
    return h


@dataclass(slots=True)
class Features:
    """A sparse batch in coordinate form: entry k adds `val[k]` to text `doc[k]`, bucket `idx[k]`.

    Duplicates are allowed (they add up). `start`/`end`/`kind` locate each entry in the joined
    code-point array `cps` and are only kept when asked for (for evidence)."""

    n_docs: int
    doc: np.ndarray  # int32
    idx: np.ndarray  # int32 bucket
    val: np.ndarray  # float32, signed
    cps: np.ndarray | None = None
    start: np.ndarray | None = None
    end: np.ndarray | None = None

    def span_text(self, k: int) -> str:
        assert self.cps is not None and self.start is not None and self.end is not None
        return "".join(map(chr, self.cps[self.start[k] : self.end[k]])).strip()


class HashingFeaturizer:
    """Texts (skeletons) -> hashed, signed, block-normalised n-gram counts. Stateless."""

    def __init__(self, bits: int = 19, char_ngrams: tuple[int, int] = (2, 5), word_ngrams: tuple[int, int] = (1, 2)):
        if not 10 <= bits <= 24:
            raise ValueError("bits must be in 10..24")
        self.bits = bits
        self.n_buckets = 1 << bits
        self.char_ngrams = tuple(char_ngrams)
        self.word_ngrams = tuple(word_ngrams)

    def config(self) -> dict:
        return {
            "kind": "hashed-ngrams-v1",
            "bits": self.bits,
            "char_ngrams": list(self.char_ngrams),
            "word_ngrams": list(self.word_ngrams),
            "max_chars": MAX_CHARS,
        }

    @classmethod
    def from_config(cls, cfg: dict) -> "HashingFeaturizer":
        if cfg.get("kind") != "hashed-ngrams-v1":
            raise ValueError(f"unknown featurizer kind {cfg.get('kind')!r}")
        return cls(int(cfg["bits"]), tuple(cfg["char_ngrams"]), tuple(cfg["word_ngrams"]))

    def transform(self, texts: Sequence[str], keep_spans: bool = False) -> Features:
        n_docs = len(texts)
        if n_docs == 0:
            e = np.zeros(0, np.int32)
            return Features(0, e, e, np.zeros(0, np.float32))
        # One array of code points: "\0 text1 \0 text2 \0 ..." (the NULs separate texts).
        joined = "\0 " + " \0 ".join(t[:MAX_CHARS].replace("\0", " ") for t in texts) + " \0"
        cps = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
        L = len(cps)
        sep = cps == 0
        docid = np.cumsum(sep, dtype=np.int32) - 1  # the separator before a text starts it
        p, pinv = _powers(L + 1)
        x = cps.astype(np.uint64) + np.uint64(1)
        with np.errstate(over="ignore"):
            # H[i] = sum_{j<i} x[j] * P^-j ; hash(l, r) = (H[r] - H[l]) * P^l
            H = np.zeros(L + 1, dtype=np.uint64)
            np.cumsum(x * pinv[:L], dtype=np.uint64, out=H[1:])

            docs_parts, idx_parts, w_parts, start_parts, end_parts, block_parts = [], [], [], [], [], []

            def add(l: np.ndarray, r: np.ndarray, salt: int, block: int) -> None:
                h = (H[r] - H[l]) * p[l]
                h ^= np.uint64((salt * _GOLD) & 0xFFFFFFFFFFFFFFFF)
                h = _fmix(h)
                docs_parts.append(docid[l])
                idx_parts.append((h & np.uint64(self.n_buckets - 1)).astype(np.int32))
                w_parts.append(np.where((h >> np.uint64(63)) == 1, -1.0, 1.0).astype(np.float32))
                block_parts.append(np.full(len(l), block, np.int8))
                if keep_spans:
                    start_parts.append(l)
                    end_parts.append(r)

            # character n-grams: no separator inside the window
            notsep = (~sep).astype(np.int32)
            csum = np.zeros(L + 1, dtype=np.int32)
            np.cumsum(notsep, out=csum[1:])
            lo, hi = self.char_ngrams
            for n in range(lo, hi + 1):
                if L < n:
                    continue
                l = np.arange(L - n + 1, dtype=np.int64)
                ok = (csum[l + n] - csum[l]) == n
                l = l[ok]
                add(l, l + n, 1000 + n, 0)

            # words: maximal runs of non-space, non-separator code points
            wordch = (cps != _SPACE) & ~sep
            prev = np.concatenate(([False], wordch[:-1]))
            nxt = np.concatenate((wordch[1:], [False]))
            ws = np.flatnonzero(wordch & ~prev)
            we = np.flatnonzero(wordch & ~nxt) + 1
            wdoc = docid[ws]
            wlo, whi = self.word_ngrams
            for n in range(wlo, whi + 1):
                if len(ws) < n:
                    continue
                l = ws[: len(ws) - n + 1]
                r = we[n - 1 :]
                ok = wdoc[: len(ws) - n + 1] == wdoc[n - 1 :]
                add(l[ok].astype(np.int64), r[ok].astype(np.int64), 2000 + n, 1)

        if not docs_parts:  # no n-gram at all (e.g. only empty texts and a word-only featurizer)
            e = np.zeros(0, np.int32)
            return Features(n_docs, e, e, np.zeros(0, np.float32))
        doc = np.concatenate(docs_parts)
        idx = np.concatenate(idx_parts)
        sign = np.concatenate(w_parts)
        block = np.concatenate(block_parts)
        # block-wise 1/sqrt(count) weights
        counts = np.bincount(doc * 2 + block, minlength=2 * n_docs).astype(np.float32)
        scale = np.zeros_like(counts)
        nz = counts > 0
        scale[nz] = 1.0 / np.sqrt(counts[nz])
        val = sign * scale[doc * 2 + block]
        f = Features(n_docs, doc.astype(np.int32), idx, val.astype(np.float32))
        if keep_spans:
            f.cps = cps
            f.start = np.concatenate(start_parts)
            f.end = np.concatenate(end_parts)
        return f


def dot(f: Features, weights: np.ndarray) -> np.ndarray:
    """Scores X @ W for a batch: weights is (n_buckets,) or (n_buckets, k); returns (n_docs[, k])."""
    if weights.ndim == 1:
        return np.bincount(f.doc, weights=weights[f.idx] * f.val, minlength=f.n_docs)
    out = np.empty((f.n_docs, weights.shape[1]), dtype=np.float64)
    g = weights[f.idx]
    for j in range(weights.shape[1]):
        out[:, j] = np.bincount(f.doc, weights=g[:, j] * f.val, minlength=f.n_docs)
    return out
