"""The figures `seawall train` and `seawall eval` report, on the held-out test split."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import numpy as np

from seawall.classify.account import aggregate, by_account, top_k_mean
from seawall.classify.evaluate import breakdown, miss_at_fa, roc_auc
from seawall.classify.linear import LinearModel
from seawall.classify.obfuscate import OBFUSCATORS
from seawall.classify.train import Prepared, first_stage_scores, normalize_skeletons


def _r(x):
    return None if x is None else round(float(x), 4)


def _headline(model: LinearModel, rows, S: np.ndarray) -> dict:
    """The issue's target figures, from scores S (n, k) of the given rows."""
    out: dict = {}
    if "threat" in model.labels:
        j = model.labels.index("threat")
        ix = [i for i, r in enumerate(rows) if r.split == "test" and r.dataset == "youtube"]
        if ix:
            y = np.array([rows[i].labels["threat"] for i in ix])
            out["threat_youtube"] = {"roc_auc": _r(roc_auc(y, S[ix, j])), "miss_at_5pct_fa": _r(miss_at_fa(y, S[ix, j])),
                                     "n": len(ix), "pos": int(y.sum())}
    if "extremism" in model.labels:
        j = model.labels.index("extremism")
        for name, langs in (("extremism_posts_ft_vs_con", None), ("extremism_posts_ft_vs_con_en", {"en"})):
            ix = [i for i, r in enumerate(rows) if r.split == "test" and r.dataset in ("fifth_tribe", "radicalization_con")
                  and (langs is None or r.lang in langs)]
            if ix:
                y = np.array([rows[i].labels["extremism"] for i in ix])
                out[name] = {"roc_auc": _r(roc_auc(y, S[ix, j])), "miss_at_5pct_fa": _r(miss_at_fa(y, S[ix, j])),
                             "n": len(ix), "pos": int(y.sum())}
    return out


def evaluate_all(model: LinearModel, prep: Prepared, log: Callable[[str], None] = print, obfuscated: bool = True,
                 model_dir: Path | None = None) -> dict:
    rows = prep.rows
    t = time.time()
    S = first_stage_scores(model, prep)
    metrics: dict = {"model_version": model.version, "split": "test (by group; see datasets.assign_splits)",
                     "rows": {s: sum(r.split == s for r in rows) for s in ("train", "calib", "test")},
                     "dropped_leaked_duplicates": prep.dropped_duplicates, "first_stage": {}}
    for j, lab in enumerate(model.labels):
        thr = float(model.meta.get("thresholds", {}).get(lab, 0.5))
        ix = [i for i, r in enumerate(rows) if r.split == "test" and lab in r.labels]
        if not ix:
            continue
        y = [rows[i].labels[lab] for i in ix]
        metrics["first_stage"][lab] = {
            "threshold": thr,
            "by_dataset": breakdown(y, S[ix, j], [rows[i].dataset for i in ix], thr),
            "by_lang": breakdown(y, S[ix, j], [rows[i].lang for i in ix], thr),
        }
    metrics["headline"] = _headline(model, rows, S)

    # Arabic and other offensive / hate sets: what the scores do on offensive speech.
    off: dict = {}
    for j, lab in enumerate(model.labels):
        for ds in sorted({r.dataset for r in rows if "offensive" in r.extra}):
            ix = [i for i, r in enumerate(rows) if r.split == "test" and r.dataset == ds]
            if not ix:
                continue
            y_off = np.array([rows[i].extra["offensive"] for i in ix])
            y_hate = np.array([rows[i].extra["hate"] for i in ix])
            got = off.setdefault(ds, {})[lab] = {
                "auc_vs_offensive": _r(roc_auc(y_off, S[ix, j])), "auc_vs_hate": _r(roc_auc(y_hate, S[ix, j])),
                "flagged_share": _r((S[ix, j] >= 0.5).mean()), "n": len(ix)}
            if lab == "threat" and "fearful" in rows[ix[0]].extra:
                # MLMA's threat-like proxies (not threat labels); the threat model never saw these
                # sets, so every row of the set is held out for it and all are used.
                allx = [i for i, r in enumerate(rows) if r.dataset == ds]
                for proxy in ("fearful", "annotator_fear"):
                    yp = np.array([rows[i].extra[proxy] for i in allx])
                    got[f"all_rows_auc_vs_{proxy}"] = _r(roc_auc(yp, S[allx, j]))
                    got[f"all_rows_{proxy}"] = int(yp.sum())
                got["all_rows"] = len(allx)
    metrics["offensive_hate_sets"] = off

    # Account level (extremism): Fifth Tribe accounts vs Radicalization-TT CON users, test split.
    if "extremism" in model.labels:
        metrics["accounts"] = account_metrics(model, rows, S[:, model.labels.index("extremism")])

    if obfuscated:
        metrics["obfuscated"] = obfuscation_metrics(model, rows, metrics["headline"], log)

    if model_dir is not None and (Path(model_dir) / "stage2.npz").exists():
        from seawall.classify.cascade import DEFAULT_MAX_SHARE
        from seawall.classify.stage2 import cascade_metrics
        from seawall.classify.wordcnn import WordCNN

        head = WordCNN.load(Path(model_dir) / "stage2.npz")
        if head.meta.get("first_stage") != model.fingerprint():
            metrics["cascade"] = {"skipped": "stage2.npz was fitted to another first_stage.npz"}
        else:
            metrics["cascade"] = cascade_metrics(model, prep, S, head, DEFAULT_MAX_SHARE, log)
    log(f"evaluated in {time.time() - t:.1f}s")
    return metrics


