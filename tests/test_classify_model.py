"""Training, calibration and the npz model file, on a handmade toy set."""

from __future__ import annotations

import numpy as np
import pytest

from seawall.classify.calibrate import apply_platt, fit_platt
from seawall.classify.datasets import Row
from seawall.classify.evaluate import miss_at_fa, roc_auc
from seawall.classify.features import HashingFeaturizer
from seawall.classify.linear import LinearModel
from seawall.classify.train import prepare, train_first_stage

THREATS = ["i will kill you", "we will shoot them all", "i am going to stab you", "you will die tonight",
           "i will burn your house down", "we will hunt you and kill you", "i'll murder your family",
           "he deserves a bullet in the head", "we are coming to kill you", "i will blow up your office"]
BENIGN = ["what a lovely day", "the match was great", "i love this song", "see you tomorrow at lunch",
          "my cat is sleeping", "thanks for the recipe", "the train was late again", "happy birthday friend",
          "this video is interesting", "we went to the beach"]


def toy_rows() -> list[Row]:
    rows = []
    for k in range(12):  # 12 "authors", each writing variants of every sentence
        for t in THREATS:
            rows.append(Row(f"{t} {'!' * (k % 3)}", {"threat": 1}, f"g{k}", "en", "toy"))
        for t in BENIGN:
            rows.append(Row(f"{t} {'.' * (k % 3)}", {"threat": 0}, f"g{k}", "en", "toy"))
    return rows


@pytest.fixture(scope="module")
def toy_model():
    fz = HashingFeaturizer(bits=14)
    prep = prepare(toy_rows(), fz, log=lambda m: None)
    return train_first_stage(prep, fz, labels=["threat"], l2=1e-4, max_iter=60, log=lambda m: None), prep


def test_training_learns(toy_model):
    model, _ = toy_model
    p = model.predict(["i wi ki you", "i am going to shoot you", "what a iovey day", "my dog is sleeping"])[:, 0]
    assert p[0] > 0.6 and p[1] > 0.5
    assert p[2] < 0.4 and p[3] < 0.4
    assert roc_auc(np.array([1, 1, 0, 0]), p) == 1.0


def test_model_round_trip_without_pickle(toy_model, tmp_path):
    model, _ = toy_model
    path = tmp_path / "m.npz"
    model.save(path)
    with np.load(path, allow_pickle=False) as z:
        assert set(z.files) == {"weights", "bias", "platt", "meta"}
        assert all(z[k].dtype != object for k in z.files)
    back = LinearModel.load(path)
    texts = ["i will kill you", "lovely day"]
    assert back.labels == model.labels
    assert back.featurizer.config() == model.featurizer.config()
    assert np.allclose(back.predict(texts), model.predict(texts), atol=2e-3)  # float16 weights


def test_calibration_monotone_and_bounded():
    rng = np.random.default_rng(0)
    z = np.concatenate([rng.normal(-2, 1, 500), rng.normal(2, 1, 100)])
    y = np.concatenate([np.zeros(500), np.ones(100)])
    a, b = fit_platt(z, y)
    assert a > 0
    grid = np.linspace(-50, 50, 1001)[:, None]
    p = apply_platt(grid, np.array([[a, b]]))[:, 0]
    assert np.all(np.diff(p) >= 0) and p.min() >= 0 and p.max() <= 1
    # calibrated: mean predicted probability close to the base rate
    pc = apply_platt(z[:, None], np.array([[a, b]]))[:, 0]
    assert abs(pc.mean() - y.mean()) < 0.02


def test_metrics():
    y = np.array([0, 0, 0, 0, 1, 1])
    s = np.array([0.1, 0.2, 0.3, 0.4, 0.35, 0.9])
    assert roc_auc(y, s) == pytest.approx(7 / 8)
    assert miss_at_fa(y, s, 0.25) == pytest.approx(0.0)  # threshold 0.3: one negative (0.4) above it
    assert miss_at_fa(y, s, 0.0) == pytest.approx(0.5)  # threshold 0.4: 0.35 missed
    assert roc_auc(np.array([0, 0]), np.array([0.1, 0.2])) is None


def test_splits_keep_groups_together():
    rows = toy_rows()
    from seawall.classify.datasets import assign_splits

    assign_splits(rows)
    by_group: dict[str, set[str]] = {}
    for r in rows:
        by_group.setdefault(r.group, set()).add(r.split)
    assert all(len(s) == 1 for s in by_group.values())
    assert {"train", "test"} <= {r.split for r in rows}


def test_user_data_format(tmp_path):
    from seawall.classify.datasets import load_rows

    p = tmp_path / "mine.csv"
    p.write_text('text,label,group,lang\n"I will find you",threat,u1,en\n"nice day",none,u2,en\n'
                 '"join the caliphate and fight",threat|extremism,u3,en\n')
    rows = load_rows(p)
    assert [r.labels for r in rows] == [{"threat": 1, "extremism": 0}, {"threat": 0, "extremism": 0},
                                        {"threat": 1, "extremism": 1}]
    assert [r.group for r in rows] == ["u1", "u2", "u3"] and rows[0].lang == "en"
    j = tmp_path / "mine.jsonl"
    j.write_text('{"text": "kill them", "label": 1, "target": "threat"}\n')
    (r,) = load_rows(j)
    assert r.labels == {"threat": 1} and r.group.startswith("t")


def test_dataset_weights_pull_the_model_towards_the_weighted_set():
    """Per-label data-set multipliers (used to up-weight the YouTube threat sentences): when two sets
    disagree on a phrase, the up-weighted set wins, and the weights are recorded in the model."""
    rows = toy_rows()
    for k in range(12):
        rows.append(Row("they will get what is coming", {"threat": 1}, f"a{k}", "en", "set_a"))
        rows.append(Row("they will get what is coming", {"threat": 0}, f"b{k}", "en", "set_b"))
    fz = HashingFeaturizer(bits=14)
    prep = prepare(rows, fz, log=lambda m: None)
    p = {}
    for name in ("set_a", "set_b"):
        model = train_first_stage(prep, fz, labels=["threat"], l2=1e-4, max_iter=60,
                                  dataset_weights={"threat": {name: 10.0}}, log=lambda m: None)
        assert model.meta["dataset_weights"] == {"threat": {name: 10.0}}
        p[name] = float(model.raw(fz.transform(["they will get what is coming"]))[0, 0])
    assert p["set_a"] > p["set_b"] + 0.5
