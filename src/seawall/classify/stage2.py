"""Training and measuring stage 2 (the word CNN of wordcnn.py). Needs PyTorch, for training only.

    pip install 'seawall[train]'      # torch; inference of the shipped file needs numpy only

Steps: (1) the network is trained on the training split's rows of the label, with the same row
weights as stage 1 (train.DATASET_WEIGHTS, positives up-weighted); (2) the combiner
`sigmoid(a * raw1 + b * raw2 + c)` is fitted on the calibration split's rows whose stage-1
probability lies in `FIT_BAND` (the kind of post stage 2 will see; neither model trained on them);
(3) it is measured on the test split: stage 1 against the cascade on the posts the routing band
sends to stage 2, and the headline figures with stage 2 applied.
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from seawall.classify.calibrate import sigmoid
from seawall.classify.evaluate import miss_at_fa, roc_auc
from seawall.classify.linear import LinearModel
from seawall.classify.train import Prepared, label_rows, lbfgs, row_weights
from seawall.classify.wordcnn import WordCNN, word_ids

ROUTE_BAND = (0.05, 0.95)  # stage-1 probability band routed to stage 2 (capped per batch, see cascade)
FIT_BAND = (0.02, 0.98)  # calibration rows the combiner is fitted on
DEFAULTS = {"bits": 15, "dim": 32, "filters": 64, "width": 3, "max_words": 64, "epochs": 4, "lr": 2e-3,
            "dropout": 0.3, "batch": 128, "seed": 0}


def _net(cfg: dict, k: int):
    import torch

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb = torch.nn.Embedding((1 << cfg["bits"]) + 1, cfg["dim"], padding_idx=0)
            torch.nn.init.normal_(self.emb.weight, 0, 0.1)
            with torch.no_grad():
                self.emb.weight[0].zero_()
            self.conv = torch.nn.Conv1d(cfg["dim"], cfg["filters"], cfg["width"], padding=cfg["width"] // 2)
            self.out = torch.nn.Linear(cfg["filters"], k)
            self.drop = torch.nn.Dropout(cfg["dropout"])

        def forward(self, x, mask):
            e = self.drop(self.emb(x)).transpose(1, 2)
            h = torch.relu(self.conv(e)).masked_fill(~mask[:, None, :], 0.0)
            return self.out(self.drop(h.max(dim=2).values))

    return Net()


def _padded(ids: np.ndarray, starts: np.ndarray, docs: np.ndarray, width: int):
    import torch

    lens = starts[docs + 1] - starts[docs]
    T = max(int(lens.max()) if len(lens) else 0, width)
    x = np.zeros((len(docs), T), dtype=np.int64)
    for r, d in enumerate(docs):
        x[r, : lens[r]] = ids[starts[d] : starts[d + 1]]
    mask = np.arange(T)[None, :] < lens[:, None]
    return torch.from_numpy(x), torch.from_numpy(mask)


def train_network(skeletons: Sequence[str], y: np.ndarray, sw: np.ndarray, cfg: dict,
                  log: Callable[[str], None] = print) -> dict[str, np.ndarray]:
    """Fit the network on one label; returns its arrays (emb, conv_w, conv_b, out_w, out_b)."""
    import torch

    torch.manual_seed(cfg["seed"])
    rng = np.random.default_rng(cfg["seed"])
    ids, starts = word_ids(skeletons, cfg["bits"], cfg["max_words"])
    net = _net(cfg, 1)
    opt = torch.optim.Adam(net.parameters(), lr=cfg["lr"])
    sw = sw / sw.mean()
    yt, swt = torch.from_numpy(y.astype(np.float32)), torch.from_numpy(sw.astype(np.float32))
    for ep in range(cfg["epochs"]):
        net.train()
        t = time.time()
        perm = rng.permutation(len(y))
        total = 0.0
        for k in range(0, len(perm), cfg["batch"]):
            b = perm[k : k + cfg["batch"]]
            logit = net(*_padded(ids, starts, b, cfg["width"]))[:, 0]
            bt = torch.from_numpy(b)
            loss = (torch.nn.functional.binary_cross_entropy_with_logits(logit, yt[bt], reduction="none") * swt[bt]).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(b)
        log(f"stage 2 epoch {ep + 1}/{cfg['epochs']}: loss {total / len(y):.4f} ({time.time() - t:.0f}s)")
    sd = {k: v.detach().numpy() for k, v in net.state_dict().items()}
    return {"emb": sd["emb.weight"], "conv_w": sd["conv.weight"], "conv_b": sd["conv.bias"],
            "out_w": sd["out.weight"], "out_b": sd["out.bias"]}


def fit_combiner(z1: np.ndarray, z2: np.ndarray, y: np.ndarray, l2: float = 1e-3) -> np.ndarray:
    """(a, b, c) of sigmoid(a z1 + b z2 + c), a logistic fit with Platt's smoothed targets."""
    X = np.stack([z1, z2], axis=1)
    npos, nneg = y.sum(), len(y) - y.sum()
    t = np.where(y > 0, (npos + 1) / (npos + 2), 1 / (nneg + 2))

    def fg(x):
        z = X @ x[:2] + x[2]
        loss = float(np.mean(np.logaddexp(0, z) - t * z)) + 0.5 * l2 * float(x[:2] @ x[:2])
        r = (sigmoid(z) - t) / len(t)
        return loss, np.concatenate([X.T @ r + l2 * x[:2], [r.sum()]])

    return lbfgs(fg, np.array([1.0, 0.0, 0.0]), max_iter=200, tol=1e-10)


