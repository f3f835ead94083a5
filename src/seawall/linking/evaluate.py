"""Evaluation of the account linker on real timelines (the IRA troll accounts) and on the Wikipedia
ban-evasion sample.

The IRA split (seeded, deterministic): authors are shuffled; `holdout` of them become new accounts
with no previous account (their real handle, their real posts); every other author's timeline is
cut in time at `cut` (default 60%): the posts before are the suspended old account (real handle),
the posts after are the new account. The new account's handle is, by author: a numbered variant of
the old one (`x` -> `x2`, `x_1` -> `x_2`, separators added or dropped; the `variant_share`), or an
unrelated invented handle. The new account's posts never appear in the old account's profile (they
are later in time), so nothing leaks; the style model is fitted on `fit` authors' pairs only and
those authors are evaluated separately (`fit_authors` in the output) from the `test` authors.

Events are written to two files and scored by the same code path as `seawall link`.
"""

from __future__ import annotations

import csv
import gzip
import json
import math
import random
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from seawall.linking import handles
from seawall.linking.files import known_index, new_profiles, read_events
from seawall.linking.scoring import LINK_THRESHOLD, REVIEW_THRESHOLD

SYLLABLES = ("ka", "lo", "mi", "ra", "te", "su", "no", "vi", "da", "re", "po", "li", "ma", "ze", "tu", "be")


@dataclass(slots=True)
class Split:
    known: Path
    new: Path
    truth: dict[str, str | None]  # new account -> old account (None: no previous account)
    group: dict[str, str]  # new account -> variant | unrelated | none
    fit_authors: set[str]


def _invented_handle(rng: random.Random) -> str:
    word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
    return word + rng.choice(["", "_", ""]) + (str(rng.randint(1, 999)) if rng.random() < 0.5 else "")


