"""PNG plots of an exposure benchmark (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from seawall.simulate.world import Truth

ARMS = (("baseline", "2015 baseline", "#b0b0b0"), ("seawall", "Seawall", "#1f77b4"))


def draw(result: dict[str, Any], truth: Truth, out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    paths = [_impressions(plt, result, out), _tta(plt, result, out), _shares(plt, result, out),
             _load(plt, result, truth, out)]
    plt.close("all")
    return paths


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Software": None})
    return path


def _impressions(plt: Any, r: dict[str, Any], out: Path) -> Path:
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    cats = sorted({c for arm, _, _ in ARMS for c in r[arm]["impressions_by_category"]})
    colours = plt.get_cmap("tab10")
    for i, (arm, label, _) in enumerate(ARMS):
        bottom = 0.0
        for j, c in enumerate(cats):
            v = r[arm]["impressions_by_category"].get(c, 0.0)
            ax1.bar(i, v, bottom=bottom, color=colours(j), label=c if i == 0 else None)
            bottom += v
        ax1.text(i, bottom, f"{bottom:,.0f}", ha="center", va="bottom", fontsize=9)
    reach = r["baseline"]["simulated_window_reach"]
    ax1.axhline(reach, color="k", ls=":", lw=1)
    ax1.text(-0.4, reach, "reach if nothing were done", va="bottom", ha="left", fontsize=8)
    ax1.set_ylim(0, reach * 1.12)
    ax1.set_xticks([0, 1], [label for _, label, _ in ARMS])
    ax1.set_ylabel("impressions of violating content before action")
    ax1.legend(fontsize=8, loc="center right")
    ax1.set_title("Total impressions, by category")
    for arm, label, colour in ARMS:
        xs = sorted(r[arm]["_per_item"])
        if xs:
            ys = [(k + 1) / len(xs) for k in range(len(xs))]
            ax2.step([max(x, 1e-3) for x in xs], ys, where="post", label=label, color=colour)
    ax2.set_xscale("log")
    ax2.set_xlabel("impressions of one violating post before action (log; none = 0.001)")
    ax2.set_ylabel("share of violating posts due (incl. refused)")
    ax2.set_title("Per item (cumulative)")
    ax2.legend(fontsize=8)
    return _save(fig, out / "exposure-impressions.png")


def _tta(plt: Any, r: dict[str, Any], out: Path) -> Path:
    fig, ax = plt.subplots(figsize=(8, 4.2))
    qs = ("tta_p50_s", "tta_p90_s", "tta_p99_s")
    for i, (arm, label, colour) in enumerate(ARMS):
        vals = [r[arm][q] or 0.0 for q in qs]
        xs = [k + (i - 0.5) * 0.38 for k in range(len(qs))]
        ax.bar(xs, [max(v, 1e-3) for v in vals], width=0.36, color=colour, label=label)
        for x, v in zip(xs, vals):
            ax.text(x, max(v, 1e-3), _dur(v), ha="center", va="bottom", fontsize=8)
    s = r["seawall"]
    if s["auto_tta_p99_s"] is not None:
        ax.axhline(s["auto_tta_p99_s"], color="#2ca02c", ls="--", lw=1)
        ax.text(-0.45, s["auto_tta_p99_s"] * 1.3, f"Seawall auto-actions: p99 {_dur(s['auto_tta_p99_s'])} after posting",
                ha="left", va="bottom", fontsize=8, color="#2ca02c")
    ax.set_yscale("log")
    ax.set_xticks(range(len(qs)), ["p50", "p90", "p99"])
    ax.set_ylabel("time from posting to action, seconds (log)")
    ax.set_title("Time to action on violating posts that were actioned")
    ax.legend(fontsize=8)
    return _save(fig, out / "exposure-tta.png")


def _shares(plt: Any, r: dict[str, Any], out: Path) -> Path:
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [2, 1]})
    keys = (("returners_before_first_post_share", "returning accounts\nactioned before first post", 0.75),
            ("reupload_blocked_share", "re-uploads blocked\nat upload", 0.80))
    for i, (arm, label, colour) in enumerate(ARMS):
        vals = [r[arm][k] or 0.0 for k, _, _ in keys]
        xs = [k + (i - 0.5) * 0.38 for k in range(len(keys))]
        ax1.bar(xs, vals, width=0.36, color=colour, label=label)
        for x, v in zip(xs, vals):
            ax1.text(x, v, f"{v:.0%}", ha="center", va="bottom", fontsize=8)
    for k, (_, _, target) in enumerate(keys):
        ax1.hlines(target, k - 0.45, k + 0.45, colors="r", linestyles="--", lw=1)
    ax1.set_xticks(range(len(keys)), [name for _, name, _ in keys])
    ax1.set_ylim(0, 1.1)
    ax1.set_ylabel("share (red: target)")
    ax1.legend(fontsize=8)
    vals = [100 * (r[arm]["false_action_share"] or 0.0) for arm, _, _ in ARMS]
    ax2.bar([0, 1], vals, color=[c for _, _, c in ARMS])
    for x, (arm, _, _) in enumerate(ARMS):
        ax2.text(x, vals[x], f"{r[arm]['ordinary_accounts_falsely_actioned']} of {r[arm]['ordinary_accounts']}",
                 ha="center", va="bottom", fontsize=8)
    ax2.axhline(0.1, color="r", ls="--", lw=1)
    ax2.set_xticks([0, 1], [label for _, label, _ in ARMS])
    ax2.set_ylabel("% of ordinary accounts with a removal or suspension")
    ax2.set_title("False actions (red: 0.1%)")
    return _save(fig, out / "exposure-shares.png")


def _load(plt: Any, r: dict[str, Any], truth: Truth, out: Path) -> Path:
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for arm, label, colour in ARMS:
        pts = sorted(r[arm]["_backlog"])
        if pts:
            ax1.step([(t - truth.start) / 3600 for t, _ in pts], [b for _, b in pts], where="post",
                     label=f"{label} (max {r[arm]['max_backlog']})", color=colour)
    window_h = (truth.end - truth.start) / 3600
    ax1.set_xlim(-1, window_h * 1.5)
    ax1.set_xlabel("hours since the simulation's start (the baseline's backlog drains long after)")
    ax1.set_ylabel("open review items")
    ax1.set_title("Review backlog")
    ax1.legend(fontsize=8)
    s = r["seawall"]
    names = [q for q, v in s["queues"].items() if v["items"]]
    waits = [(s["queues"][q]["wait_p99_s"] or 0) / 60 for q in names]
    slas = [(s["queues"][q]["sla_s"] or 0) / 60 for q in names]
    ax2.bar(range(len(names)), waits, color="#1f77b4", label="Seawall: p99 wait")
    ax2.scatter(range(len(names)), slas, color="r", marker="_", s=400, label="queue SLA", zorder=3)
    for k, q in enumerate(names):
        ax2.text(k, waits[k], str(s["queues"][q]["items"]), ha="center", va="bottom", fontsize=8)
    ax2.set_xticks(range(len(names)), names, rotation=20, fontsize=8)
    ax2.set_ylabel("minutes from case to decision (p99; numbers: items)")
    ax2.set_title(f"Reviewer load: {s['reviewer_decisions']} decisions by {s['reviewers']} reviewers")
    ax2.legend(fontsize=8)
    return _save(fig, out / "exposure-reviewer-load.png")


def _dur(s: float) -> str:
    if s < 1:
        return f"{s * 1000:.0f} ms"
    if s < 120:
        return f"{s:.0f} s"
    if s < 7200:
        return f"{s / 60:.0f} min"
    if s < 172800:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.1f} d"
