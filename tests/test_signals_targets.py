"""The protected-targets watchlist signal: loading, matching, and a threat escalating end to end."""

from __future__ import annotations

import logging
import tomllib
from datetime import datetime, timezone
from pathlib import Path

import pytest
from pydantic import ValidationError

from seawall.events import AccountEvent, PostEvent
from seawall.normalize import Item, Normalizer
from seawall.policy import PolicyEngine, parse_rules
from seawall.signals import targets as targets_module
from seawall.signals.classifier import ClassifierSignal
from seawall.signals.lists import ListError, resolve_list_path
from seawall.signals.targets import KINDS, TargetsSettings, TargetsSignal, load_target_lists
from seawall.signals.watchterms import WatchTermsSignal

NOW = datetime(2015, 6, 1, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def normalizer() -> Normalizer:
    return Normalizer()


@pytest.fixture(scope="module")
def example() -> TargetsSignal:
    return TargetsSignal()


def post(text: str, i: int = 0, **kw) -> Item:
    ev = PostEvent(id=str(i), account_id="a", text=text, created_at=NOW, **kw)
    return Item(event=ev, key=ev.key(), received_at=0.0)


def items_for(normalizer: Normalizer, *texts: str, **kw) -> list[Item]:
    items = [post(t, i, **kw) for i, t in enumerate(texts)]
    normalizer.normalize_batch(items)
    return items


def found(signal: TargetsSignal, normalizer: Normalizer, text: str, **kw) -> dict[str, object]:
    """target id -> hit, for one post."""
    (hits,) = signal.evaluate(items_for(normalizer, text, **kw))
    return {h.evidence["target"]: h for h in hits}


def signal_from(tmp_path: Path, body: str, name: str = "targets.toml", **settings) -> TargetsSignal:
    p = tmp_path / name
    p.write_text(body, encoding="utf-8")
    return TargetsSignal(TargetsSettings(lists=[str(p)], **settings))


def load_errors(tmp_path: Path, body: str, name: str = "t.toml") -> list[str]:
    p = tmp_path / name
    p.write_text(body, encoding="utf-8")
    with pytest.raises(ListError) as exc:
        load_target_lists([str(p)])
    return exc.value.errors


# --- the shipped example ---------------------------------------------------------------------


def test_example_list_loads_and_is_marked_fictional(example):
    ids = {t.id for t in example.targets}
    assert {"example-social", "example-ceo", "example-staff", "example-hq"} <= ids
    assert {t.kind for t in example.targets} == set(KINDS)
    assert example.example is True
    assert example.labels() == set(KINDS)
    assert example.name == "targets" and example.version == "1"
    s = TargetsSettings()
    assert s.enabled is True and s.lists == ["builtin:targets.toml"]


def test_example_warning_is_logged_once(caplog):
    targets_module._warned_example = False
    with caplog.at_level(logging.WARNING, logger="seawall.signals.targets"):
        TargetsSignal()
        TargetsSignal()
    warnings = [r for r in caplog.records if "example watchlist" in r.getMessage()]
    assert len(warnings) == 1 and "docs/targets.md" in warnings[0].getMessage()


def test_every_alias_of_the_example_matches_in_a_sentence(normalizer, example):
    """Each alias, written plainly inside Latin, Arabic and Cyrillic sentences, finds its target."""
    frames = ["we are talking about {} today", "هذا عن {} اليوم", "это про {} сегодня"]
    data = tomllib.loads(resolve_list_path("builtin:targets.toml").read_text(encoding="utf-8"))
    for t in data["targets"]:
        for alias in t.get("aliases", []) + t.get("partial_aliases", []):
            for frame in frames:
                hits = found(example, normalizer, frame.format(alias))
                assert t["id"] in hits, (alias, frame)
        for alias in t.get("requires_context", []):
            alone = found(example, normalizer, frames[0].format(alias))
            assert t["id"] not in alone, alias  # an ambiguous word alone is no reference
            if "example-social" in t.get("context", []):
                hits = found(example, normalizer, frames[0].format(alias) + " at Example Social")
                assert t["id"] in hits, alias


# --- scripts, transliterations, obfuscation ---------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Dana Quillmere",
        "دانا كويلمير",  # Arabic script
        "Дана Квиллмир",  # Cyrillic script
        "DANA QUILLMERE!!!",
        "D4na Qu1llm3re",  # leetspeak
        "Dаnа Quіllmere",  # Cyrillic а, і inside Latin words
        "Da\u200bna Quill\u200cmere",  # zero-width characters
        "𝐃𝐚𝐧𝐚 𝐐𝐮𝐢𝐥𝐥𝐦𝐞𝐫𝐞",  # mathematical bold
        "Ｄａｎａ Ｑｕｉｌｌｍｅｒｅ",  # fullwidth
        "D a n a Q u i l l m e r e",  # letter-spaced
        "#DanaQuillmere",  # words joined in a hashtag
        "Dana   Quiiillmere",  # repeated letters
        "دانـــا كُويلمير",  # tatweel, harakat
        "لدانا كويلمير",  # Arabic proclitic li- (for)
        "Dána Quíllmère",  # accents
        "Dana Quillmere's",  # possessive
    ],
)
def test_ceo_full_name_matches_in_any_spelling(normalizer, example, text):
    hits = found(example, normalizer, f"a message for {text} tonight")
    assert "example-ceo" in hits
    assert hits["example-ceo"].score == 1.0
    assert hits["example-ceo"].label == "person"


