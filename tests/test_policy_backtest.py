"""Backtest: a handmade history replayed through a candidate rules file."""

from __future__ import annotations

import orjson
import pytest

from seawall.policy import BacktestRecord, PolicyEngine, backtest, parse_rules
from seawall.policy.backtest import classify_change
from seawall.signals.base import SignalHit

# The candidate file: slogans now go to review, slogan + file locker is removed, a shadow trial
# would suspend on threats, and reports for violence are queued.
CANDIDATE = """version = 1
[[rules]]
name = "trusted"
verdict = "allow"
final = true
when = { account = ["news1"] }

[[rules]]
name = "distribution"
verdict = "remove"
queue = "extremism"
priority = 90
labels = ["terrorist-content"]
when = { all = [ { signal = "watchterms", label = "terrorist_slogan" }, { signal = "linkdomain", label = "file_locker" } ] }

[[rules]]
name = "slogan"
verdict = "queue"
queue = "extremism"
when = { signal = "watchterms", label = "terrorist_slogan" }

[[rules]]
name = "threat-trial"
verdict = "suspend"
shadow = true
when = { signal = "watchterms", label = "violent_threat", min_score = 0.9 }

[[rules]]
name = "reports"
types = ["report"]
verdict = "queue"
queue = "reports"
when = { report_reason = ["violence"] }

[[rules]]
name = "never-fires"
verdict = "label"
labels = ["x"]
when = { signal = "hashbank" }
"""


def h(signal: str, label: str, score: float = 1.0) -> SignalHit:
    return SignalHit(signal, "1", label, score, {})


def history() -> list[BacktestRecord | dict]:
    slogan, locker, threat = h("watchterms", "terrorist_slogan"), h("linkdomain", "file_locker"), h("watchterms", "violent_threat", 0.95)
    return [
        # 1. was ignored, now queued (newly actioned)
        BacktestRecord("post:1", "post", [slogan], "allow", [], []),
        # 2. was queued, now removed (actions changed)
        BacktestRecord("post:2", "post", [slogan, locker], "queue", ["queue"], ["old-slogan"], old_queue="extremism"),
        # 3. was removed, now allow-listed (no longer actioned)
        BacktestRecord("post:3", "post", [slogan, locker], "remove", ["remove"], ["old-combo"], account_id="news1"),
        # 4. unchanged: queued before and after
        BacktestRecord("post:4", "post", [slogan], "queue", ["queue"], ["old-slogan"]),
        # 5. a threat: old rules queued it, the new file only has a shadow rule for it
        BacktestRecord("post:5", "post", [threat], "queue", ["queue"], ["old-threat"]),
        # 6. a report, given as a mapping with hits as dicts (as storage might hand them over)
        {"event_key": "report:6", "event_type": "report", "hits": [], "old_verdict": "allow",
         "report_reason": "Violence"},
        # 7. nothing before, nothing now
        BacktestRecord("post:7", "post", [], "allow", [], []),
        # 8. was labelled, now nothing: labels are not actions, so not a change of enforcement
        BacktestRecord("post:8", "post", [], "label", [], ["old-label"]),
    ]


@pytest.fixture()
def report():
    return backtest(PolicyEngine(parse_rules(CANDIDATE)), history(), examples=10)


def test_totals_and_transitions(report):
    assert report.total == 8
    assert report.transitions == {
        ("allow", "queue"): 2,
        ("queue", "remove"): 1,
        ("remove", "allow"): 1,
        ("queue", "queue"): 1,
        ("queue", "allow"): 1,
        ("allow", "allow"): 1,
        ("label", "allow"): 1,
    }
    assert report.old_verdicts == {"allow": 3, "queue": 3, "remove": 1, "label": 1}
    assert report.new_verdicts == {"allow": 4, "queue": 3, "remove": 1}
    assert report.new_queues == {"extremism": 3, "reports": 1}


def test_rule_counts(report):
    assert report.rule_matches == {"trusted": 1, "distribution": 1, "slogan": 3, "reports": 1}
    # post:3 is allow-listed before "distribution" and "slogan" are reached
    assert report.shadow_matches == {"threat-trial": 1}
    assert report.old_rule_matches == {"old-slogan": 2, "old-combo": 1, "old-threat": 1, "old-label": 1}
    data = report.as_dict()
    assert data["rule_matches"] == {"trusted": 1, "distribution": 1, "slogan": 3, "reports": 1, "never-fires": 0}
    assert data["shadow_matches"] == {"threat-trial": 1}


def test_changes_and_examples(report):
    assert report.changes == {"newly_actioned": 2, "no_longer_actioned": 2, "actions_changed": 1}
    assert report.changed == 5
    assert [c.event_key for c in report.examples["newly_actioned"]] == ["post:1", "report:6"]
    assert [c.event_key for c in report.examples["no_longer_actioned"]] == ["post:3", "post:5"]
    (changed,) = report.examples["actions_changed"]
    assert (changed.old_verdict, changed.old_actions, changed.old_rules) == ("queue", ["queue"], ["old-slogan"])
    assert (changed.new_verdict, changed.new_actions, changed.new_rules, changed.new_queue) == (
        "remove", ["queue", "remove"], ["distribution", "slogan"], "extremism"
    )


def test_examples_are_capped():
    many = [BacktestRecord(f"post:{i}", "post", [h("watchterms", "terrorist_slogan")]) for i in range(30)]
    r = backtest(PolicyEngine(parse_rules(CANDIDATE)), iter(many), examples=3)
    assert r.changes["newly_actioned"] == 30 and len(r.examples["newly_actioned"]) == 3


def test_as_dict_is_json(report):
    data = orjson.loads(orjson.dumps(report.as_dict()))
    assert data["total"] == 8 and data["changed"] == 5
    assert data["transitions"]["allow->queue"] == 2 and data["transitions"]["remove->allow"] == 1
    assert list(data["transitions"])[0] == "allow->allow"  # ordered by severity, old then new
    assert data["changes"]["actions_changed"]["examples"][0]["event_key"] == "post:2"
    assert data["new_queues"] == {"extremism": 3, "reports": 1}


def test_promoting_shadow_rules_is_a_backtest_away():
    rs = parse_rules(CANDIDATE)
    r = backtest(PolicyEngine(rs.with_shadow_enforced(["threat-trial"])), history())
    assert r.rule_matches["threat-trial"] == 1 and r.shadow_matches == {}
    (c,) = [c for c in r.examples["actions_changed"] if c.event_key == "post:5"]
    assert c.new_actions == ["suspend"]


def test_bad_mapping_records_are_refused():
    with pytest.raises(ValueError, match="unknown field"):
        BacktestRecord.from_mapping({"event_key": "k", "event_type": "post", "old_verdit": "queue"})
    rec = BacktestRecord.from_mapping(
        {"event_key": "k", "event_type": "post", "hits": [{"signal": "s", "label": "l", "score": 1}], "old_rules": ("a",)}
    )
    assert rec.hits == [SignalHit("s", "", "l", 1.0, {})] and rec.old_rules == ["a"]


def test_classify_change():
    assert classify_change([], []) is None
    assert classify_change(["queue"], ["queue"]) is None
    assert classify_change([], ["queue"]) == "newly_actioned"
    assert classify_change(["remove"], []) == "no_longer_actioned"
    assert classify_change(["queue"], ["queue", "remove"]) == "actions_changed"
