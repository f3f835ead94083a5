"""Evaluation semantics of the policy engine, the shipped defaults in action, and the shadow property."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timezone

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.events import AccountEvent, EnforcementEvent, FollowEvent, MediaRef, PostEvent, ReportEvent
from seawall.normalize.item import CanonicalUrl, Item
from seawall.policy import (
    Decision,
    ItemFacts,
    PolicyEngine,
    Rule,
    RulesError,
    RuleSet,
    default_rules_path,
    load_rules,
    parse_rules,
)
from seawall.policy.conditions import (
    AccountCond,
    AllOf,
    AnyOf,
    HasLinksCond,
    HasMediaCond,
    LangCond,
    NotCond,
    ReportReasonCond,
    SignalCond,
)
from seawall.signals.base import SignalHit

NOW = datetime(2015, 6, 1, tzinfo=timezone.utc)


@dataclass
class F:
    """Minimal EventFacts for tests."""

    event_type: str = "post"
    lang: str | None = None
    has_links: bool = False
    has_media: bool = False
    report_reason: str | None = None
    account_id: str | None = None


def hit(signal: str, label: str, score: float = 1.0, **evidence) -> SignalHit:
    return SignalHit(signal, "1", label, score, evidence)


def engine(body: str) -> PolicyEngine:
    return PolicyEngine(parse_rules("version = 1\n" + body))


def rule(name: str, when: str, verdict: str = "label", **fields) -> str:
    lines = [f'[[rules]]\nname = "{name}"\nverdict = "{verdict}"']
    if verdict == "label" and "labels" not in fields:
        fields["labels"] = [name]
    for k, v in fields.items():
        lines.append(f"{k} = {orjson.dumps(v).decode() if not isinstance(v, bool) else str(v).lower()}")
    lines.append(f"when = {when}\n")
    return "\n".join(lines)


def names(d: Decision) -> list[str]:
    return [m.rule for m in d.matched]


# --- leaves ----------------------------------------------------------------------------------


def test_signal_leaf_label_labels_and_any_label():
    e = engine(
        rule("any-label", '{ signal = "wt" }')
        + rule("one-label", '{ signal = "wt", label = "threat" }')
        + rule("some-labels", '{ signal = "wt", labels = ["slogan", "threat"] }')
        + rule("other-signal", '{ signal = "ld" }')
    )
    assert names(e.decide_facts(F(), [hit("wt", "threat")])) == ["any-label", "one-label", "some-labels"]
    assert names(e.decide_facts(F(), [hit("wt", "slogan")])) == ["any-label", "some-labels"]
    assert names(e.decide_facts(F(), [hit("wt", "other")])) == ["any-label"]
    assert names(e.decide_facts(F(), [hit("ld", "threat")])) == ["other-signal"]
    assert names(e.decide_facts(F(), [])) == []


def test_score_bounds():
    e = engine(
        rule("default", '{ signal = "wt" }')
        + rule("min", '{ signal = "wt", min_score = 0.5 }')
        + rule("max", '{ signal = "wt", max_score = 0.5 }')
        + rule("band", '{ signal = "wt", min_score = 0.2, max_score = 0.4 }')
        + rule("zero", '{ signal = "wt", min_score = 0.0 }')
    )

    def at(score: float) -> list[str]:
        return names(e.decide_facts(F(), [hit("wt", "x", score)]))

    assert at(0.0) == ["zero"]  # a zero score is no hit unless min_score says otherwise
    assert at(0.2) == ["default", "max", "band", "zero"]
    assert at(0.4) == ["default", "max", "band", "zero"]
    assert at(0.5) == ["default", "min", "max", "zero"]  # both bounds are inclusive
    assert at(0.9) == ["default", "min", "zero"]
    # some hit in range is enough, even when another hit of the same label is not
    assert names(e.decide_facts(F(), [hit("wt", "x", 0.9), hit("wt", "x", 0.3)])) == [
        "default", "min", "max", "band", "zero"
    ]


def test_event_predicates():
    e = engine(
        rule("lang", '{ lang = ["ar", "fa"] }')
        + rule("links", "{ has_links = true }")
        + rule("no-media", "{ has_media = false }")
        + rule("reason", '{ report_reason = ["Violent threat", "terrorism"] }')
        + rule("acct", '{ account = ["42"] }')
    )
    assert names(e.decide_facts(F(lang="ar"), [])) == ["lang", "no-media"]
    assert names(e.decide_facts(F(lang=None, has_links=True, has_media=True), [])) == ["links"]
    assert names(e.decide_facts(F(has_media=True, account_id="42"), [])) == ["acct"]
    report = F(event_type="report", report_reason="violent-threat", has_media=True)
    assert names(e.decide_facts(report, [])) == ["reason"]
    # report_reason only ever matches report events
    assert names(e.decide_facts(F(report_reason="terrorism", has_media=True), [])) == []


def test_all_any_not():
    e = engine(
        rule("all", '{ all = [ { signal = "wt" }, { signal = "ld" } ] }')
        + rule("any", '{ any = [ { signal = "wt" }, { lang = ["ar"] } ] }')
        + rule("not", '{ not = { signal = "wt" } }')
        + rule("nested", '{ all = [ { signal = "wt" }, { not = { any = [ { lang = ["en"] }, { signal = "ld" } ] } } ] }')
    )
    assert names(e.decide_facts(F(), [hit("wt", "a"), hit("ld", "b")])) == ["all", "any"]
    assert names(e.decide_facts(F(), [hit("wt", "a")])) == ["any", "nested"]
    assert names(e.decide_facts(F(lang="en"), [hit("wt", "a")])) == ["any"]
    assert names(e.decide_facts(F(lang="ar"), [])) == ["any", "not"]
    assert names(e.decide_facts(F(), [])) == ["not"]  # rules that need no hit still run without hits


def test_types_restrict_rules():
    e = engine(rule("posts", '{ signal = "wt" }', types=["post", "account"]) + rule("all-types", '{ signal = "wt" }'))
    assert names(e.decide_facts(F("post"), [hit("wt", "a")])) == ["posts", "all-types"]
    assert names(e.decide_facts(F("account"), [hit("wt", "a")])) == ["posts", "all-types"]
    assert names(e.decide_facts(F("report"), [hit("wt", "a")])) == ["all-types"]


# --- combining matches -------------------------------------------------------------------------


def test_severity_actions_and_labels():
    e = engine(
        rule("esc", '{ signal = "a" }', "escalate", labels=["threat"])
        + rule("lab", '{ signal = "b" }', "label", labels=["link", "threat"])
        + rule("rem", '{ signal = "c" }', "remove", labels=["propaganda"])
        + rule("q", '{ signal = "d" }', "queue", queue="review")
        + rule("ok", '{ signal = "e" }', "allow")
        + rule("rem2", '{ signal = "c" }', "remove")
    )
    d = e.decide_facts(F(), [hit(s, "x") for s in "abcde"])
    assert d.verdict == "escalate"
    assert d.actions == ["queue", "remove", "escalate"]  # distinct, by severity, no allow/label
    assert d.labels == ["threat", "link", "propaganda"]
    assert d.rules == ["esc", "lab", "rem", "q", "ok", "rem2"]
    assert e.decide_facts(F(), [hit("b", "x")]).verdict == "label"
    assert e.decide_facts(F(), [hit("b", "x")]).actions == []
    assert e.decide_facts(F(), [hit("e", "x")]).verdict == "allow"
    d = e.decide_facts(F(), [])
    assert (d.verdict, d.actions, d.queue, d.priority, d.labels, d.matched, d.shadow) == (
        "allow", [], None, 0, [], [], []
    )


def test_queue_and_priority_selection():
    e = engine(
        rule("q-low", '{ signal = "a" }', "queue", queue="low", priority=10)
        + rule("q-high", '{ signal = "b" }', "queue", queue="high", priority=90)
        + rule("rem-unrouted", '{ signal = "c" }', "remove", priority=100)  # no queue: acts, routes nowhere
        + rule("esc", '{ signal = "d" }', "escalate", priority=90)
        + rule("q-tie", '{ signal = "e" }', "queue", queue="tie", priority=10)
        + rule("rem-confirm", '{ signal = "f" }', "remove", queue="confirm", priority=10)
    )
    d = e.decide_facts(F(), [hit("a", "x"), hit("b", "x"), hit("c", "x")])
    assert (d.verdict, d.queue, d.priority) == ("remove", "high", 90)
    d = e.decide_facts(F(), [hit("c", "x")])
    assert (d.verdict, d.actions, d.queue, d.priority) == ("remove", ["remove"], None, 0)
    # equal priority: the more severe verdict's queue wins (escalate defaults to "security")
    d = e.decide_facts(F(), [hit("b", "x"), hit("d", "x")])
    assert (d.queue, d.priority) == ("security", 90)
    # equal priority and severity: the earlier rule wins
    d = e.decide_facts(F(), [hit("e", "x"), hit("a", "x")])
    assert d.queue == "low"
    d = e.decide_facts(F(), [hit("a", "x"), hit("f", "x")])
    assert (d.verdict, d.queue) == ("remove", "confirm")


def test_shadow_rules_are_recorded_never_enforced():
    e = engine(
        rule("trial", '{ signal = "wt" }', "suspend", queue="evasion", priority=99, labels=["x"], shadow=True, final=True)
        + rule("live", '{ signal = "wt" }', "queue", queue="review", priority=40)
    )
    d = e.decide_facts(F(), [hit("wt", "a", 0.7)])
    assert (d.verdict, d.actions, d.queue, d.priority, d.labels) == ("queue", ["queue"], "review", 40, [])
    assert d.rules == ["live"]  # a shadow rule's `final` does not stop evaluation
    (s,) = d.shadow
    assert (s.rule, s.verdict, s.queue, s.priority, s.labels, s.shadow) == ("trial", "suspend", "evasion", 99, ["x"], True)
    assert s.evidence[0].score == 0.7
    d = engine(rule("trial", '{ signal = "wt" }', "remove", shadow=True)).decide_facts(F(), [hit("wt", "a")])
    assert (d.verdict, d.matched, [m.rule for m in d.shadow]) == ("allow", [], ["trial"])


def test_final_stops_evaluation_and_allow_lists():
    e = engine(
        rule("before", '{ signal = "ld" }', "label", labels=["link"])
        + rule("trusted-news", '{ account = ["bbc", "reuters"] }', "allow", final=True)
        + rule("slogan", '{ signal = "wt" }', "queue", queue="extremism")
        + rule("shadow-after", '{ signal = "wt" }', "remove", shadow=True)
    )
    hits = [hit("wt", "slogan"), hit("ld", "file_locker")]
    d = e.decide_facts(F(account_id="bbc"), hits)
    assert (d.verdict, d.actions, d.queue) == ("label", [], None)
    assert d.rules == ["before", "trusted-news"]  # rules above the allow-list still apply
    assert d.shadow == []  # nothing after a final match is evaluated, shadow rules included
    d = e.decide_facts(F(account_id="someone"), hits)
    assert (d.verdict, d.rules, [m.rule for m in d.shadow]) == ("queue", ["before", "slogan"], ["shadow-after"])


def test_final_on_a_non_allow_rule():
    e = engine(
        rule("first", '{ signal = "a" }', "remove", queue="confirm", final=True)
        + rule("second", '{ signal = "a" }', "escalate")
    )
    d = e.decide_facts(F(), [hit("a", "x")])
    assert (d.verdict, d.rules, d.queue) == ("remove", ["first"], "confirm")


# --- evidence ------------------------------------------------------------------------------------


def test_evidence_names_hits_leaves_and_predicates():
    e = engine(
        rule(
            "combo",
            '{ all = [ { signal = "wt", labels = ["slogan", "hashtag"] }, '
            '{ any = [ { signal = "ld", label = "file_locker" }, { lang = ["ar"] }, { signal = "zz" } ] }, '
            '{ not = { signal = "ld", label = "news" } } ] }',
        )
    )
    hits = [hit("wt", "slogan", 0.9, term="baqiya"), hit("wt", "hashtag", 0.6), hit("ld", "file_locker", 1.0, domain="justpaste.it"), hit("wt", "slogan", 0.0)]
    (m,) = e.decide_facts(F(lang="ar"), hits).matched
    got = [(ev.path, ev.signal, ev.label, ev.score, ev.predicate, ev.value) for ev in m.evidence]
    assert got == [
        ("when.all[0]", "wt", "slogan", 0.9, None, None),
        ("when.all[0]", "wt", "hashtag", 0.6, None, None),
        ("when.all[1].any[0]", "ld", "file_locker", 1.0, None, None),  # every branch of an any that held
        ("when.all[1].any[1]", None, None, None, "lang", "ar"),
    ]
    assert m.evidence[0].as_dict() == {
        "path": "when.all[0]", "signal": "wt", "version": "1", "label": "slogan", "score": 0.9, "detail": {"term": "baqiya"}
    }
    assert m.evidence[3].as_dict() == {"path": "when.all[1].any[1]", "predicate": "lang", "value": "ar"}


def test_as_dict_is_json_ready():
    e = engine(rule("q", '{ signal = "wt" }', "queue", queue="review", labels=["l"]) + rule("s", '{ signal = "wt" }', "remove", shadow=True))
    d = e.decide_facts(F(), [hit("wt", "slogan", term="x")])
    data = orjson.loads(orjson.dumps(d.as_dict()))
    assert data["verdict"] == "queue" and data["queue"] == "review" and data["priority"] == 50
    assert data["matched"][0]["rule"] == "q" and data["matched"][0]["evidence"][0]["detail"] == {"term": "x"}
    assert data["shadow"][0]["rule"] == "s" and data["shadow"][0]["shadow"] is True


# --- Items, batches and loading -----------------------------------------------------------------


def post(id: str = "1", account: str = "a1", media: bool = False, urls: int = 0, lang: str | None = None) -> Item:
    ev = PostEvent(id=id, account_id=account, text="t", created_at=NOW,
                   media=[MediaRef(kind="image", url="https://x/y.jpg")] if media else [])
    return Item(ev, ev.key(), 0.0, lang=lang, urls=[CanonicalUrl("u", "u", "d")] * urls)


def test_item_facts_from_events():
    f = ItemFacts(post(media=True, urls=1, lang="ar"))
    assert (f.event_type, f.lang, f.has_links, f.has_media, f.report_reason, f.account_id) == (
        "post", "ar", True, True, None, "a1"
    )
    rep = ReportEvent(target_type="post", target_id="9", reason="Violent Threat", reporter_id="r1", at=NOW)
    f = ItemFacts(Item(rep, rep.key(), 0.0))
    assert (f.event_type, f.report_reason, f.account_id, f.has_media, f.has_links) == ("report", "violent_threat", "r1", False, False)
    acct = AccountEvent(id="u1", handle="h", created_at=NOW, avatar=MediaRef(kind="image"), links=["https://a.b"])
    f = ItemFacts(Item(acct, acct.key(), 0.0))
    assert (f.account_id, f.has_media, f.has_links) == ("u1", True, True)
    fol = FollowEvent(follower_id="f1", followee_id="f2", at=NOW)
    assert ItemFacts(Item(fol, fol.key(), 0.0)).account_id == "f1"
    enf = EnforcementEvent(action="suspend", account_id="s1", at=NOW)
    assert ItemFacts(Item(enf, enf.key(), 0.0)).account_id == "s1"


def test_decide_and_decide_batch_on_items():
    e = engine(
        rule("media-threat", '{ all = [ { has_media = true }, { signal = "wt", label = "threat" } ] }', "queue", queue="threats")
        + rule("ar-links", '{ all = [ { lang = ["ar"] }, { has_links = true } ] }')
    )
    items = [post("1", media=True), post("2", urls=2, lang="ar"), post("3")]
    hits = [[hit("wt", "threat")], [], [hit("wt", "threat")]]
    ds = e.decide_batch(items, hits)
    assert [d.verdict for d in ds] == ["queue", "label", "allow"]
    assert [d.as_dict() for d in ds] == [e.decide(i, h).as_dict() for i, h in zip(items, hits)]
    assert e.decide_batch([], []) == []
    with pytest.raises(ValueError, match="2 items but 1 hit lists"):
        e.decide_batch(items[:2], hits[:1])


def test_engine_refuses_rules_naming_unknown_signals(tmp_path):
    rs = parse_rules("version = 1\n" + rule("r", '{ signal = "watchterm" }'))
    with pytest.raises(RulesError, match='unknown signal "watchterm"'):
        PolicyEngine(rs, {"watchterms": None})
    PolicyEngine(rs, {"watchterm": None})
    p = tmp_path / "r.toml"
    p.write_text("version = 1\n" + rule("r", '{ signal = "wt", label = "nope" }'))
    with pytest.raises(RulesError, match='signal "wt" has no label "nope"'):
        PolicyEngine.from_file(p, {"wt": {"yes"}})


# --- the shipped defaults on typical events ------------------------------------------------------


@pytest.fixture(scope="module")
def default_engine() -> PolicyEngine:
    return PolicyEngine(
        load_rules(default_rules_path()),
        {
            "watchterms": {"terrorist_slogan", "terrorist_hashtag", "violent_threat", "incitement"},
            "linkdomain": {"file_locker", "paste_site", "anonymous_upload", "url_shortener"},
            "classifier": {"threat", "extremism"},
            "targets": {"person", "organisation", "group", "place"},
            "hashbank": None,
            "campaign": {"campaign", "coordinated", "crisis"},
            "account_link": {"returning_account"},
        },
    )


def test_defaults_keyword_alone_is_queued_not_removed(default_engine):
    d = default_engine.decide(post(), [hit("watchterms", "terrorist_slogan", 1.0)])
    assert (d.verdict, d.actions, d.queue) == ("queue", ["queue"], "extremism")


def test_defaults_slogan_plus_file_locker_is_removed_and_confirmed(default_engine):
    d = default_engine.decide(
        post(urls=1), [hit("watchterms", "terrorist_hashtag", 1.0), hit("linkdomain", "file_locker", 1.0)]
    )
    assert d.verdict == "remove" and d.actions == ["queue", "remove"]
    assert (d.queue, d.priority) == ("extremism", 90)
    assert "terrorist-content" in d.labels and "upload-link" in d.labels
    assert [m.rule for m in d.shadow] == ["terrorist-hashtag-autoremove"]


def test_defaults_threats_reports_links_and_shadow(default_engine):
    d = default_engine.decide(post(), [hit("watchterms", "violent_threat", 0.8)])
    assert (d.verdict, d.queue, d.priority) == ("queue", "threats", 85)
    rep = ReportEvent(target_type="post", target_id="9", reason="Violence", at=NOW)
    d = default_engine.decide(Item(rep, rep.key(), 0.0), [])
    assert (d.verdict, d.queue) == ("queue", "reports")
    spam = ReportEvent(target_type="post", target_id="9", reason="spam", at=NOW)
    assert default_engine.decide(Item(spam, spam.key(), 0.0), []).verdict == "allow"
    # a report quoting a slogan does not action the reporter
    assert default_engine.decide(Item(spam, spam.key(), 0.0), [hit("watchterms", "terrorist_slogan")]).verdict == "allow"
    d = default_engine.decide(post(urls=1), [hit("linkdomain", "file_locker")])
    assert (d.verdict, d.actions, d.labels) == ("label", [], ["upload-link"])
    assert default_engine.decide(post(urls=1), [hit("linkdomain", "url_shortener")]).verdict == "allow"
    d = default_engine.decide(post(), [hit("watchterms", "terrorist_hashtag", 0.95)])
    assert (d.verdict, d.queue) == ("queue", "extremism")  # the remove-on-hashtag trial stays in shadow
    assert [m.rule for m in d.shadow] == ["terrorist-hashtag-autoremove"]


# --- property: shadow rules never change enforcement ---------------------------------------------

SIGNALS = {"wt": ["slogan", "threat"], "ld": ["locker", "paste"]}
score = st.sampled_from([0.0, 0.2, 0.5, 0.8, 1.0])


def leaves() -> st.SearchStrategy:
    sig = st.sampled_from(sorted(SIGNALS)).flatmap(
        lambda s: st.builds(
            SignalCond,
            signal=st.just(s),
            label=st.none() | st.sampled_from(SIGNALS[s]),
            min_score=st.none() | score,
        )
    )
    return st.one_of(
        sig,
        sig,
        st.builds(LangCond, lang=st.lists(st.sampled_from(["en", "ar"]), min_size=1, max_size=2)),
        st.builds(HasLinksCond, has_links=st.booleans()),
        st.builds(HasMediaCond, has_media=st.booleans()),
        st.builds(ReportReasonCond, report_reason=st.just(["violence"])),
        st.builds(AccountCond, account=st.just(["a1"])),
    )


conditions = st.recursive(
    leaves(),
    lambda inner: st.one_of(
        st.builds(lambda cs: AllOf(tuple(cs)), st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda cs: AnyOf(tuple(cs)), st.lists(inner, min_size=1, max_size=3)),
        st.builds(NotCond, inner),
    ),
    max_leaves=6,
)


@st.composite
def rules_st(draw, n: int) -> Rule:
    verdict = draw(st.sampled_from(["allow", "label", "queue", "remove", "suspend", "escalate"]))
    queue = None
    if verdict == "queue":
        queue = draw(st.sampled_from(["q1", "q2"]))
    elif verdict in ("remove", "suspend", "escalate"):
        queue = draw(st.none() | st.sampled_from(["q1", "q2"]))
    return Rule(
        name=f"r{n}",
        verdict=verdict,
        when=draw(conditions),
        types=draw(st.none() | st.just(("post",)) | st.just(("report",))),
        queue=queue,
        priority=draw(st.integers(0, 100)),
        labels=tuple(draw(st.lists(st.sampled_from(["x", "y", "z"]), max_size=2))) if verdict != "allow" else (),
        shadow=draw(st.booleans().map(lambda b: b and n % 3 == 0)),  # some originals are shadow already
        final=draw(st.booleans().map(lambda b: b and n % 2 == 0)),
    )


ruleset_st = st.integers(1, 8).flatmap(lambda k: st.tuples(*[rules_st(i) for i in range(k)]))
hits_st = st.lists(
    st.sampled_from(sorted(SIGNALS)).flatmap(
        lambda s: st.builds(hit, st.just(s), st.sampled_from(SIGNALS[s] + ["other"]), score)
    ),
    max_size=4,
)
facts_st = st.builds(
    F,
    event_type=st.sampled_from(["post", "report", "account"]),
    lang=st.none() | st.sampled_from(["en", "ar"]),
    has_links=st.booleans(),
    has_media=st.booleans(),
    report_reason=st.none() | st.just("violence"),
    account_id=st.none() | st.just("a1"),
)


def enforced_view(d: Decision) -> dict:
    data = d.as_dict()
    data.pop("shadow")
    return data


@settings(max_examples=150, deadline=None)
@given(
    rules=ruleset_st,
    copies=st.lists(st.tuples(st.integers(0, 100), st.integers(0, 100), st.booleans()), max_size=4),
    events=st.lists(st.tuples(facts_st, hits_st), min_size=1, max_size=5),
)
def test_shadow_copies_never_change_enforcement(rules, copies, events):
    base = list(rules)
    augmented = list(rules)
    for src, pos, final in copies:
        # A shadow copy of a random rule, anywhere in the file, final or not.
        original = base[src % len(base)]
        copy = dataclasses.replace(original, name=f"{original.name}-shadow{pos}", shadow=True, final=final)
        augmented.insert(pos % (len(augmented) + 1), copy)
    e1, e2 = PolicyEngine(RuleSet(tuple(base))), PolicyEngine(RuleSet(tuple(augmented)))
    for facts, hits in events:
        d1, d2 = e1.decide_facts(facts, hits), e2.decide_facts(facts, hits)
        assert enforced_view(d1) == enforced_view(d2)
        # and what shadow rules add is recorded as shadow, with their own names
        assert {m.rule for m in d1.shadow} <= {m.rule for m in d2.shadow}
        assert all(m.shadow for m in d2.shadow)