@pytest.mark.parametrize(
    "text,target",
    [
        ("Kareem Zahrawen", "example-safety-lead"),
        ("Karim Zahraouen", "example-safety-lead"),  # French transliteration
        ("كريم زهراوين", "example-safety-lead"),
        ("Карим Захравен", "example-safety-lead"),
        ("Ilja Morwanow", "example-cto"),  # German transliteration
        ("Илья Морванов", "example-cto"),
        ("Морванов", "example-cto"),  # all look-alike letters: folded to Latin inside this Latin post
        ("إيليا مورفانوف", "example-cto"),
        ("أكزامبل سوشال", "example-social"),  # hamza on the alef: unified
        ("إكزامبل سوشيال", "example-social"),  # second Arabic spelling
        ("Экзампл Соушл", "example-social"),
        ("وموظفي اكزامبل سوشال", "example-staff"),  # wa- (and) attached
        ("برج اكزامبل", "example-dubai-office"),
        ("Харборлайн Хаус", "example-hq"),
    ],
)
def test_transliterations_and_scripts(normalizer, example, text, target):
    assert target in found(example, normalizer, f"look at {text} now")


def test_partial_aliases_score_lower(normalizer, example):
    hits = found(example, normalizer, "Мы придём за Морвановым")  # instrumental case, listed
    assert hits["example-cto"].score == 0.6
    assert hits["example-cto"].evidence["matched"][0]["ref"] == "partial"
    hits = found(example, normalizer, "I will find your moderators")
    assert hits["example-staff"].score == 0.7  # the group's own partial_score


# --- word boundaries ---------------------------------------------------------------------------

BOUNDARY_LIST = """
version = 1
[[targets]]
id = "ceo"
kind = "person"
name = "The CEO"
partial_aliases = ["ceo", "Quillmere", "كويلمير"]
"""


@pytest.mark.parametrize(
    "text,hit",
    [
        ("the ceo", True),
        ("the CEO's car", True),  # possessive (the skeleton drops the apostrophe: "ceos")
        ("the CEO’s car", True),
        ("all the CEOs", True),  # plural
        ("ceoing all day", False),
        ("preceo", False),
        ("ceosomething", False),
        ("the c.e.o", True),
        ("Quillmereland", False),
        ("a Quillmere fan", True),
        ("#Quillmere", True),
        ("وكويلمير", True),  # proclitic wa-
        ("كويلميرهم", True),  # enclitic -hum
        ("كويلميرس", False),  # not a clitic: another word
        ("مكويلمير", False),  # not a proclitic
    ],
)
def test_word_boundaries(normalizer, tmp_path, text, hit):
    sig = signal_from(tmp_path, BOUNDARY_LIST)
    assert ("ceo" in found(sig, normalizer, text)) is hit


