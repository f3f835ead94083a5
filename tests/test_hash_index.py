"""The PDQ index: exact against brute force, additions, disabling, compaction."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from seawall.banks import index as index_mod
from seawall.banks.benchmark import flip_exact, make_bank, make_queries
from seawall.banks.index import PDQIndex, brute_force, hex_to_words, words_to_hex


def _as_sets(m, q):  # noqa: ANN001, ANN202
    return [set(m.for_query(i)) for i in range(q)]


def _bank(n: int, seed: int) -> np.ndarray:
    return make_bank(n, seed=seed, clustered=0.5, seeds=20)


@pytest.mark.parametrize("n", [500, 20_000])  # flat segment, then sparse multi-index
def test_identical_to_brute_force_on_clustered_bank(n):
    bank = _bank(n, 3)
    queries, _ = make_queries(bank, 300, seed=5)
    idx = PDQIndex(bank)
    m = idx.search(queries)
    assert _as_sets(m, 300) == brute_force(bank, queries, 31)


def test_direct_address_tables_identical_to_brute_force(monkeypatch):
    # 16 substrings of 16 bits: small tables, so the dense path runs on a test-sized bank
    monkeypatch.setattr(index_mod, "DIRECT_RATIO", 16)
    bank = _bank(10_000, 4)
    queries, _ = make_queries(bank, 200, seed=6)
    idx = PDQIndex(bank, widths=(16,) * 16)
    assert len(idx._segments[0].tables[0][0]) == 2**16 + 1
    assert _as_sets(idx.search(queries), 200) == brute_force(bank, queries, 31)


def test_planted_near_duplicates_found_at_every_distance():
    rng = np.random.default_rng(1)
    bank = _bank(30_000, 8)
    idx = PDQIndex(bank)
    src = rng.integers(0, len(bank), 31 * 8)
    d = np.repeat(np.arange(1, 32), 8)
    q = flip_exact(bank[src], d, rng)
    assert (np.bitwise_count(q ^ bank[src]).sum(axis=1) == d).all()
    m = idx.search(q)
    for i in range(len(q)):
        assert (int(src[i]), int(d[i])) in set(m.for_query(i))
    # one bit further is out of range for a hash 32 bits away
    q32 = flip_exact(bank[src[:20]], np.full(20, 32), rng)
    for i in range(20):
        assert int(src[i]) not in {e for e, _ in idx.search(q32[i:i + 1]).for_query(0)}


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 31), st.integers(1, 3000))
def test_property_matches_brute_force(seed, threshold, n):
    rng = np.random.default_rng(seed)
    bank = make_bank(n, seed=seed % 1000, clustered=0.3, seeds=5)
    queries = flip_exact(bank[rng.integers(0, n, 20)], rng.integers(0, 40, 20), rng)
    idx = PDQIndex(bank, threshold=31)
    assert _as_sets(idx.search(queries, threshold), 20) == brute_force(bank, queries, threshold)
    small = PDQIndex(bank, threshold=threshold)
    assert _as_sets(small.search(queries), 20) == brute_force(bank, queries, threshold)


def test_add_disable_enable_compact():
    bank = _bank(10_000, 9)
    idx = PDQIndex(bank, max_segments=3)
    extra = _bank(6_000, 10)
    ids = [idx.add(extra[i * 1000:(i + 1) * 1000]) for i in range(6)]
    assert ids[0][0] == 10_000 and ids[-1][-1] == 15_999
    assert idx.segments <= 3  # small segments were merged
    allw = np.concatenate([bank, extra])
    queries, _ = make_queries(allw, 200, seed=12)
    assert _as_sets(idx.search(queries), 200) == brute_force(allw, queries, 31)
    target = 12_345
    assert (target, 0) in idx.query(words_to_hex(allw[target])[0])
    idx.disable([target])
    assert target not in {i for i, _ in idx.query(allw[target])}
    idx.compact()
    assert idx.segments == 1
    assert target not in {i for i, _ in idx.query(allw[target])}
    idx.enable([target])
    assert (target, 0) in idx.query(allw[target])
    with pytest.raises(IndexError):
        idx.disable([10**9])


def test_background_compaction_keeps_concurrent_additions():
    idx = PDQIndex(_bank(8_000, 13))
    idx.add(_bank(2_000, 14))
    t = idx.compact(background=True)
    late = idx.add(_bank(10, 15))
    t.join()
    assert len(idx) == 10_010
    h = idx.hash_at(int(late[3]))
    assert (int(late[3]), 0) in idx.query(h)


def test_hex_round_trip_and_errors():
    words = make_bank(5, seed=1)
    hexes = words_to_hex(words)
    assert (hex_to_words(hexes) == words).all()
    with pytest.raises(ValueError):
        hex_to_words(["abc"])
    with pytest.raises(ValueError):
        PDQIndex(threshold=300)
    assert PDQIndex().query(hexes[0]) == []
