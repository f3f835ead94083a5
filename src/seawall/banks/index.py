"""An exact Hamming-radius index for 256-bit PDQ hashes.

Design (see docs/hash-matching.md for the reasoning and the figures):

* Multi-index hashing. The 256 bits are cut into ``m`` = 11 substrings (three of 24 bits, eight of
  23). If two hashes differ in at most T bits, then for radii r_i with sum(r_i + 1) > T at least one
  substring i differs in at most r_i bits (pigeonhole). For T = 31 and m = 11, ten substrings are
  probed at radius 2 and one at radius 1, so every hash within 31 bits is found: the index is exact.
* Each substring has a posting list in CSR form: ``order`` (entry numbers sorted by substring value,
  int32) and ``offsets`` (a direct-address table of 2^w + 1 positions). A probe is two reads.
* Candidates are verified on the 4 x uint64 form of the hashes with a vectorised popcount
  (``np.bitwise_count``); everything works on batches of queries at once.
* Additions go to small segments (brute force while tiny, their own small multi-index otherwise)
  so that adding never rebuilds the large segment; ``compact()`` merges them, in the background if
  asked. Ids are global and stable across compaction.
* A per-entry ``alive`` bitmap: ``disable(ids)`` takes effect for the very next query.
"""

from __future__ import annotations

import itertools
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

BITS = 256
DEFAULT_THRESHOLD = 31
# Substring widths: 3 x 24 + 8 x 23 = 256 bits.
DEFAULT_WIDTHS = (24, 24, 24, 23, 23, 23, 23, 23, 23, 23, 23)
# Below this many entries a segment is scanned by brute force (cheaper than probing).
FLAT_MAX = 4096
_QUERY_BLOCK = 128
# A substring gets a direct-address table once the segment has at least 2^(width - 4) entries
# (the table is then at most 16 times its posting list); smaller segments use binary search.
DIRECT_RATIO = 4  # queries processed together; bounds the temporary arrays


def _popcount_rows(x: np.ndarray) -> np.ndarray:
    # summing the four columns explicitly is several times faster than .sum(axis=-1) on 4 items
    b = np.bitwise_count(x)
    return b[..., 0].astype(np.int32) + b[..., 1] + b[..., 2] + b[..., 3]


# -- conversions --------------------------------------------------------------------------------
def hex_to_words(hexes: Sequence[str] | Iterable[str]) -> np.ndarray:
    """Hex PDQ strings (64 hex digits each) to an (n, 4) uint64 array; raises ValueError on bad input."""
    items = hexes if isinstance(hexes, (list, tuple)) else list(hexes)
    if not items:
        return np.zeros((0, 4), dtype=np.uint64)
    joined = "".join(items)
    if len(joined) != 64 * len(items):
        bad = next(i for i, h in enumerate(items) if len(h) != 64)
        raise ValueError(f"PDQ hash #{bad} is not 64 hex digits: {items[bad]!r}")
    raw = np.frombuffer(bytes.fromhex(joined), dtype=">u8")
    return raw.astype(np.uint64).reshape(-1, 4)


def bytes_to_words(raw: np.ndarray) -> np.ndarray:
    """(n, 32) uint8 hashes (hex byte order) to (n, 4) uint64."""
    raw = np.ascontiguousarray(raw, dtype=np.uint8).reshape(-1, 32)
    return raw.view(">u8").astype(np.uint64).reshape(-1, 4)


def words_to_hex(words: np.ndarray) -> list[str]:
    words = np.asarray(words, dtype=np.uint64).reshape(-1, 4)
    raw = words.astype(">u8").tobytes().hex()
    return [raw[i : i + 64] for i in range(0, len(raw), 64)]


def to_words(hashes: np.ndarray | Sequence[str] | str) -> np.ndarray:
    if isinstance(hashes, str):
        return hex_to_words([hashes])
    if isinstance(hashes, np.ndarray):
        if hashes.dtype == np.uint64:
            return np.ascontiguousarray(hashes.reshape(-1, 4))
        if hashes.dtype == np.uint8:
            return bytes_to_words(hashes)
        raise TypeError(f"unsupported hash array dtype {hashes.dtype}")
    return hex_to_words(list(hashes))


# -- the plan: which substrings, probed at which radius -----------------------------------------
@dataclass(frozen=True)
class _Chunk:
    start: int
    width: int
    radius: int
    masks: np.ndarray  # uint32 XOR masks of every flip pattern of at most `radius` bits