# --- handles and mentions ----------------------------------------------------------------------


def test_protected_handle_mention_is_a_strong_reference(normalizer, example):
    hits = found(example, normalizer, "watch your back @Example_CEO")
    h = hits["example-ceo"]
    assert h.score == 1.0
    m = h.evidence["matched"][0]
    assert m == {"alias": "@example_ceo", "field": "mentions", "excerpt": "@example_ceo", "score": 1.0, "ref": "handle"}


def test_mention_listed_by_the_event_but_not_in_text(normalizer, example):
    hits = found(example, normalizer, "you are next", mentions=["danaquillmere"])
    assert hits["example-ceo"].score == 1.0


def test_lookalike_handle(normalizer, example):
    hits = found(example, normalizer, "watch your back @examp1e_ce0")
    h = hits["example-ceo"]
    assert h.score == 0.9 and h.evidence["matched"][0]["ref"] == "lookalike_handle"


def test_email_and_other_handles_do_not_match(normalizer, example):
    assert found(example, normalizer, "write to bob@example_ceo.com") == {}
    assert found(example, normalizer, "hi @example_ceo_fan") == {}


def test_atproto_mentioned_did(normalizer, example):
    hits = found(example, normalizer, "you are next", attributes={"mention_dids": ["did:plc:exampleceo00000000000000"]})
    assert hits["example-ceo"].evidence["matched"][0]["field"] == "mention_dids"


def test_hashtag_listed_by_the_event(normalizer, example):
    hits = found(example, normalizer, "no tag in the text", hashtags=["Example_Social_Staff"])
    assert hits["example-staff"].evidence["matched"][0]["field"] == "hashtags"


# --- requires_context ----------------------------------------------------------------------------


def test_requires_context_alone_is_not_a_reference(normalizer, example):
    assert "example-ceo" not in found(example, normalizer, "Dana, I know where you live")
    assert "example-ceo" not in found(example, normalizer, "Дана, я знаю где ты живёшь")


def test_requires_context_counts_with_another_reference_to_the_target(normalizer, example):
    h = found(example, normalizer, "Dana, I know where you live, Quillmere")["example-ceo"]
    assert h.score == 0.6  # the strongest counted reference
    assert {m["ref"] for m in h.evidence["matched"]} == {"partial", "context"}
    assert "context" not in h.evidence  # named directly, not through another target


def test_requires_context_counts_with_a_context_target(normalizer, example):
    hits = found(example, normalizer, "Dana from Example Social is next")
    h = hits["example-ceo"]
    assert h.score == 0.4 and h.evidence["context"] == ["example-social"]
    assert hits["example-social"].score == 1.0


def test_requires_context_ignores_unrelated_targets(normalizer, example):
    # Ilya Morvanov is protected, but he is not listed as context for the CEO's first name.
    assert "example-ceo" not in found(example, normalizer, "Dana and Ilya Morvanov")


def test_a_reference_inside_a_longer_one_is_not_counted_twice(normalizer, example):
    hits = found(example, normalizer, "Example Social staff will pay")
    assert set(hits) == {"example-staff"}  # not also the organisation
    assert "example-ceo" in found(example, normalizer, "the Example Social CEO")


def test_account_profile_impersonation(normalizer, example):
    ev = AccountEvent(id="u1", handle="dana_quillmere_real", display_name="Dana Quillmere", created_at=NOW)
    item = Item(event=ev, key=ev.key(), received_at=0.0)
    normalizer.normalize_batch([item])
    (hits,) = example.evaluate([item])
    assert {m["field"] for m in hits[0].evidence["matched"]} == {"handle", "display_name"}


