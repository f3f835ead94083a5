"""Campaigns and crisis mode end to end through the real pipeline and store (SQLite and
PostgreSQL): one case per campaign with its members, actions on whole campaigns, crisis mode
changing decisions, the incident bank and the crisis volume."""

from __future__ import annotations

import io
import random

import orjson
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from campaign_streams import BORDERLINE, background, burst, in_order, iso
from seawall.banks.model import EntryIn
from seawall.banks.store import BankStore
from seawall.campaigns.actions import CampaignActionError, apply_campaign_action
from seawall.campaigns.crisis import CrisisError, active_crisis, crisis_report, start_crisis, stop_crisis
from seawall.campaigns.store import campaign_members, get_campaign, list_campaigns
from seawall.cli import main as cli
from seawall.config import load_settings
from seawall.pipeline.pipeline import Pipeline
from seawall.pipeline.replay import replay_stream
from seawall.storage.schema import actions, cases
from seawall.storage.sql import open_store


@pytest.fixture
def pipeline(settings):
    (settings.home / "config.toml").write_text(
        "[signals.campaign]\ncrisis_poll_seconds = 0\n[signals.hashbank]\nrefresh_seconds = 0\n")
    s = load_settings()
    store = open_store(s.database_url)
    p = Pipeline.from_settings(s, store)
    yield p
    store.close()


def replay(pipeline: Pipeline, events: list[dict], batch: int = 50) -> dict:
    data = b"\n".join(orjson.dumps(e) for e in events) + b"\n"
    return replay_stream(pipeline, io.BytesIO(data), batch_size=batch)


def campaign_case(store, key: str) -> dict:
    found = [c for c in list_campaigns(store, None) if c["key"] == key]
    assert len(found) == 1, [c["key"] for c in list_campaigns(store, None)]
    return found[0]


def test_a_campaign_is_one_case_with_its_members_and_new_members_merge(pipeline):
    rng = random.Random(1)
    first = burst(rng, 60, 32, "r")
    replay(pipeline, in_order(background(rng, 75) + first))
    store = pipeline.store
    c = campaign_case(store, "hashtag:#raid")
    assert c["reason"] == "burst" and c["label"] == "campaign" and c["case_status"] == "open"
    assert c["queue"] == "campaigns"
    members = campaign_members(store, c["case_id"])
    assert {p["id"] for p in members["posts"]} == {e["id"] for e in first}
    assert {a["id"] for a in members["accounts"]} == {e["account_id"] for e in first}
    assert all(p["verdict"] for p in members["posts"])  # each with its own stored verdict
    with store.engine.connect() as conn:
        case = conn.execute(select(cases).where(cases.c.id == c["case_id"])).mappings().one()
        n_cases = conn.execute(select(func.count()).select_from(cases).where(cases.c.subject_type == "campaign")).scalar()
    assert case["subject_type"] == "campaign" and case["subject_id"] == "hashtag:#raid"
    assert case["event_count"] == len(first)
    # The same push goes on a few minutes later: the new posts join the same case.
    more = burst(rng, 66, 12, "s")
    replay(pipeline, in_order(more))
    again = campaign_case(store, "hashtag:#raid")
    assert again["id"] == c["id"] and again["case_id"] == c["case_id"]
    assert again["member_posts"] == len(first) + len(more)
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(cases)
                            .where(cases.c.subject_type == "campaign")).scalar() == n_cases
    # Later posts carry the campaign hit, so rules (campaign-member) label them.
    detail = get_campaign(store, c["id"])
    assert detail["evidence"]["key"] == "hashtag:#raid"
    assert detail["evidence"]["violating_share"] >= 0.3 and detail["evidence"]["volume"] >= 20


def test_acting_on_a_campaign_acts_on_each_member_once(pipeline):
    rng = random.Random(2)
    posts = burst(rng, 60, 28, "r")
    replay(pipeline, in_order(background(rng, 70) + posts))
    store = pipeline.store
    c = campaign_case(store, "hashtag:#raid")
    member_posts = {e["id"] for e in posts}

    def remove_actions() -> set[str]:
        with store.engine.connect() as conn:
            return {r for r in conn.execute(select(actions.c.subject_id).where(actions.c.kind == "remove")).scalars()}

    already = remove_actions() & member_posts  # the release posts a rule removed on its own
    result = apply_campaign_action(store, c["case_id"], "remove", "test:admin")
    assert result["members"] == len(member_posts)
    assert result["created"] == len(member_posts - already) and result["existing"] == len(already)
    assert remove_actions() >= member_posts
    with store.engine.connect() as conn:
        rows = conn.execute(select(actions).where(actions.c.case_id == c["case_id"])).mappings().all()
        status = conn.execute(select(cases.c.status).where(cases.c.id == c["case_id"])).scalar()
    assert {r["idempotency_key"] for r in rows} == {f"remove:post:{p}" for p in member_posts - already}
    assert status == "actioned"
    # Again: nothing new.
    assert apply_campaign_action(store, c["case_id"], "remove", "test:admin")["created"] == 0
    # Suspend: one action per member account, with the pipeline's key form.
    accounts = {e["account_id"] for e in posts}
    res = apply_campaign_action(store, c["case_id"], "suspend", "test:admin")
    assert res["members"] == len(accounts) and res["created"] + res["existing"] == len(accounts)
    assert apply_campaign_action(store, c["case_id"], "suspend", "test:admin")["created"] == 0
    with store.engine.connect() as conn:
        keys = set(conn.execute(select(actions.c.idempotency_key).where(actions.c.kind == "suspend")).scalars())
    assert {f"suspend:account:{a}:0" for a in accounts} <= keys
    with pytest.raises(CampaignActionError) as err:
        apply_campaign_action(store, c["case_id"], "delete", "test:admin")
    assert err.value.field == "kind"
    with pytest.raises(LookupError):
        campaign_members(store, 10**9)