def load_ira(data: Path) -> dict[str, list[dict[str, Any]]]:
    rows: dict[str, list[dict[str, Any]]] = {}
    with gzip.open(data / "accounts" / "ira_tweets.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            d = json.loads(line)  # the file has bare NaN values, which Python's json accepts
            rows.setdefault(d["author_id"], []).append(d)
    for r in rows.values():
        r.sort(key=lambda d: d["publish_date"])
    return rows


def _ts(s: str) -> str:
    return datetime.strptime(s, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc).isoformat()


def make_split(data: Path, out_dir: Path, seed: int = 7, holdout: float = 0.2, variant_share: float = 0.75,
               cut: float = 0.6, fit_share: float = 0.3, min_new_posts: int = 20) -> Split:
    rows = load_ira(data)
    rng = random.Random(seed)
    authors = sorted(rows)
    rng.shuffle(authors)
    n_hold = int(len(authors) * holdout)
    hold, returners = authors[:n_hold], authors[n_hold:]
    fit_authors = set(returners[: int(len(returners) * fit_share)])
    known_lines: list[bytes] = []
    new_lines: list[bytes] = []
    truth: dict[str, str | None] = {}
    group: dict[str, str] = {}

    def account(aid: str, handle: str, created: str) -> bytes:
        return orjson.dumps({"type": "account", "id": aid, "handle": handle, "created_at": created})

    def posts(aid: str, tweets: list[dict[str, Any]], prefix: str) -> list[bytes]:
        return [orjson.dumps({"type": "post", "id": f"{prefix}{k}", "account_id": aid, "text": t["content"] or "",
                              "created_at": _ts(t["publish_date"])}) for k, t in enumerate(tweets)]

    for a in returners:
        tw = rows[a]
        k = min(int(len(tw) * cut), len(tw) - min_new_posts)
        old_id, new_id = f"old:{a}", f"new:{a}"
        if rng.random() < variant_share:
            new_handle = rng.choice(handles.variants(a))
            group[new_id] = "variant"
        else:
            new_handle = _invented_handle(rng)
            group[new_id] = "unrelated"
        known_lines.append(account(old_id, a, _ts(tw[0]["publish_date"])))
        known_lines.extend(posts(old_id, tw[:k], f"o:{a}:"))
        new_lines.append(account(new_id, new_handle, _ts(tw[k]["publish_date"])))
        new_lines.extend(posts(new_id, tw[k:], f"n:{a}:"))
        truth[new_id] = old_id
    for a in hold:
        tw = rows[a]
        new_id = f"new:{a}"
        k = int(len(tw) * cut)
        new_lines.append(account(new_id, a, _ts(tw[k]["publish_date"])))
        new_lines.extend(posts(new_id, tw[k:], f"n:{a}:"))
        truth[new_id] = None
        group[new_id] = "none"
    out_dir.mkdir(parents=True, exist_ok=True)
    known, new = out_dir / "known.jsonl", out_dir / "new.jsonl"
    known.write_bytes(b"\n".join(known_lines) + b"\n")
    new.write_bytes(b"\n".join(new_lines) + b"\n")
    return Split(known, new, truth, group, {f"new:{a}" for a in fit_authors})


def _metrics(results: dict[str, list[tuple[str, float]]], split: Split, ids: set[str]) -> dict[str, Any]:
    rr, r1, caught, queued, false_link, n_ret, n_none = [], 0, 0, 0, 0, 0, 0
    for nid in ids:
        cands = results.get(nid, [])
        want = split.truth[nid]
        top = cands[0] if cands else None
        if want is None:
            n_none += 1
            false_link += top is not None and top[1] >= LINK_THRESHOLD
            continue
        n_ret += 1
        rank = next((k + 1 for k, (c, _) in enumerate(cands) if c == want), None)
        rr.append(1.0 / rank if rank else 0.0)
        r1 += rank == 1
        caught += rank == 1 and top is not None and top[1] >= LINK_THRESHOLD
        queued += rank == 1 and top is not None and top[1] >= REVIEW_THRESHOLD
    return {
        "returners": n_ret,
        "mrr": round(float(np.mean(rr)), 4) if rr else None,
        "recall_at_1": round(r1 / n_ret, 4) if n_ret else None,
        "linked_correctly": round(caught / n_ret, 4) if n_ret else None,
        "linked_or_review": round(queued / n_ret, 4) if n_ret else None,
        "no_previous": n_none,
        "false_link_rate": round(false_link / n_none, 4) if n_none else None,
    }


def _cross_negatives(split: Split, k: int) -> tuple[int, int]:
    """More accounts without a previous account: the known accounts are cut in two halves by
    author; each returner is scored against the half that does not hold its old account.
    Returns (false links, accounts)."""
    from seawall.linking.index import build_index
    from seawall.linking.profile import ProfileBuilder

    b = ProfileBuilder(followers_cap=None)
    for ev in read_events(split.known):
        b.add(ev)
    ids = sorted(b.profiles)
    halves = [set(ids[0::2]), set(ids[1::2])]
    indexes = [build_index([b.profiles[i] for i in sorted(h)], b.shoutouts) for h in halves]
    false_links = n = 0
    for p in new_profiles(split.new, k):
        old = split.truth.get(p.account_id)
        if old is None:
            continue
        other = indexes[1] if old in halves[0] else indexes[0]
        cands = other.link(p, limit=1)
        n += 1
        false_links += bool(cands and cands[0].score >= LINK_THRESHOLD)
    return false_links, n


def run_ira(data: Path, ks: tuple[int, ...] = (0, 1, 5, 20), seed: int = 7, **split_kw: Any) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        split = make_split(data, Path(tmp), seed=seed, **split_kw)
        index = known_index(split.known)
        out: dict[str, Any] = {"seed": seed, "known_accounts": len(index), "new_accounts": len(split.truth),
                               "threshold": LINK_THRESHOLD, "k": {}}
        test_ids = {i for i in split.truth if i not in split.fit_authors}
        for k in ks:
            results = {p.account_id: [(c.account_id, c.score) for c in index.link(p, limit=10)]
                       for p in new_profiles(split.new, k)}
            entry = {"test": _metrics(results, split, test_ids),
                     "fit_authors": _metrics(results, split, split.fit_authors)}
            for g in ("variant", "unrelated"):
                entry[f"test_{g}"] = _metrics(results, split, {i for i in test_ids if split.group[i] == g})
            fl, n = _cross_negatives(split, k)
            none = entry["test"]
            total_fl = fl + round((none["false_link_rate"] or 0) * none["no_previous"])
            entry["false_links"] = {"holdout_accounts": none["no_previous"], "cross_half_accounts": n,
                                    "false_links": total_fl,
                                    "rate": round(total_fl / max(n + none["no_previous"], 1), 4)}
            out["k"][str(k)] = entry
    return out


def fit_style(data: Path, seed: int = 7, ks: tuple[int, ...] = (1, 5, 20), **split_kw: Any) -> dict[str, Any]:
    """Fit the style term (logistic regression on cosine, gap and cosine x log posts) on the
    `fit` authors' pairs only."""
    from seawall.linking import index as index_mod
    from seawall.linking.style import account_vector

    with tempfile.TemporaryDirectory() as tmp:
        split = make_split(data, Path(tmp), seed=seed, **split_kw)
        index = known_index(split.known)
        X, y = [], []
        for k in ks:
            for p in new_profiles(split.new, k):
                if p.account_id not in split.fit_authors or not p.posts:
                    continue
                raw = account_vector(p.posts, index.style_dim)
                q = index.space.embed(raw)[0]  # type: ignore[union-attr]
                owners, sims = index.style.search(q, index_mod.STYLE_CANDIDATES)
                want = index.number.get(split.truth[p.account_id] or "")
                sim_of = dict(zip(owners.tolist(), sims.tolist()))
                for o, s in sim_of.items():
                    gap = s - max((v for oo, v in sim_of.items() if oo != o), default=0.0)
                    X.append([s, gap, s * math.log1p(len(p.posts))])
                    y.append(1.0 if o == want else 0.0)
    X_arr, y_arr = np.asarray(X), np.asarray(y)
    # Newton's method (IRLS) with a little L2: 3 features and an intercept, a few thousand rows.
    A = np.hstack([X_arr, np.ones((len(X_arr), 1))])
    theta = np.zeros(4)
    for _ in range(50):
        pr = 1 / (1 + np.exp(-(A @ theta)))
        grad = A.T @ (pr - y_arr) + 1e-2 * theta
        hess = (A * (pr * (1 - pr))[:, None]).T @ A + 1e-2 * np.eye(4)
        step = np.linalg.solve(hess, grad)
        theta -= step
        if np.abs(step).max() < 1e-8:
            break
    w, b = theta[:3], theta[3]
    # A likelihood ratio, not a posterior: the training pairs' own base rate is taken out, and the
    # linker adds its prior (scoring.PRIOR) once for all kinds of evidence.
    base = math.log(y_arr.mean() / (1 - y_arr.mean()))
    return {"a": round(float(w[0]), 4), "b": round(float(w[1]), 4), "c": round(float(w[2]), 4),
            "d": round(float(b - base), 4), "lo": 0.0, "hi": 8.0,
            "fitted_on": f"IRA split seed {seed}, {len(split.fit_authors)} fit authors, K in {list(ks)}, "
                         f"{int(y_arr.sum())} positive / {len(y_arr)} pairs"}


def run_wikipedia(data: Path) -> dict[str, Any]:
    """The 9 parent -> child pairs of the ban-evasion sample: the parents (and the other sample
    files' parents, as distractors) are suspended; each child is linked by its username alone
    (the sample has no texts of these accounts)."""
    base = data / "accounts" / "wikipedia_ban_evasion_sample"
    pairs = list(csv.DictReader((base / "ban_evasion_pairs" / "evasion_pairs_meta.csv").open()))
    parents = {r["parent-username"] for r in pairs}
    for task in ("task1", "task2", "task3a", "task3b"):
        f = base / task / f"{task}_matched_pairs_meta.csv"
        if f.exists():
            for r in csv.DictReader(f.open()):
                parents.add(r["parent-username"])
    from seawall.linking.index import build_index
    from seawall.linking.profile import Profile

    index = build_index([Profile(f"u:{p}", handle=p) for p in sorted(parents)])
    results = []
    for r in pairs:
        cands = index.link(Profile(f"u:{r['child-username']}", handle=r["child-username"]))
        want = f"u:{r['parent-username']}"
        rank = next((k + 1 for k, c in enumerate(cands) if c.account_id == want), None)
        results.append({"parent": r["parent-username"], "child": r["child-username"], "rank": rank,
                        "score": next((round(c.score, 3) for c in cands if c.account_id == want), None),
                        "linked": bool(cands and cands[0].account_id == want and cands[0].score >= LINK_THRESHOLD)})
    return {"suspended": len(parents), "pairs": len(pairs), "linked": sum(r["linked"] for r in results),
            "found_at_rank_1": sum(r["rank"] == 1 for r in results), "results": results}


def fit_behaviour(data: Path, seed: int = 7, ks: tuple[int, ...] = (1, 5, 20), **split_kw: Any) -> dict[str, Any]:
    """Fit the behaviour term (logistic regression on the behaviour cosine, its gap, cosine x log
    posts and the hour-of-day similarity) on the `fit` authors' pairs only, *given* the style term:
    the shipped style model's llr is an offset, so the behaviour weight is what behaviour adds to
    style. Pairs: every suspended account among the style or behaviour candidates."""
    from seawall.linking import index as index_mod
    from seawall.linking.behaviour import behaviour_of
    from seawall.linking.scoring import behaviour_model, style_model
    from seawall.linking.style import account_vector

    sm = style_model()
    with tempfile.TemporaryDirectory() as tmp:
        split = make_split(data, Path(tmp), seed=seed, **split_kw)
        index = known_index(split.known)
        X, off, y = [], [], []
        for k in ks:
            for p in new_profiles(split.new, k):
                if p.account_id not in split.fit_authors or not p.posts:
                    continue
                q = index.space.embed(account_vector(p.posts, index.style_dim))[0]  # type: ignore[union-attr]
                owners, sims = index.style.search(q, index_mod.STYLE_CANDIDATES)
                style_sims = dict(zip(owners.tolist(), sims.tolist()))
                beh = behaviour_of(p.posts, p.post_hours, p.post_links)
                bq = index.behaviour.query_weights(beh)
                beh_sims = index.behaviour.candidates(bq)
                want = index.number.get(split.truth[p.account_id] or "")
                for o in set(style_sims) | set(beh_sims):
                    s = index._style_sim(o, q, style_sims) or 0.0
                    sgap = s - max((v for oo, v in style_sims.items() if oo != o), default=0.0)
                    cos = beh_sims[o] if o in beh_sims else index.behaviour.cosine(bq, o)
                    bgap = cos - max((v for oo, v in beh_sims.items() if oo != o), default=0.0)
                    hour = index.behaviour.hour_sim(beh.hours, o) or 0.0
                    n = len(p.posts)
                    X.append([cos, bgap, cos * math.log1p(n), hour * min(n, 20) / 20])
                    off.append(sm.llr(s, sgap, n))
                    y.append(1.0 if o == want else 0.0)
    X_arr, off_arr, y_arr = np.asarray(X), np.asarray(off), np.asarray(y)
    A = np.hstack([X_arr, np.ones((len(X_arr), 1))])
    theta = np.zeros(A.shape[1])
    for _ in range(100):
        pr = 1 / (1 + np.exp(-(off_arr + A @ theta)))
        grad = A.T @ (pr - y_arr) + 1e-2 * theta
        hess = (A * (pr * (1 - pr))[:, None]).T @ A + 1e-2 * np.eye(A.shape[1])
        step = np.linalg.solve(hess, grad)
        theta -= step
        if np.abs(step).max() < 1e-8:
            break
    base = math.log(y_arr.mean() / (1 - y_arr.mean()))
    hi = behaviour_model().hi
    return {"a": round(float(theta[0]), 4), "b": round(float(theta[1]), 4), "c": round(float(theta[2]), 4),
            "e": round(float(theta[3]), 4), "d": round(float(theta[4] - base), 4), "lo": 0.0, "hi": hi,
            "fitted_on": f"IRA split seed {seed}, {len(split.fit_authors)} fit authors, K in {list(ks)}, "
                         f"given the style term, {int(y_arr.sum())} positive / {len(y_arr)} pairs"}