def test_evidence_shape(normalizer, example):
    h = found(example, normalizer, "I will burn Harbourline House down")["example-hq"]
    assert h.signal == "targets" and h.label == "place" and h.score == 1.0
    ev = h.evidence
    assert ev["target"] == "example-hq" and ev["kind"] == "place" and ev["severity"] == "high"
    assert ev["name"].startswith("Example Social headquarters")
    assert ev["example"] is True and ev["list"] == "targets.toml"
    assert ev["matched"][0]["alias"] == "Harbourline House"
    assert "harbourline house" in ev["matched"][0]["excerpt"]


def test_no_text_no_hits(normalizer, example):
    assert example.evaluate(items_for(normalizer, "", "ordinary post about the weather")) == [[], []]


# --- settings -------------------------------------------------------------------------------------

SMALL = """
version = 1
[[targets]]
id = "acme"
kind = "organisation"
name = "Acme"
aliases = ["Acme Widgets", "Acme Corp", "Acme Industries"]
partial_aliases = ["Acme"]
"""


def test_min_score_and_max_matches(normalizer, tmp_path):
    text = "Acme Widgets, Acme Corp and Acme Industries"
    sig = signal_from(tmp_path, SMALL, max_matches=2)
    assert len(found(sig, normalizer, text)["acme"].evidence["matched"]) == 2
    sig = signal_from(tmp_path, SMALL, min_score=0.7)
    assert found(sig, normalizer, "Acme") == {}
    assert found(sig, normalizer, "Acme Corp")["acme"].score == 1.0


def test_settings_are_validated():
    with pytest.raises(ValidationError):
        TargetsSettings(list=["x"])  # misspelt key
    with pytest.raises(ValidationError):
        TargetsSettings(min_score=2)
    assert TargetsSettings(enabled=False).enabled is False


def test_several_lists(normalizer, tmp_path):
    (tmp_path / "ours.toml").write_text(SMALL, encoding="utf-8")
    sig = TargetsSignal(TargetsSettings(lists=["builtin:targets.toml", str(tmp_path / "ours.toml")]))
    assert sig.example is False  # not every list is the example
    hits = found(sig, normalizer, "Acme Corp and Example Social")
    assert {"acme", "example-social"} == set(hits)
    assert "example" not in hits["acme"].evidence


# --- errors ------------------------------------------------------------------------------------


def test_toml_syntax_error_has_line(tmp_path):
    errors = load_errors(tmp_path, 'version = 1\n[[targets]]\nid = "x\n')
    assert len(errors) == 1 and errors[0].startswith("t.toml:3: TOML syntax error")


def test_field_errors_name_file_line_target_and_field(tmp_path):
    body = """version = 1

[[targets]]
id = "ceo"
kind = "persn"
name = "The CEO"
aliases = ["Dana Quillmere"]

[[targets]]
id = "office"
kind = "place"
name = "Office"
aliases = [
  "Harbourline House",
  "!",
]
partial_score = 1.5

[[targets]]
kind = "group"
name = "Staff"
alias = ["staff"]
"""
    errors = load_errors(tmp_path, body)
    assert (
        't.toml:5: target 1 "ceo": kind: "persn" is not one of person, organisation, group, place'
        ' (did you mean "person"?)'
    ) in errors
    assert any(e.startswith('t.toml:15: target 2 "office": aliases: \'!\' normalises to') for e in errors), errors
    assert any(e.startswith('t.toml:17: target 2 "office": partial_score: 1.5 is out of range') for e in errors), errors
    assert 't.toml:19: target 3: missing required key "id"' in errors
    assert 't.toml:22: target 3: unknown key "alias" (did you mean "aliases"?)' in errors


def test_target_without_anything_to_match(tmp_path):
    body = 'version = 1\n[[targets]]\nid = "x"\nkind = "person"\nname = "X"\nrequires_context = ["Dana"]\n'
    errors = load_errors(tmp_path, body)
    assert len(errors) == 1 and errors[0].startswith('t.toml:2: target 1 "x": nothing to match')