def _post(pid: str, text: str, minute: float = 500, tags: tuple[str, ...] = ()) -> dict:
    ev = {"type": "post", "id": pid, "account_id": "o1", "created_at": iso(minute), "text": text}
    if tags:
        ev["hashtags"] = list(tags)
    return ev


def _matched(store, pid: str) -> tuple[list[str], str]:
    from seawall.storage.schema import events, verdicts

    with store.engine.connect() as conn:
        rules, version = conn.execute(
            select(verdicts.c.rules, verdicts.c.policy_version).select_from(events.join(verdicts, verdicts.c.event_pk == events.c.pk))
            .where(events.c.subject_id == pid)).one()
    return [m["rule"] for m in orjson.loads(rules)], version


def test_crisis_lowers_thresholds_while_active(pipeline):
    store = pipeline.store
    [hits] = pipeline.decide([_item(_post("probe", BORDERLINE))])[0:1]
    score = max(h.score for h in hits.hits if h.signal == "classifier" and h.label == "extremism")
    assert 0.5 < score < 0.9, "the borderline text no longer sits below the classifier rule"
    delta = round(0.9 - score + 0.02, 3)
    replay(pipeline, [_post("before", BORDERLINE)])
    assert "classifier-extremism" not in _matched(store, "before")[0]
    start_crisis(store, "test-incident", "test:admin", threshold_delta=delta)
    replay(pipeline, [_post("during", BORDERLINE)])
    rules, version = _matched(store, "during")
    assert "classifier-extremism" in rules and version.endswith("+crisis:test-incident")
    with pytest.raises(CrisisError):
        start_crisis(store, "another", "test:admin")  # one at a time
    stop_crisis(store, "test:admin")
    replay(pipeline, [_post("after", BORDERLINE)])
    rules, version = _matched(store, "after")
    assert "classifier-extremism" not in rules and "+crisis" not in version
    assert active_crisis(store.engine) is None


def _item(ev: dict):
    from seawall.ingest.intake import Intake

    return Intake("seawall").accept_objects([(0, ev, orjson.dumps(ev))]).items[0]


def test_crisis_switches_on_its_bank_and_counts_its_volume(pipeline):
    store = pipeline.store
    banks = BankStore(store.engine)
    banks.create_bank("incident-x", "terrorist_content", enabled=False)
    banks.add_entries("incident-x", [EntryIn.make("url", "https://incident.example.org/manifesto.pdf")])
    text = "read it before they delete it https://incident.example.org/manifesto.pdf"
    replay(pipeline, [_post("q1", text, 100)])
    assert "known-terrorist-content" not in _matched(store, "q1")[0]  # the bank is off
    with pytest.raises(CrisisError) as err:
        start_crisis(store, "x", "test:admin", bank="no-such-bank")
    assert err.value.field == "bank"
    start_crisis(store, "incident-x", "test:admin", bank="incident-x", hashtags=["#Attack"])
    assert banks.get_bank("incident-x").enabled
    replay(pipeline, [_post("q2", text, 101), _post("q3", "thoughts with everyone #attack", 101, ("attack",)),
                      _post("q4", "unrelated", 102), _post("q5", "more news #attack", 103, ("attack",))])
    assert "known-terrorist-content" in _matched(store, "q2")[0]
    report = crisis_report(store)
    assert report["active"] and report["crisis"]["hashtags"] == ["attack"]
    assert report["total_posts"] == 3
    by_minute = {p["minute"][11:16]: (p["posts"], p["by_hashtag"], p["by_bank"]) for p in report["volume"]}
    assert by_minute == {"07:41": (2, 1, 1), "07:43": (1, 1, 0)}
    stop_crisis(store, "test:admin")
    assert not banks.get_bank("incident-x").enabled  # as it was before the crisis
    assert crisis_report(store, "incident-x")["total_posts"] == 3