def _plan(threshold: int, widths: Sequence[int]) -> list[_Chunk]:
    if sum(widths) != BITS:
        raise ValueError("substring widths must add up to 256")
    m = len(widths)
    need = threshold + 1  # sum(r_i + 1) must reach this
    base, extra = divmod(need, m)
    # the widest substrings get the smaller radius: their buckets are the emptiest already
    by_width = sorted(range(m), key=lambda i: widths[i])
    radius = [base - 1] * m
    for i in by_width[:extra]:
        radius[i] += 1
    chunks = []
    start = 0
    for i, w in enumerate(widths):
        r = radius[i]
        masks = [0]
        for k in range(1, max(r, 0) + 1):
            for bits in itertools.combinations(range(w), k):
                masks.append(sum(1 << b for b in bits))
        chunks.append(_Chunk(start, w, r, np.array(masks, dtype=np.uint32)))
        start += w
    return chunks


def _extract(words: np.ndarray, start: int, width: int) -> np.ndarray:
    """Bits [start, start+width) of each 256-bit row (bit b = bit b%64 of word b//64) as uint32."""
    w, off = divmod(start, 64)
    val = words[:, w] >> np.uint64(off)
    if off + width > 64:
        val = val | (words[:, w + 1] << np.uint64(64 - off))
    return (val & np.uint64((1 << width) - 1)).astype(np.uint32)


def _extract_cols(cols: np.ndarray, start: int, width: int) -> np.ndarray:
    """As _extract, on the (4, n) column-major form."""
    w, off = divmod(start, 64)
    val = cols[w] >> np.uint64(off)
    if off + width > 64:
        val = val | (cols[w + 1] << np.uint64(64 - off))
    return (val & np.uint64((1 << width) - 1)).astype(np.uint32)


# -- segments -----------------------------------------------------------------------------------
class _Segment:
    """An immutable run of entries with global ids [base, base + n)."""

    def __init__(self, words: np.ndarray, base: int, plan: list[_Chunk] | None, workers: int = 2):
        self.words = words
        self.base = base
        self.n = len(words)
        self.tables: list[tuple[np.ndarray, np.ndarray]] | None = None
        if plan is not None and self.n > FLAT_MAX:
            self.tables = self._build(plan, workers)

    def _build(self, plan: list[_Chunk], workers: int) -> list[tuple[np.ndarray, np.ndarray]]:
        n = self.n
        idx_dtype = np.int32 if n < 2**31 else np.int64
        ids = np.arange(n, dtype=np.uint64)
        # column-major copy for the build: each substring then reads one or two contiguous columns
        cols = np.ascontiguousarray(self.words.T)

        def one(ch: _Chunk) -> tuple[np.ndarray, np.ndarray]:
            if ch.radius < 0:
                return (np.zeros(0, idx_dtype), np.zeros(0, idx_dtype))
            keys = _extract_cols(cols, ch.start, ch.width)
            # sort (key, id) pairs packed in one uint64: faster than argsort on this machine
            packed = (keys.astype(np.uint64) << np.uint64(32)) | ids
            packed.sort()
            order = packed.astype(np.uint32).view(np.int32) if idx_dtype == np.int32 else (
                packed & np.uint64(0xFFFFFFFF)).astype(idx_dtype)
            if n >= (1 << ch.width) >> DIRECT_RATIO:
                # dense: a direct-address table of bucket offsets, one read per probe
                counts = np.bincount(keys, minlength=1 << ch.width)
                offsets = np.zeros((1 << ch.width) + 1, dtype=idx_dtype)
                np.cumsum(counts, out=offsets[1:])
                return offsets, order
            # sparse (small segments): the sorted keys, probed by binary search
            return (packed >> np.uint64(32)).astype(np.uint32), order

        if workers > 1 and n > 200_000:
            with ThreadPoolExecutor(workers) as pool:  # numpy sorts release the GIL
                return list(pool.map(one, plan))
        return [one(ch) for ch in plan]

    def nbytes(self) -> int:
        total = self.words.nbytes
        for off, order in self.tables or ():
            total += off.nbytes + order.nbytes
        return total

    def search(self, q: np.ndarray, qkeys: list[np.ndarray], plan: list[_Chunk], threshold: int):
        """Matches of the query block q (k, 4) in this segment: (query row, local id, distance)."""
        if self.tables is None:
            # brute force: k x n distances
            d = _popcount_rows(q[:, None, :] ^ self.words[None, :, :])
            qi, li = np.nonzero(d <= threshold)
            return qi, li, d[qi, li]
        k = len(q)
        qi_all, li_all, d_all = [], [], []
        for ch, keys, (offsets, order) in zip(plan, qkeys, self.tables):
            if ch.radius < 0:
                continue
            probes = (keys[:, None] ^ ch.masks[None, :]).ravel()
            if len(offsets) == (1 << ch.width) + 1:
                s = offsets.take(probes)
                c = offsets.take(probes + 1) - s
            else:  # sparse: `offsets` holds the sorted keys
                s = np.searchsorted(offsets, probes, "left")
                c = np.searchsorted(offsets, probes, "right") - s
            total = int(c.sum())
            if total == 0:
                continue
            # expand every (start, count) range into candidate positions
            ends = np.cumsum(c)
            pos = np.arange(total, dtype=s.dtype) + np.repeat(s - (ends - c), c)
            cand = order.take(pos)
            per_query = c.reshape(k, len(ch.masks)).sum(axis=1)
            cq = np.repeat(np.arange(k, dtype=np.int32), per_query)
            d = _popcount_rows(np.take(self.words, cand, axis=0) ^ np.take(q, cq, axis=0))
            keep = d <= threshold
            qi_all.append(cq[keep])
            li_all.append(cand[keep])
            d_all.append(d[keep])
        if not qi_all:
            e = np.zeros(0, np.int64)
            return e, e, e.astype(np.int32)
        qi = np.concatenate(qi_all).astype(np.int64)
        li = np.concatenate(li_all).astype(np.int64)
        d = np.concatenate(d_all)
        # an entry reached through several substrings is reported once
        key = qi * self.n + li
        key, first = np.unique(key, return_index=True)
        return qi[first], li[first], d[first]