def test_top_level_errors(tmp_path):
    body = 'verison = 1\n[[targets]]\nid = "x"\nkind = "place"\nname = "X"\naliases = ["Xville"]\n'
    errors = load_errors(tmp_path, body)
    assert 't.toml:1: unknown key "verison" (did you mean "version"?)' in errors
    assert any('missing required key "version"' in e for e in errors)
    errors = load_errors(tmp_path, "version = 2\n")
    assert errors == ["t.toml:1: version: 2 is not supported (this Seawall reads version 1)"]


def test_wrong_types_and_bad_handles(tmp_path):
    body = 'version = 1\n[[targets]]\nid = "x"\nkind = "person"\nname = "X"\naliases = "Xavier"\nhandles = ["@a b"]\n'
    errors = load_errors(tmp_path, body)
    assert errors == [  # every problem of the table at once, in line order
        't.toml:6: target 1 "x": aliases: expected a list, got "Xavier"',
        't.toml:7: target 1 "x": handles: \'@a b\' is not a handle',
    ]


def test_duplicate_ids_and_unknown_context_across_files(tmp_path):
    (tmp_path / "a.toml").write_text(SMALL, encoding="utf-8")
    (tmp_path / "b.toml").write_text(SMALL.replace('partial_aliases = ["Acme"]', 'context = ["acmee"]'),
                                     encoding="utf-8")
    with pytest.raises(ListError) as exc:
        load_target_lists([str(tmp_path / "a.toml"), str(tmp_path / "b.toml")])
    assert exc.value.errors == [
        'b.toml:3: target "acme": id already used at a.toml:3',
        'b.toml:3: target "acme": context: no target with id "acmee" (did you mean "acme"?)',
    ]


def test_missing_list_file(tmp_path):
    with pytest.raises(ListError) as exc:
        TargetsSignal(TargetsSettings(lists=[str(tmp_path / "nope.toml")]))
    assert "nope.toml: cannot read list" in exc.value.errors[0]


# --- end to end: a threat naming a protected target escalates ------------------------------------

RULES = """
version = 1

[[rules]]
name = "threat-to-protected-target"
types = ["post", "account"]
verdict = "escalate"
priority = 100
labels = ["targeted-threat"]
[rules.when]
all = [
  { any = [
      { signal = "classifier", label = "threat", min_score = 0.5 },
      { signal = "watchterms", label = "violent_threat" },
  ] },
  { signal = "targets" },
]
"""


def test_threat_naming_a_protected_target_escalates(normalizer, example):
    signals = [WatchTermsSignal(), ClassifierSignal(), example]
    engine = PolicyEngine(parse_rules(RULES), known_signals={s.name: s.labels() for s in signals})
    texts = [
        "I will kill you @example_ceo",
        "great interview with the Example Social CEO",
        "I will kill this workout",
        "someone should put a bomb in Harbourline House",
    ]
    items = items_for(normalizer, *texts)
    per_signal = [s.evaluate(items) for s in signals]
    hits = [[h for hs in per_signal for h in hs[i]] for i in range(len(items))]
    decisions = engine.decide_batch(items, hits)

    threat, interview, workout, bomb = decisions
    assert threat.verdict == "escalate" and threat.queue == "security" and threat.priority == 100
    assert threat.labels == ["targeted-threat"]
    evidence = [e.as_dict() for e in threat.matched[0].evidence]
    target_ev = [e for e in evidence if e["signal"] == "targets"]
    assert target_ev[0]["detail"]["target"] == "example-ceo"
    assert target_ev[0]["detail"]["name"].startswith("Dana Quillmere")
    threat_ev = [e for e in evidence if e["signal"] in ("watchterms", "classifier")]
    assert threat_ev  # which words made it a threat
    words = [m["pattern"] for e in threat_ev if e["signal"] == "watchterms" for m in e["detail"]["matches"]]
    assert "i will kill you" in words

    assert interview.verdict == "allow"  # names the CEO, but no threat
    assert workout.verdict == "allow"  # "threat"-like words, but no protected target
    assert bomb.verdict == "escalate"  # the classifier alone, naming a protected place
    place = [e.hit for e in bomb.matched[0].evidence if e.signal == "targets"]
    assert place[0].label == "place" and place[0].evidence["target"] == "example-hq"
