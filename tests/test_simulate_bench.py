"""The exposure benchmark: both arms on one tiny simulation, the review model, the plots, and the
honesty check: turning detection off in Seawall must make its figures visibly worse."""

from __future__ import annotations

import random

import orjson
import pytest
from click.testing import CliRunner

from seawall.cli import main
from seawall.simulate import SimParams, simulate
from seawall.simulate.bench import HEADLINE, run_exposure
from seawall.simulate.output import write_simulation
from seawall.simulate.review import ReviewItem, ReviewTeam
from seawall.simulate.seawall_arm import TeamConfig

# Tiny, with a dense network: several supporters, bursts, re-uploads and returns in 18 hours.
TINY = SimParams(accounts=100, days=0.75, seed=11, network_share=0.08, lifetime_median_hours=8.0,
                 member_posts_per_day=8.0, propaganda_media_share=0.7, releases=3, reupload_exact_share=0.5)
TEAM = TeamConfig(reviewers=2, decisions_per_hour=60, accuracy=0.95)


@pytest.fixture(scope="module")
def sim_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim")
    write_simulation(simulate(TINY), out)
    return out


@pytest.fixture(scope="module")
def default_run(sim_dir):
    return run_exposure(sim_dir, TEAM)


def test_review_team_takes_the_highest_priority_first_at_its_rate():
    team = ReviewTeam(1, decisions_per_hour=60, accuracy=1.0, rng=random.Random(0))
    team.add(ReviewItem(("post", "low"), "q", 10, 0.0))
    team.add(ReviewItem(("post", "high"), "q", 90, 0.0))
    team.add(ReviewItem(("post", "mid"), "q", 50, 0.0))
    assert not team.add(ReviewItem(("post", "low"), "q", 95, 1.0))  # merged into the open item, now first
    done = team.advance(10_000)
    assert [d.item.subject[1] for d in done] == ["low", "high", "mid"]
    assert [d.at for d in done] == [60.0, 120.0, 180.0]
    assert all(d.correct for d in done)
    two = ReviewTeam(2, decisions_per_hour=3600, accuracy=0.0, rng=random.Random(0))
    for i in range(4):
        two.add(ReviewItem(("post", str(i)), "q", 0, 0.0))
    done = two.advance(100)
    assert [d.at for d in done] == [1.0, 1.0, 2.0, 2.0] and not any(d.correct for d in done)


def test_both_arms_report_every_headline_figure(default_run):
    for arm in ("seawall", "baseline"):
        for key in HEADLINE:
            assert key in default_run[arm], (arm, key)
        assert default_run[arm]["violating_posts"] > 20
    s, b = default_run["seawall"], default_run["baseline"]
    # Seawall acts: automatically within a second of processing, and through its reviewers.
    assert s["auto_actions"] > 0 and s["auto_tta_p99_s"] < 30
    assert s["reviewer_decisions"] > 0 and s["queued_items"] > 0
    assert s["shared_bank_entries"] > 0  # the simulation's shared hash list was imported
    assert s["impressions"] < b["impressions"]
    # The baseline has no hash matching and no linker: nothing blocked at upload, nobody caught early.
    assert b["reupload_blocked_share"] in (0.0, None)
    assert b["returners_before_first_post_share"] in (0.0, None)
    assert default_run["comparison"]["impressions_reduction"]["value"] > 0
    assert not any(k.startswith("_") for k in s)


def test_turning_detection_off_makes_the_figures_worse(sim_dir, default_run):
    content = ("classifier", "hashbank", "watchterms", "linkdomain", "targets")
    blind = run_exposure(sim_dir, TEAM, disable=content)
    s, w = default_run["seawall"], blind["seawall"]
    assert blind["disabled_signals"] == list(content)
    assert w["impressions"] > 3 * s["impressions"]
    assert w["violating_posts_prevented"] < s["violating_posts_prevented"]
    assert w["reupload_blocked_share"] == 0.0 and w["reuploads_attempted"] > 0
    # Hash matching alone: without the linker more supporters come back and re-upload; with the
    # hashbank off fewer of their re-uploads are blocked.
    with_hashes = run_exposure(sim_dir, TEAM, disable=("account_link",))["seawall"]
    without = run_exposure(sim_dir, TEAM, disable=("account_link", "hashbank"))["seawall"]
    assert with_hashes["reuploads_attempted"] > 0 and without["reuploads_attempted"] > 0
    assert without["reupload_blocked_share"] < with_hashes["reupload_blocked_share"]