def test_cli_campaign_and_crisis_commands(pipeline, settings):
    rng = random.Random(3)
    replay(pipeline, in_order(background(rng, 70) + burst(rng, 60, 28, "r")))
    runner = CliRunner()
    out = runner.invoke(cli, ["campaign", "list", "--json"])
    assert out.exit_code == 0, out.output
    rows = [orjson.loads(line) for line in out.output.splitlines() if line.startswith("{")]
    [row] = [r for r in rows if r["key"] == "hashtag:#raid"]
    shown = runner.invoke(cli, ["campaign", "show", str(row["id"])])
    assert shown.exit_code == 0 and '"hashtag:#raid"' in shown.output
    acted = runner.invoke(cli, ["campaign", "act", str(row["id"]), "suspend"])
    assert acted.exit_code == 0, acted.output
    assert orjson.loads(acted.output)["members"] == row["member_accounts"]
    assert runner.invoke(cli, ["campaign", "show", "999999"]).exit_code != 0
    started = runner.invoke(cli, ["crisis", "start", "cli-incident", "--lower-thresholds", "0.2", "--hashtags", "a,#b"])
    assert started.exit_code == 0, started.output
    assert orjson.loads(started.output)["hashtags"] == ["a", "b"]
    bad = runner.invoke(cli, ["crisis", "start", "Bad Name!"])
    assert bad.exit_code != 0 and "name" in bad.output
    status = runner.invoke(cli, ["crisis", "status"])
    assert orjson.loads(status.output)["active"] is True
    assert runner.invoke(cli, ["crisis", "stop"]).exit_code == 0
    assert runner.invoke(cli, ["crisis", "stop"]).exit_code != 0  # none active


def test_merged_clusters_move_their_members_and_close_the_absorbed_case(store):
    from seawall.campaigns.detector import CampaignUpdate
    from seawall.campaigns.store import record_updates

    def upd(name: str, accounts: set[str], posts: list[tuple[float, str, str]]) -> CampaignUpdate:
        u = CampaignUpdate(name, "cluster", "cosharing", "coordinated", 0.55, {"key": name}, posts=posts)
        u.accounts = accounts
        return u

    t = 1_709_272_800.0
    assert record_updates(store.engine, [upd("cluster:a", {"a1", "a2"}, [(t, "pa1", "a1")]),
                                         upd("cluster:b", {"b1", "b2"}, [(t + 60, "pb1", "b1")])]) == 2
    a, b = campaign_case(store, "cluster:a"), campaign_case(store, "cluster:b")
    gone = upd("cluster:b", set(), [])
    gone.merged_into = "cluster:a"
    assert record_updates(store.engine, [gone]) == 0
    members = campaign_members(store, a["case_id"])
    assert {m["id"] for m in members["accounts"]} == {"a1", "a2", "b1", "b2"}
    assert {m["id"] for m in members["posts"]} == {"pa1", "pb1"}
    after = get_campaign(store, b["id"], 0)
    assert after["status"] == "merged" and after["merged_into"] == a["id"] and after["case_status"] == "closed"
    assert all(c["key"] != "cluster:b" for c in list_campaigns(store, None))  # merged ones are not listed
    # A later update of the same cluster merges into its open case: no new case.
    assert record_updates(store.engine, [upd("cluster:a", {"a3"}, [(t + 120, "pa2", "a3")])]) == 0
    assert campaign_case(store, "cluster:a")["member_accounts"] == 5
    # Acted on, then the same push goes on: the case opens again for the new members.
    a = campaign_case(store, "cluster:a")
    apply_campaign_action(store, a["case_id"], "suspend", "test:admin")
    assert campaign_case(store, "cluster:a")["case_status"] == "actioned"
    record_updates(store.engine, [upd("cluster:a", {"a4"}, [(t + 300, "pa3", "a4")])])
    again = campaign_case(store, "cluster:a")
    assert again["case_id"] == a["case_id"] and again["case_status"] == "open"
    res = apply_campaign_action(store, a["case_id"], "suspend", "test:admin")
    assert res["created"] == 1 and res["existing"] == 5  # only the new member is new


def test_posts_the_platform_removes_count_as_violating(pipeline):
    rng = random.Random(4)
    posts = [{"type": "post", "id": f"q{i}", "account_id": f"o{rng.randrange(60)}",
              "created_at": iso(60 + rng.uniform(0, 4)), "text": f"join us on the square {i} #gather"}
             for i in range(30)]
    removals = [{"type": "enforcement", "post_id": f"q{i}", "action": "remove", "by": "platform",
                 "at": iso(65)} for i in range(0, 30, 2)]
    replay(pipeline, in_order(background(rng, 70) + posts))
    assert all(c["key"] != "hashtag:#gather" for c in list_campaigns(pipeline.store, None))  # nothing violating
    replay(pipeline, removals)
    c = campaign_case(pipeline.store, "hashtag:#gather")
    assert c["reason"] == "burst" and c["member_posts"] == 30
    assert c["evidence"]["violating_share"] >= 0.3  # as it stood when the removals made it a campaign