def account_metrics(model: LinearModel, rows, s: np.ndarray) -> dict:
    ix = [i for i, r in enumerate(rows) if r.split == "test" and r.dataset in ("fifth_tribe", "radicalization_con")
          and r.account]
    if not ix:
        return {}
    posts = by_account([rows[i].account for i in ix], s[ix])
    profiles: dict[str, str] = {}
    for i in ix:
        profiles.setdefault(rows[i].account, rows[i].profile or "")
    accts = sorted(posts)
    prof_txt = [profiles[a] for a in accts]
    j = model.labels.index("extremism")
    prof_scores = model.predict(normalize_skeletons(prof_txt))[:, j]
    y = np.array([a.startswith("ft:") for a in accts], dtype=int)
    has_prof = np.array([bool(p.strip()) for p in prof_txt])
    variants = {
        "mean_posts_plus_profile (shipped)": [aggregate(posts[a], p if h else None) for a, p, h in zip(accts, prof_scores, has_prof)],
        "mean_posts": [float(np.mean(posts[a])) for a in accts],
        "top5_mean": [top_k_mean(posts[a], 5) for a in accts],
        "first_post_only": [posts[a][0] for a in accts],
        "profile_only": list(prof_scores),
    }
    out = {"accounts": len(accts), "positive_accounts": int(y.sum()),
           "posts_per_account": {"positive": _r(np.mean([len(posts[a]) for a, t in zip(accts, y) if t])),
                                 "negative": _r(np.mean([len(posts[a]) for a, t in zip(accts, y) if not t]))}}
    for name, v in variants.items():
        out[name] = {"roc_auc": _r(roc_auc(y, np.array(v))), "miss_at_5pct_fa": _r(miss_at_fa(y, np.array(v)))}
    return out


def obfuscation_metrics(model: LinearModel, rows, clean: dict, log: Callable[[str], None]) -> dict:
    """Headline figures again on obfuscated copies of the test texts."""
    test = [i for i, r in enumerate(rows) if r.split == "test" and r.dataset in ("youtube", "fifth_tribe", "radicalization_con")]
    out: dict = {}
    for name, fn in OBFUSCATORS.items():
        texts = [fn(rows[i].text, seed=k) for k, i in enumerate(test)]
        S = np.zeros((len(rows), len(model.labels)))
        S[test] = model.predict(normalize_skeletons(texts))
        h = _headline(model, rows, S)
        for key, v in h.items():
            c = clean.get(key, {})
            if c.get("roc_auc") is not None and v.get("roc_auc") is not None:
                v["auc_drop"] = _r(c["roc_auc"] - v["roc_auc"])
        out[name] = h
        log(f"obfuscated ({name}): {h}")
    return out