# -- the index ----------------------------------------------------------------------------------
@dataclass(slots=True)
class Matches:
    """Flat results of a batched search, sorted by query then distance."""

    query: np.ndarray  # row of the query in the batch
    ids: np.ndarray  # global entry id
    distance: np.ndarray

    def for_query(self, i: int) -> list[tuple[int, int]]:
        lo, hi = np.searchsorted(self.query, [i, i + 1])
        return [(int(a), int(b)) for a, b in zip(self.ids[lo:hi], self.distance[lo:hi])]

    def __len__(self) -> int:
        return len(self.ids)


class PDQIndex:
    """Exact search of 256-bit hashes within a Hamming radius (default 31).

    Entries get global ids 0, 1, 2, ... in insertion order; those ids never change.
    """

    def __init__(
        self,
        hashes: np.ndarray | Sequence[str] | None = None,
        *,
        threshold: int = DEFAULT_THRESHOLD,
        widths: Sequence[int] = DEFAULT_WIDTHS,
        workers: int = 2,
        max_segments: int = 8,
    ):
        if not 0 <= threshold < BITS:
            raise ValueError("threshold must be in [0, 255]")
        self.threshold = threshold
        self.plan = _plan(threshold, widths)
        self.workers = workers
        self.max_segments = max_segments
        self._lock = threading.Lock()
        self._segments: tuple[_Segment, ...] = ()
        self._alive = np.zeros(0, dtype=bool)
        self._size = 0
        self._compactor: threading.Thread | None = None
        if hashes is not None:
            words = to_words(hashes)
            if len(words):
                self._segments = (_Segment(words, 0, self.plan, workers),)
                self._size = len(words)
                self._alive = np.ones(self._size, dtype=bool)

    # -- size and memory ------------------------------------------------------------------------
    def __len__(self) -> int:
        return self._size

    @property
    def segments(self) -> int:
        return len(self._segments)

    def nbytes(self) -> int:
        return sum(s.nbytes() for s in self._segments) + self._alive.nbytes

    # -- writes ---------------------------------------------------------------------------------
    def add(self, hashes: np.ndarray | Sequence[str] | str) -> np.ndarray:
        """Add hashes without rebuilding the large segment; returns their ids. Small additions go to
        a new segment; once there are more than `max_segments`, the small ones are merged."""
        words = to_words(hashes)
        n = len(words)
        with self._lock:
            base = self._size
            seg = _Segment(words, base, self.plan, 1)
            alive = self._alive
            if base + n > len(alive):
                grown = np.zeros(max(base + n, int(len(alive) * 1.25) + 1024), dtype=bool)
                grown[: len(alive)] = alive
                alive = grown
            alive[base : base + n] = True
            segments = self._segments + (seg,)
            if len(segments) > self.max_segments:
                segments = self._merge_small(segments)
            self._alive = alive
            self._segments = segments
            self._size = base + n
        return np.arange(base, base + n, dtype=np.int64)

    def _merge_small(self, segments: tuple[_Segment, ...]) -> tuple[_Segment, ...]:
        # keep the largest segment, merge every other (they are contiguous in id order after it)
        big = segments[0]
        rest = segments[1:]
        words = np.concatenate([s.words for s in rest])
        return (big, _Segment(words, rest[0].base, self.plan, self.workers))

    def disable(self, ids: Iterable[int] | np.ndarray) -> None:
        ids = np.asarray(list(ids) if not isinstance(ids, np.ndarray) else ids, dtype=np.int64)
        with self._lock:  # not while add() is copying the bitmap into a larger one
            if len(ids) and (ids.min() < 0 or ids.max() >= self._size):
                raise IndexError("no such entry id")
            self._alive[ids] = False

    def enable(self, ids: Iterable[int] | np.ndarray) -> None:
        ids = np.asarray(list(ids) if not isinstance(ids, np.ndarray) else ids, dtype=np.int64)
        with self._lock:  # not while add() is copying the bitmap into a larger one
            if len(ids) and (ids.min() < 0 or ids.max() >= self._size):
                raise IndexError("no such entry id")
            self._alive[ids] = True

    def is_enabled(self, i: int) -> bool:
        return bool(self._alive[i])

    def compact(self, background: bool = False) -> threading.Thread | None:
        """Merge all segments into one (a full rebuild, off the query path: queries keep using the
        old segments until the new one is swapped in; additions made meanwhile are kept)."""

        def run() -> None:
            with self._lock:
                snapshot = self._segments
            if len(snapshot) <= 1:
                return
            words = np.concatenate([s.words for s in snapshot])
            merged = _Segment(words, 0, self.plan, self.workers)
            with self._lock:
                # segments added while we built are kept after the merged one
                self._segments = (merged,) + self._segments[len(snapshot) :]

        if not background:
            run()
            return None
        t = threading.Thread(target=run, name="pdq-compact", daemon=True)
        self._compactor = t
        t.start()
        return t

    # -- reads ----------------------------------------------------------------------------------
    def hash_at(self, i: int) -> str:
        for s in self._segments:
            if s.base <= i < s.base + s.n:
                return words_to_hex(s.words[i - s.base])[0]
        raise IndexError(i)

    def search(self, queries: np.ndarray | Sequence[str] | str, threshold: int | None = None) -> Matches:
        """All enabled entries within `threshold` (at most the index's) of each query, batched."""
        t = self.threshold if threshold is None else threshold
        if t > self.threshold:
            raise ValueError(f"this index is exact up to distance {self.threshold}, not {t}")
        q = to_words(queries)
        segments, alive = self._segments, self._alive
        out_q, out_i, out_d = [], [], []

        def block_search(lo: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
            block = q[lo : lo + _QUERY_BLOCK]
            keys = [_extract(block, ch.start, ch.width) for ch in self.plan]
            found = []
            for seg in segments:
                qi, li, d = seg.search(block, keys, self.plan, t)
                if len(qi) == 0:
                    continue
                gid = li + seg.base
                ok = alive[gid]
                found.append((qi[ok] + lo, gid[ok], d[ok]))
            return found

        starts = range(0, len(q), _QUERY_BLOCK)
        if self.workers > 1 and len(starts) > 1:
            # the work is gathers from memory, which numpy does without the GIL
            with ThreadPoolExecutor(self.workers) as pool:
                results = list(pool.map(block_search, starts))
        else:
            results = [block_search(lo) for lo in starts]
        for found in results:
            for a, b, c in found:
                out_q.append(a)
                out_i.append(b)
                out_d.append(c)
        if not out_q:
            e = np.zeros(0, np.int64)
            return Matches(e, e.copy(), np.zeros(0, np.int32))
        qi = np.concatenate(out_q)
        ids = np.concatenate(out_i)
        d = np.concatenate(out_d).astype(np.int32)
        order = np.lexsort((ids, d, qi))
        return Matches(qi[order], ids[order], d[order])

    def query(self, h: str | np.ndarray, threshold: int | None = None) -> list[tuple[int, int]]:
        """(id, distance) pairs for one hash, nearest first."""
        return self.search(h, threshold).for_query(0)


def brute_force(bank: np.ndarray, queries: np.ndarray, threshold: int) -> list[set[tuple[int, int]]]:
    """Reference answer (for tests): every (id, distance) within threshold, per query."""
    out = []
    for q in queries:
        d = _popcount_rows(bank ^ q[None, :])
        ids = np.nonzero(d <= threshold)[0]
        out.append({(int(i), int(d[i])) for i in ids})
    return out