def test_cli_prints_one_json_object_and_draws_the_plots(sim_dir, tmp_path):
    pytest.importorskip("matplotlib")
    r = CliRunner().invoke(main, ["bench", "exposure", "--sim", str(sim_dir), "--reviewers", "3",
                                  "--decisions-per-hour", "30", "--accuracy", "0.9", "--plots", str(tmp_path / "img")])
    assert r.exit_code == 0, r.output
    out = orjson.loads(r.stdout_bytes)
    assert set(out) >= {"seawall", "baseline", "comparison"}
    assert out["seawall"]["reviewers"] == 3 and out["seawall"]["decisions_per_hour_per_reviewer"] == 30
    names = sorted(p.name for p in (tmp_path / "img").iterdir())
    assert names == ["exposure-impressions.png", "exposure-reviewer-load.png", "exposure-shares.png",
                     "exposure-tta.png"]
    assert all((tmp_path / "img" / n).read_bytes().startswith(b"\x89PNG") for n in names)


def test_bad_arguments_name_the_problem(sim_dir, tmp_path):
    r = CliRunner().invoke(main, ["bench", "exposure", "--sim", str(tmp_path), "--no-plots"])
    assert r.exit_code != 0 and "events.jsonl" in r.output
    r = CliRunner().invoke(main, ["bench", "exposure", "--sim", str(sim_dir), "--no-plots",
                                  "--disable-signal", "nosuch"])
    assert r.exit_code != 0 and "nosuch" in r.output


def test_a_returning_account_comes_back_the_same_time_after_an_earlier_suspension():
    from seawall.simulate.timeline import Timeline
    from seawall.simulate.world import Truth

    iso = "1970-01-01T00:{:02d}:{:02d}Z".format  # event times below are epoch seconds
    events = [
        (0.0, 0, {"type": "account", "id": "a1", "handle": "abu_x1", "created_at": iso(0, 0)}),
        (1000.0, 1, {"type": "enforcement", "account_id": "a1", "action": "suspend", "at": iso(16, 40)}),
        (1500.0, 2, {"type": "account", "id": "a2", "handle": "abu_x2", "created_at": iso(25, 0)}),
        (1600.0, 3, {"type": "follow", "follower_id": "a9", "followee_id": "a2", "at": iso(26, 40)}),
        (2000.0, 4, {"type": "post", "id": "p1", "account_id": "a2", "created_at": iso(33, 20)}),
        (2100.0, 5, {"type": "report", "target_type": "post", "target_id": "p1", "reason": "terrorism",
                     "at": iso(35, 0)}),
        (2200.0, 6, {"type": "post", "id": "p2", "account_id": "a9", "created_at": iso(36, 40)}),
    ]
    truth = Truth({}, {}, {}, [{"old": "a1", "new": "a2"}], 0.0, 10_000.0, 80.0)
    tl = Timeline(events, truth)
    assert [i for _, i, _ in tl.main] == [0, 1, 6]  # a2's whole life is held back
    released = tl.suspended("a1", 400.0)  # suspended 600 s before the platform's staff would have
    assert [(t, i) for t, i, _ in released] == [(900.0, 2), (1000.0, 3), (1400.0, 4), (1500.0, 5)]
    assert released[0][2]["created_at"] == iso(15, 0) and released[2][2]["created_at"] == iso(23, 20)
    assert tl.suspended("a1", 1000.0) == []  # released once
    late = Timeline(events, truth).suspended("a1", 1000.0)  # on schedule: nothing moves
    assert [t for t, _, _ in late] == [1500.0, 1600.0, 2000.0, 2100.0]
