"""`seawall bench exposure`: both arms on one simulation, one JSON object, and the plots."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from seawall.simulate.baseline import run_baseline
from seawall.simulate.output import read_simulation
from seawall.simulate.seawall_arm import SeawallArm, TeamConfig, bench_settings
from seawall.simulate.world import Truth

HEADLINE = ("impressions", "tta_p50_s", "tta_p99_s", "reupload_blocked_share",
            "returners_before_first_post_share", "false_action_share")


def run_exposure(sim_dir: Path, team: TeamConfig, *, config: Path | None = None, disable: tuple[str, ...] = (),
                 baseline_capacity: float | None = None, baseline_accuracy: float | None = None,
                 plots: Path | None = None, seed: int = 0, shared_bank: bool = True,
                 progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    if plots is not None:
        try:
            import matplotlib  # noqa: F401 - checked before minutes of replay, not after
        except ImportError:
            raise ValueError("plots need matplotlib: pip install -e '.[plots]', or pass --no-plots") from None
    sim = read_simulation(sim_dir)
    truth = Truth.load(sim)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="seawall-bench-") as tmp:
        settings = bench_settings(Path(tmp), config, disable)
        arm = SeawallArm(sim, truth, settings, team, seed=seed, progress=progress, shared_bank=shared_bank)
        try:
            seawall = arm.run()
        finally:
            arm.close()
    baseline = run_baseline(sim, truth, baseline_accuracy if baseline_accuracy is not None else team.accuracy,
                            baseline_capacity, seed=seed)
    result: dict[str, Any] = {
        "seawall": seawall,
        "baseline": baseline,
        "simulation": {"dir": str(sim_dir), **{k: sim.summary.get(k) for k in
                                               ("events", "accounts_by_role", "violating_posts_by_category",
                                                "media_by_variant", "returns", "start", "end")}},
        "comparison": compare(seawall, baseline, truth),
        "disabled_signals": list(disable),
        "bench_wall_s": round(time.perf_counter() - t0, 1),
    }
    if plots is not None:
        from seawall.simulate.plots import draw

        result["plots"] = [str(p) for p in draw(result, truth, plots)]
    return strip_private(result)


def compare(seawall: dict[str, Any], baseline: dict[str, Any], truth: Truth) -> dict[str, Any]:
    """The issue's targets, each with its measured value and whether it is met."""
    base = baseline["impressions"]
    reduction = 1.0 - seawall["impressions"] / base if base else None
    queued_ok = all((q["within_sla_share"] or 0) >= 0.99 for q in seawall["queues"].values() if q["items"])
    targets = {
        "impressions_reduction": (reduction, reduction is not None and reduction >= 0.95, ">= 0.95"),
        "reupload_blocked_share": (seawall["reupload_blocked_share"],
                                   (seawall["reupload_blocked_share"] or 0) >= 0.80, ">= 0.80"),
        "returners_before_first_post_share": (seawall["returners_before_first_post_share"],
                                              (seawall["returners_before_first_post_share"] or 0) >= 0.75, ">= 0.75"),
        "false_action_share": (seawall["false_action_share"], (seawall["false_action_share"] or 0) < 0.001, "< 0.001"),
        "auto_tta_p99_s": (seawall["auto_tta_p99_s"],
                           seawall["auto_tta_p99_s"] is not None and seawall["auto_tta_p99_s"] < 1.0, "< 1 s"),
        "queued_within_sla": (queued_ok, queued_ok, "99% of each queue's items within its SLA"),
    }
    return {k: {"value": round(v, 4) if isinstance(v, float) else v, "met": met, "target": tgt}
            for k, (v, met, tgt) in targets.items()}


def strip_private(d: Any) -> Any:
    if isinstance(d, dict):
        return {k: strip_private(v) for k, v in d.items() if not str(k).startswith("_")}
    return d
