"""Inverted indexes for the linker: string keys -> account numbers, and style vectors.

`PostingIndex` collects (key, account) pairs in compact arrays and freezes them into CSR form (one
sorted int32 array of accounts, offsets per key); accounts added after freezing (suspended during a
run) go to a small dict that is merged into every lookup, so the large part is never rebuilt.

`VectorIndex` holds unit style vectors (int8 with one scale per row: a quarter of float32, and
numpy widens int8 much faster than float16) and finds the most similar ones by inner product:
by brute force while small, by an inverted-file (IVF) quantiser once large: k-means centroids, each
vector filed under its nearest centroid, and a query scanning only the lists of its `nprobe`
nearest centroids.
"""

from __future__ import annotations

from array import array

import numpy as np


class PostingIndex:
    def __init__(self) -> None:
        self._codes: dict[str, int] = {}
        self._pair_code = array("i")
        self._pair_id = array("i")
        self._offsets: np.ndarray | None = None
        self._ids = np.zeros(0, np.int32)
        self._delta: dict[int, list[int]] = {}

    def _code(self, key: str) -> int:
        c = self._codes.get(key)
        if c is None:
            c = self._codes[key] = len(self._codes)
        return c

    def add(self, key: str, account: int) -> None:
        c = self._code(key)
        if self._offsets is None:
            self._pair_code.append(c)
            self._pair_id.append(account)
        else:
            self._delta.setdefault(c, []).append(account)

    def freeze(self) -> None:
        """Sort the pairs collected so far into CSR form (and fold in any later additions)."""
        codes = np.frombuffer(self._pair_code, dtype=np.int32) if len(self._pair_code) else np.zeros(0, np.int32)
        ids = np.frombuffer(self._pair_id, dtype=np.int32) if len(self._pair_id) else np.zeros(0, np.int32)
        if self._offsets is not None:  # re-freeze: start from the current CSR plus the delta
            old_codes = np.repeat(np.arange(len(self._offsets) - 1, dtype=np.int32), np.diff(self._offsets))
            extra_c = [c for c, lst in self._delta.items() for _ in lst]
            extra_i = [i for lst in self._delta.values() for i in lst]
            codes = np.concatenate([old_codes, np.asarray(extra_c, np.int32)])
            ids = np.concatenate([self._ids, np.asarray(extra_i, np.int32)])
        order = np.lexsort((ids, codes))
        codes, ids = codes[order], ids[order]
        n = len(self._codes)
        self._offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(codes, minlength=n), out=self._offsets[1:])
        self._ids = np.ascontiguousarray(ids, dtype=np.int32)
        self._pair_code, self._pair_id, self._delta = array("i"), array("i"), {}

    def get(self, key: str) -> np.ndarray:
        c = self._codes.get(key)
        if c is None:
            return _EMPTY
        parts = []
        if self._offsets is not None and c < len(self._offsets) - 1:
            parts.append(self._ids[self._offsets[c] : self._offsets[c + 1]])
        elif self._offsets is None:  # not frozen yet: a scan (only small indexes, in tests)
            codes = np.frombuffer(self._pair_code, dtype=np.int32)
            parts.append(np.frombuffer(self._pair_id, dtype=np.int32)[codes == c])
        extra = self._delta.get(c)
        if extra:
            parts.append(np.asarray(extra, np.int32))
        if not parts:
            return _EMPTY
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def df(self, key: str) -> int:
        return len(self.get(key))

    def nbytes(self) -> int:
        off = self._offsets.nbytes if self._offsets is not None else 0
        return off + self._ids.nbytes + len(self._pair_code) * 8


_EMPTY = np.zeros(0, np.int32)


