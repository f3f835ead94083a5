"""Near-duplicate texts: MinHash with LSH banding."""

from __future__ import annotations

import random

from seawall.banks.text_index import K, TextIndex, signatures


def _texts(n: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(20_000)]
    common = ["the", "a", "of", "and", "to", "in", "is", "we", "you", "they"]
    return [" ".join(rng.choice(vocab) if rng.random() < 0.7 else rng.choice(common) for _ in range(20))
            for _ in range(n)]


def _edit(text: str, k: int, rng: random.Random) -> str:
    w = text.split()
    for p in rng.sample(range(len(w)), k):
        w[p] = f"edited{rng.randrange(10**9)}"
    return " ".join(w)


def test_recall_at_two_edited_words_in_twenty_and_memory():
    texts = _texts(8_000)
    idx = TextIndex()
    idx.add(texts)
    assert idx.nbytes() / len(texts) <= 1_000  # <= 1 GB per 1M texts
    rng = random.Random(2)
    src = [rng.randrange(len(texts)) for _ in range(600)]
    res = idx.search([_edit(texts[s], 2, rng) for s in src])
    recall = sum(s in {i for i, _ in r} for s, r in zip(src, res)) / len(src)
    assert recall >= 0.99
    # unrelated texts do not match
    assert sum(len(r) for r in idx.search(_texts(300, seed=9))) <= 3


def test_exact_copy_disable_and_pending_additions():
    idx = TextIndex()
    base = _texts(5_000, seed=3)
    idx.add(base)
    new = idx.add(["join the caravan brothers the day has come to strike them where they live and pray"])
    (hit,) = idx.search(["join the caravan brothers the day has come to strike them where they sleep and pray"])
    assert hit and hit[0][0] == int(new[0]) and 0.6 <= hit[0][1] < 1.0
    assert idx.search([base[7]])[0][0] == (7, 1.0)
    idx.disable([7])
    assert 7 not in {i for i, _ in idx.search([base[7]])[0]}
    idx.enable([7])
    assert idx.search([""]) == [[]]
    assert signatures(["", "a b"]).shape == (2, K)