def train_second_stage(model: LinearModel, prep: Prepared, out_dir: Path, labels: Sequence[str] = ("threat",),
                       cfg: dict | None = None, log: Callable[[str], None] = print) -> WordCNN | None:
    cfg = dict(DEFAULTS, **(cfg or {}))
    rows = prep.rows
    labels = [lab for lab in labels if lab in model.labels]
    if not labels:
        return None
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("conv_w", "conv_b", "out_w", "out_b")}
    embs = []
    combine = np.zeros((len(labels), 3))
    info: dict = {}
    for lab in labels:
        j = model.labels.index(lab)
        tr = label_rows(rows, lab, "train")
        y = np.array([rows[i].labels[lab] for i in tr], dtype=np.float64)
        t = time.time()
        arr = train_network([prep.skeletons[i] for i in tr], y, row_weights(rows, tr, lab, y), cfg, log)
        net = WordCNN([lab], arr["emb"], arr["conv_w"], arr["conv_b"], arr["out_w"], arr["out_b"],
                      np.array([[0.0, 1.0, 0.0]]), {"bits": cfg["bits"], "max_words": cfg["max_words"]})
        ca = label_rows(rows, lab, "calib")
        yc = np.array([rows[i].labels[lab] for i in ca], dtype=np.float64)
        z1 = model.raw(_sub(prep, ca))[:, j]
        p1 = model.platt[j, 0] * z1 + model.platt[j, 1]
        z2 = net.raw([prep.skeletons[i] for i in ca])[:, 0]
        fit = (sigmoid(p1) >= FIT_BAND[0]) & (sigmoid(p1) <= FIT_BAND[1])
        if fit.sum() >= 20 and 0 < yc[fit].sum() < fit.sum():
            combine[len(embs)] = fit_combiner(z1[fit], z2[fit], yc[fit])
        else:  # too few calibration rows to weigh the network: stage 1's own calibration stands
            combine[len(embs)] = (model.platt[j, 0], 0.0, model.platt[j, 1])
        info[lab] = {"train_rows": int(len(tr)), "train_pos": int(y.sum()), "seconds": round(time.time() - t),
                     "combiner_rows": int(fit.sum()), "combiner_pos": int(yc[fit].sum()),
                     "calib_auc_stage1": roc_auc(yc, z1), "calib_auc_network": roc_auc(yc, z2)}
        log(f"stage 2 {lab}: {info[lab]}; combine {combine[len(embs)].round(3).tolist()}")
        embs.append(arr["emb"])
        for k in parts:
            parts[k].append(arr[k])
    if len(labels) > 1:  # one network per label would need one embedding each; keep the format simple
        raise NotImplementedError("stage 2 trains one label")
    head = WordCNN(labels, embs[0], parts["conv_w"][0], parts["conv_b"][0], np.vstack(parts["out_w"]),
                   np.concatenate(parts["out_b"]), combine,
                   {"version": f"wcnn-{date.today().isoformat()}", "band": list(ROUTE_BAND), "bits": cfg["bits"],
                    "max_words": cfg["max_words"], "config": cfg, "trained": info,
                    "first_stage": model.fingerprint()})
    from seawall.classify.cascade import SECOND_STAGE_FILE

    head.save(Path(out_dir) / SECOND_STAGE_FILE)
    log(f"wrote {Path(out_dir) / SECOND_STAGE_FILE}")
    return head