class VectorIndex:
    """Unit vectors (rows) searched by inner product; ids are row numbers, in insertion order."""

    def __init__(self, width: int, nlist: int = 1024, nprobe: int = 24, ivf_from: int = 50_000):
        self.width = width
        self.nlist = nlist
        self.nprobe = nprobe
        self.ivf_from = ivf_from
        self._rows = np.zeros((0, width), np.int8)
        self._scale = np.zeros(0, np.float32)
        self._owner = np.zeros(0, np.int32)  # row -> account number
        self._n = 0
        self._centroids: np.ndarray | None = None
        self._list_offsets: np.ndarray | None = None
        self._list_rows: np.ndarray | None = None
        self._indexed = 0  # rows filed in the IVF lists; later rows are scanned directly

    def __len__(self) -> int:
        return self._n

    def add(self, vectors: np.ndarray, owners: np.ndarray) -> None:
        vectors = np.atleast_2d(vectors).astype(np.float32)
        k = len(vectors)
        if self._n + k > len(self._rows):
            cap = max(self._n + k, int(len(self._rows) * 1.5) + 1024)
            rows = np.zeros((cap, self.width), np.int8)
            rows[: self._n] = self._rows[: self._n]
            scale = np.zeros(cap, np.float32)
            scale[: self._n] = self._scale[: self._n]
            owner = np.zeros(cap, np.int32)
            owner[: self._n] = self._owner[: self._n]
            self._rows, self._scale, self._owner = rows, scale, owner
        peak = np.maximum(np.abs(vectors).max(axis=1), 1e-9)
        self._rows[self._n : self._n + k] = np.rint(vectors / peak[:, None] * 127).astype(np.int8)
        self._scale[self._n : self._n + k] = peak / 127
        self._owner[self._n : self._n + k] = np.asarray(owners, np.int32)
        self._n += k

    def build(self, seed: int = 0, iterations: int = 6, sample: int = 100_000) -> None:
        """Train the IVF quantiser when there are enough rows (otherwise searches are exhaustive)."""
        n = self._n
        if n < self.ivf_from:
            self._centroids = None
            self._indexed = 0
            return
        rng = np.random.default_rng(seed)
        data = self._rows[:n]
        pick = rng.choice(n, size=min(sample, n), replace=False)
        train = data[pick].astype(np.float32) * self._scale[pick, None]
        cent = train[rng.choice(len(train), size=self.nlist, replace=False)].copy()
        for _ in range(iterations):
            assign = np.argmax(train @ cent.T, axis=1)
            sums = np.zeros_like(cent)
            np.add.at(sums, assign, train)
            counts = np.bincount(assign, minlength=self.nlist)[:, None]
            cent = np.where(counts > 0, sums / np.maximum(counts, 1), cent)
            cent /= np.maximum(np.linalg.norm(cent, axis=1, keepdims=True), 1e-9)
        assign = np.empty(n, np.int32)
        for lo in range(0, n, 65536):
            assign[lo : lo + 65536] = np.argmax(data[lo : lo + 65536].astype(np.float32) @ cent.T, axis=1)
        order = np.argsort(assign, kind="stable").astype(np.int32)
        self._list_offsets = np.zeros(self.nlist + 1, np.int64)
        np.cumsum(np.bincount(assign, minlength=self.nlist), out=self._list_offsets[1:])
        self._list_rows = order
        self._centroids = cent.astype(np.float32)
        self._indexed = n

    def search(self, q: np.ndarray, k: int = 50) -> tuple[np.ndarray, np.ndarray]:
        """(account numbers, similarities) of the k most similar rows, best first (an account with
        several rows keeps its best)."""
        q = np.asarray(q, np.float32).reshape(-1)
        if self._n == 0:
            return _EMPTY, np.zeros(0, np.float32)
        if self._centroids is None:  # exhaustive: a slice, no gather
            sims = (self._rows[: self._n].astype(np.float32) @ q) * self._scale[: self._n]
            return self._top(sims, self._owner[: self._n], k)
        else:
            near = np.argpartition(-(self._centroids @ q), min(self.nprobe, self.nlist - 1))[: self.nprobe]
            assert self._list_offsets is not None and self._list_rows is not None
            parts = [self._list_rows[self._list_offsets[c] : self._list_offsets[c + 1]] for c in near]
            parts.append(np.arange(self._indexed, self._n, dtype=np.int32))
            rows = np.concatenate(parts).astype(np.int64)
        sims = (self._rows[rows].astype(np.float32) @ q) * self._scale[rows]
        return self._top(sims, self._owner[rows], k)

    @staticmethod
    def _top(sims: np.ndarray, owners: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        top = min(len(sims), k * 2)
        pick = np.argpartition(-sims, top - 1)[:top] if top < len(sims) else np.arange(len(sims))
        pick = pick[np.argsort(-sims[pick], kind="stable")]
        seen: set[int] = set()
        out_o, out_s = [], []
        for j in pick:
            o = int(owners[j])
            if o not in seen:
                seen.add(o)
                out_o.append(o)
                out_s.append(float(sims[j]))
                if len(out_o) == k:
                    break
        return np.asarray(out_o, np.int32), np.asarray(out_s, np.float32)

    def vector_of(self, account: int) -> np.ndarray | None:
        rows = np.flatnonzero(self._owner[: self._n] == account)
        return self.row(int(rows[-1])) if len(rows) else None

    def row(self, r: int) -> np.ndarray:
        return self._rows[r].astype(np.float32) * self._scale[r]

    def nbytes(self) -> int:
        extra = 0 if self._list_rows is None else self._list_rows.nbytes + self._centroids.nbytes  # type: ignore[union-attr]
        return self._rows.nbytes + self._scale.nbytes + self._owner.nbytes + extra
