"""Stage 2 (word CNN): numpy inference against a plain per-position reference, the file format,
and the cascade with the shipped head."""

from __future__ import annotations

import numpy as np
import pytest

from seawall.classify.calibrate import sigmoid
from seawall.classify.cascade import SECOND_STAGE_FILE, Cascade, models_dir
from seawall.classify.train import normalize_skeletons
from seawall.classify.wordcnn import WordCNN, word_ids


def _random_head(seed=0, bits=10, dim=6, filters=5, width=3, max_words=7):
    rng = np.random.default_rng(seed)
    emb = rng.normal(0, 1, (2**bits + 1, dim)).astype(np.float32)
    emb[0] = 0
    return WordCNN(["threat"], emb, rng.normal(0, 1, (filters, dim, width)).astype(np.float32),
                   rng.normal(0, 1, filters).astype(np.float32), rng.normal(0, 1, (1, filters)).astype(np.float32),
                   rng.normal(0, 1, 1), np.array([[0.7, 1.3, -0.2]]), {"bits": bits, "max_words": max_words, "band": [0.1, 0.9]})


def _reference_raw(head: WordCNN, skeletons: list[str]) -> np.ndarray:
    """The same network written position by position (zero padding at both ends of each text)."""
    out = []
    filters, dim, width = head.conv_w.shape
    for s in skeletons:
        ids, _ = word_ids([s], head.bits, head.max_words)
        E = head.emb[ids]
        pad = np.zeros((width // 2, dim), np.float32)
        P = np.vstack([pad, E, pad])
        best = np.zeros(filters)
        for t in range(len(ids)):
            window = P[t : t + width]  # (width, dim)
            h = np.einsum("fdw,wd->f", head.conv_w, window) + head.conv_b
            best = np.maximum(best, np.maximum(h, 0))
        out.append(best @ head.out_w[0] + head.out_b[0])
    return np.array(out)


def test_numpy_network_matches_reference():
    head = _random_head()
    texts = ["i wi ki you", "", "one", "a b c d e f g h i j k l", "we are coming for you tonight", "  spaced   out  "]
    got = head.raw(texts)[:, 0]
    assert np.allclose(got, _reference_raw(head, texts), atol=1e-4)
    # each text's score does not depend on its neighbours in the batch
    assert np.allclose(head.raw(texts[3:4])[:, 0], got[3], atol=1e-5)


def test_word_ids_keep_order_and_cap():
    ids, starts = word_ids(["a b a", "c d e f g h i j k"], bits=12, max_words=4)
    assert list(np.diff(starts)) == [3, 4]
    assert ids[0] == ids[2] != ids[1]
    assert ids.min() >= 1  # 0 is padding


def test_predict_combines_stage1_and_network():
    head = _random_head(1)
    texts = ["kill them all", "nice day"]
    raw1 = np.array([[2.0], [-1.0]])
    want = sigmoid(0.7 * raw1[:, 0] + 1.3 * head.raw(texts)[:, 0] - 0.2)
    assert np.allclose(head.predict(texts, raw1)[:, 0], want)


def test_round_trip_plain_arrays(tmp_path):
    head = _random_head(2)
    path = tmp_path / SECOND_STAGE_FILE
    head.save(path)
    with np.load(path, allow_pickle=False) as z:
        assert all(z[k].dtype != object for k in z.files)
    back = WordCNN.load(path)
    texts = ["we will find you", "lovely weather"]
    assert np.allclose(back.raw(texts), head.raw(texts), atol=1e-2)  # float16 embeddings
    assert back.band == (0.1, 0.9)
    bad = tmp_path / "bad.npz"
    np.savez(bad, meta=np.frombuffer(b'{"kind": "other"}', dtype=np.uint8))
    with pytest.raises(ValueError, match="kind"):
        WordCNN.load(bad)


@pytest.mark.skipif(not (models_dir() / SECOND_STAGE_FILE).exists(), reason="no stage-2 head shipped")
def test_shipped_cascade_routes_only_undecided_posts():
    c = Cascade.load(None, use_second=True, max_share=1.0)
    assert c.second is not None and c.second.labels == ["threat"]
    texts = ["I am going to kill you and your whole family", "Thanks for the recipe, the cake was great",
             "they should all be dealt with", "someone needs to do something about him", "see you at the match"]
    sk = normalize_skeletons(texts)
    res = c.score(sk)
    first = Cascade.load(None, use_second=False).score(sk).scores
    lo, hi = c.second.band
    j = c.labels.index("threat")
    routed = (first[:, j] >= lo) & (first[:, j] <= hi)
    assert list(res.stage == 2) == list(routed)
    assert np.allclose(res.scores[~routed], first[~routed])
    assert res.scores[0, j] > 0.5 > res.scores[1, j]


def test_training_on_toy_data(tmp_path):
    """`seawall train --second-stage` path on a handmade set (PyTorch is needed for training only)."""
    pytest.importorskip("torch")
    from test_classify_model import toy_rows

    from seawall.classify.features import HashingFeaturizer
    from seawall.classify.stage2 import train_second_stage
    from seawall.classify.train import prepare, train_first_stage

    fz = HashingFeaturizer(bits=12)
    prep = prepare(toy_rows(), fz, log=lambda m: None)
    first = train_first_stage(prep, fz, labels=["threat"], l2=1e-4, max_iter=40, log=lambda m: None)
    head = train_second_stage(first, prep, tmp_path, cfg={"bits": 10, "dim": 8, "filters": 8, "epochs": 12},
                              log=lambda m: None)
    back = WordCNN.load(tmp_path / SECOND_STAGE_FILE)
    assert back.labels == ["threat"] and back.bits == 10
    z = back.raw(normalize_skeletons(["we will shoot them all", "i will kill you", "what a lovely day", "i love this song"]))[:, 0]
    assert min(z[:2]) > max(z[2:])  # the network alone learnt the toy threats
    assert np.allclose(back.combine, head.combine, atol=1e-6)


@pytest.mark.skipif(not (models_dir() / SECOND_STAGE_FILE).exists(), reason="no stage-2 head shipped")
def test_head_fitted_to_another_first_stage_is_not_used(tmp_path):
    import shutil

    from seawall.classify.cascade import FIRST_STAGE_FILE

    shutil.copy(models_dir() / FIRST_STAGE_FILE, tmp_path / FIRST_STAGE_FILE)
    head = WordCNN.load(models_dir() / SECOND_STAGE_FILE)
    head.save(tmp_path / SECOND_STAGE_FILE)
    assert Cascade.load(tmp_path).second is not None  # the shipped pair matches
    head.meta["first_stage"] = "0" * 16
    head.save(tmp_path / SECOND_STAGE_FILE)
    assert Cascade.load(tmp_path).second is None