def _sub(prep: Prepared, ix: np.ndarray):
    from seawall.classify.train import subset

    return subset(prep.features, ix)


def cascade_metrics(model: LinearModel, prep: Prepared, S: np.ndarray, head: WordCNN, max_share: float,
                    log: Callable[[str], None] = print) -> dict:
    """On the test split: stage 1 vs the cascade on the posts stage 2 is given, and overall."""
    rows = prep.rows
    out: dict = {"band": list(head.band), "version": head.meta.get("version"), "labels": head.labels,
                 "max_share": max_share}
    raw = model.raw(prep.features)
    lo, hi = head.band
    for lab in head.labels:
        j = model.labels.index(lab)
        h = head.labels.index(lab)
        test = label_rows(rows, lab, "test")
        inband = test[(S[test, j] >= lo) & (S[test, j] <= hi)]
        t = time.time()
        p2 = head.predict([prep.skeletons[i] for i in inband], raw[inband][:, [j]])[:, h]
        per_post_ms = 1000 * (time.time() - t) / max(len(inband), 1)
        S2 = S[:, j].copy()
        S2[inband] = p2
        # The same with the per-batch cap of the service (batches of 1,024 test rows in split order;
        # within a batch, the in-band posts closest to 0.5 first): this is what the pipeline does.
        S3 = S[:, j].copy()
        capped = []
        for b in range(0, len(test), 1024):
            chunk = test[b : b + 1024]
            cand = chunk[(S[chunk, j] >= lo) & (S[chunk, j] <= hi)]
            cap = int(np.ceil(max_share * len(chunk)))
            capped.extend(cand[np.argsort(np.abs(S[cand, j] - 0.5), kind="stable")[:cap]])
        capped_ix = np.array(sorted(capped), dtype=np.int64)
        if len(capped_ix):
            S3[capped_ix] = S2[capped_ix]
        y_b = np.array([rows[i].labels[lab] for i in inband])
        res: dict = {"test_rows": int(len(test)), "routed_rows": int(len(inband)),
                     "routed_share": round(len(inband) / max(len(test), 1), 4), "ms_per_routed_post_here": round(per_post_ms, 3),
                     "routed_rows_capped": int(len(capped_ix)),
                     "routed": {"pos": int(y_b.sum()), "auc_stage1": _r(roc_auc(y_b, S[inband, j])),
                                "auc_cascade": _r(roc_auc(y_b, p2)),
                                "log_loss_stage1": _r(_logloss(y_b, S[inband, j])), "log_loss_cascade": _r(_logloss(y_b, p2))}}
        by_ds: dict = {}
        for ds in sorted({rows[i].dataset for i in test}):
            ix = np.array([i for i in test if rows[i].dataset == ds])
            y = np.array([rows[i].labels[lab] for i in ix])
            if 0 < y.sum() < len(y):
                by_ds[ds] = {"auc_stage1": _r(roc_auc(y, S[ix, j])), "auc_cascade": _r(roc_auc(y, S2[ix])),
                             "miss_stage1": _r(miss_at_fa(y, S[ix, j])), "miss_cascade": _r(miss_at_fa(y, S2[ix])),
                             "auc_cascade_capped": _r(roc_auc(y, S3[ix])), "miss_cascade_capped": _r(miss_at_fa(y, S3[ix])),
                             "routed": int(np.isin(ix, inband).sum()), "routed_capped": int(np.isin(ix, capped_ix).sum()),
                             "n": int(len(ix)), "pos": int(y.sum())}
        res["by_dataset"] = by_ds
        out[lab] = res
        log(f"cascade {lab}: {res}")
    return out


def _r(x):
    return None if x is None else round(float(x), 4)


def _logloss(y: np.ndarray, p: np.ndarray) -> float | None:
    if len(y) == 0:
        return None
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
