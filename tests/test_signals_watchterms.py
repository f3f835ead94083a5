"""The watch-terms signal and the list loader."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.events import AccountEvent, PostEvent
from seawall.normalize import Item, Normalizer
from seawall.signals.lists import ListError, load_watch_lists
from seawall.signals.watchterms import WatchTermsSettings, WatchTermsSignal

NOW = datetime(2015, 6, 1, tzinfo=timezone.utc)
HEADER = "kind,pattern,category,weight,lang,note\n"


@pytest.fixture(scope="module")
def normalizer() -> Normalizer:
    return Normalizer()


@pytest.fixture(scope="module")
def default_signal() -> WatchTermsSignal:
    return WatchTermsSignal()


def signal_from(tmp_path: Path, body: str, name: str = "list.csv") -> WatchTermsSignal:
    p = tmp_path / name
    p.write_text(HEADER + body, encoding="utf-8")
    return WatchTermsSignal(WatchTermsSettings(lists=[str(p)]))


def items_for(normalizer: Normalizer, *texts: str, hashtags: list[str] | None = None) -> list[Item]:
    items = []
    for i, t in enumerate(texts):
        ev = PostEvent(id=str(i), account_id="a", text=t, hashtags=hashtags or [], created_at=NOW)
        items.append(Item(event=ev, key=ev.key(), received_at=0.0))
    normalizer.normalize_batch(items)
    return items


def labels(signal: WatchTermsSignal, items: list[Item]) -> list[set[str]]:
    return [{h.label for h in hits} for hits in signal.evaluate(items)]


# --- matching ------------------------------------------------------------------------------


def test_obfuscated_threats_match(normalizer, default_signal):
    texts = [
        "I will kill you",
        "I w1ll k\u200bill y0u!!!",
        "i WILL K I L L you",
        "I will kіll уоu",  # Cyrillic і, у, о
        "𝐈 𝐰𝐢𝐥𝐥 𝐤𝐢𝐥𝐥 𝐲𝐨𝐮",
        "I will k.i.l.l you",
        "I wiiiill kiiiill youuuu",
    ]
    for found in labels(default_signal, items_for(normalizer, *texts)):
        assert "violent_threat" in found


def test_word_boundaries(tmp_path, normalizer):
    sig = signal_from(tmp_path, "term,isis,terrorist_slogan,0.5,en,\n")
    got = labels(sig, items_for(normalizer, "the crisis deepens", "isis is back", "#isis", "join isis.", "isisx", "crisis"))
    assert got == [set(), {"terrorist_slogan"}, {"terrorist_slogan"}, {"terrorist_slogan"}, set(), set()]


def test_arabic_with_diacritics_tatweel_and_clitics(normalizer, default_signal):
    texts = [
        "باقية وتتمدد",
        "باقـــيةٌ وتتمدّد",  # tatweel and harakat
        "الدولة الإسلامية باقية وتتمدد",
        "والباقية وتتمدد",  # conjunction + article before the term
        "سنذبحكم",
        "سـنـذبـحـكـم يا كفار",
    ]
    for found in labels(default_signal, items_for(normalizer, *texts)):
        assert found & {"terrorist_slogan", "violent_threat"}


def test_arabic_clitics_are_a_closed_set(tmp_path, normalizer):
    sig = signal_from(tmp_path, "term,الدولة,test_cat,1,ar,\nterm,قتل,kill_cat,1,ar,\n")
    got = labels(
        sig,
        items_for(
            normalizer,
            "الدولة",  # exact
            "والدولة",  # wa + term
            "بالدولة",  # bi + term (which carries al-)
            "للدولة",  # li + al contracted: the alef is gone
            "دولة",  # the article is part of the term: the bare noun is not it
            "قتلهم",  # kill + them (enclitic)
            "مقتل",  # a different word that ends in the term
            "قتلوني",  # not a listed suffix combination
        ),
    )
    assert got == [{"test_cat"}, {"test_cat"}, {"test_cat"}, {"test_cat"}, set(), {"kill_cat"}, set(), set()]


def test_russian_term_matches_russian_and_not_folded_latin(tmp_path, normalizer):
    sig = signal_from(tmp_path, "term,смерть,death_ru,1,ru,\n")
    got = labels(sig, items_for(normalizer, "Смерть им всем", "smert"))
    assert got == [{"death_ru"}, set()]


def test_hashtags_match_whatever_the_spelling(normalizer, default_signal):
    items = items_for(
        normalizer,
        "brothers #The_Concept_Of_Lone_Wolf_Attacks",
        "brothers #theconceptofLONEWOLFattacks",
        "nothing here",
        "#باقية_وتتمدد",
        hashtags=[],
    )
    items += items_for(normalizer, "listed by the platform only", hashtags=["#CalamityWillBefallUS"])
    got = labels(default_signal, items)
    assert got[0] == got[1] == got[4] == {"terrorist_hashtag"}
    assert got[2] == set() and "terrorist_hashtag" in got[3]


def test_regex_on_readable_text(normalizer, default_signal):
    got = labels(default_signal, items_for(normalizer, "we are gonna SHOOT them all", "we shoot photos"))
    assert got == [{"violent_threat"}, set()]


def test_one_hit_per_category_with_max_weight_and_evidence(tmp_path, normalizer):
    sig = signal_from(
        tmp_path,
        "term,kill you,threat,0.4,en,weak\nterm,i will kill you,threat,0.9,en,strong\n"
        "hashtag,#killthem,threat,0.7,en,\nterm,behead,gore,0.5,en,\n",
        name="mine.csv",
    )
    [hits] = sig.evaluate(items_for(normalizer, "I will kill you, I will kill you #KillThem"))
    assert len(hits) == 1
    h = hits[0]
    assert (h.signal, h.version, h.label, h.score) == ("watchterms", "1", "threat", 0.9)
    assert h.evidence["list"] == "mine.csv"
    patterns = [(m["pattern"], m["kind"], m["field"]) for m in h.evidence["matches"]]
    assert patterns == [
        ("i will kill you", "term", "text"),
        ("#killthem", "hashtag", "hashtags"),
        ("kill you", "term", "text"),
    ]
    assert "kill you" in h.evidence["matches"][0]["excerpt"]


def test_account_fields_are_scanned(normalizer, default_signal):
    ev = AccountEvent(id="u", handle="baqiyah_wa_tatamaddad", bio="a soldier", created_at=NOW)
    item = Item(event=ev, key=ev.key(), received_at=0.0)
    normalizer.normalize_batch([item])
    [hits] = default_signal.evaluate([item])
    assert hits and hits[0].label == "terrorist_slogan"
    assert hits[0].evidence["matches"][0]["field"] == "handle"


def test_min_score_and_labels(tmp_path, normalizer):
    p = tmp_path / "l.csv"
    p.write_text(HEADER + "term,islamic state,terrorist_slogan,0.15,en,\n", encoding="utf-8")
    sig = WatchTermsSignal(WatchTermsSettings(lists=[str(p)], min_score=0.2))
    assert sig.evaluate(items_for(normalizer, "news about the islamic state")) == [[]]
    assert sig.labels() == {"terrorist_slogan"}


def test_news_text_gets_only_weak_evidence(normalizer, default_signal):
    [hits] = default_signal.evaluate(items_for(normalizer, "Analysts say the Islamic State lost its last territory"))
    assert [(h.label, h.score) for h in hits] == [("terrorist_slogan", 0.15)]


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_obfuscation_property(normalizer, default_signal, data):
    phrase = data.draw(st.sampled_from(["we will behead you", "kill the kuffar", "you will be slaughtered"]))
    # Look-alikes by case: a capital Greek upsilon looks like Y, a small one like u.
    lower = {"a": "а", "e": "е", "o": "о", "i": "1", "l": "|", "u": "υ", "y": "у", "s": "5", "t": "7", "k": "κ"}
    upper = {"A": "А", "E": "Е", "O": "О", "I": "І", "T": "Т", "S": "Ѕ", "Y": "Υ", "K": "К", "B": "В", "H": "Н"}
    out = []
    for c in phrase:
        if data.draw(st.booleans()):
            c = c.upper()
        if c != " " and data.draw(st.booleans()):
            c = (upper if c.isupper() else lower).get(c, c)
        out.append(c)
        if c != " " and data.draw(st.booleans()):
            out.append(data.draw(st.sampled_from(["\u200b", "\u2060", "\u00ad", "\ufeff"])))
    [hits] = default_signal.evaluate(items_for(normalizer, "brothers: " + "".join(out) + "!!!"))
    assert {h.label for h in hits} & {"violent_threat", "incitement"}


# --- list files ----------------------------------------------------------------------------


def test_default_list_loads_with_expected_categories(default_signal):
    assert default_signal.labels() == {"terrorist_slogan", "terrorist_hashtag", "violent_threat", "incitement"}
    assert all(0 < e.weight <= 1 for e in default_signal.entries)


def test_comments_blank_lines_quotes_and_defaults(tmp_path):
    p = tmp_path / "ok.csv"
    p.write_text(
        "# a comment\n\n" + HEADER + "# another\nterm,kill you,threat\n"
        'regex,"\\b(a|b){1,2}\\b",threat,0.5,,"note, with comma"\n',
        encoding="utf-8",
    )
    entries = load_watch_lists([str(p)])
    assert [(e.kind, e.weight, e.line) for e in entries] == [("term", 1.0, 5), ("regex", 0.5, 6)]
    assert entries[1].note == "note, with comma"


def test_list_errors_name_file_and_line(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text(
        HEADER
        + "phrase,kill,threat,1,en,\n"  # line 2: kind
        + "term,,threat,1,en,\n"  # line 3: empty
        + "term,kill,Threat!,1,en,\n"  # line 4: category
        + "term,kill,threat,1.5,en,\n"  # line 5: weight range
        + "term,kill,threat,heavy,en,\n"  # line 6: weight type
        + "regex,(unclosed,threat,1,en,\n"  # line 7: regex
        + "term,!!,threat,1,en,\n"  # line 8: normalises to nothing
        + "term,kill,threat,1,english,\n"  # line 9: lang
        + "term,kill,threat,1,en,note,extra\n"  # line 10: too many columns
        + "term,kill you,threat,1,en,fine\n",  # line 11: fine
        encoding="utf-8",
    )
    with pytest.raises(ListError) as exc:
        load_watch_lists([str(p)])
    lines = [e.split(":")[1] for e in exc.value.errors]
    assert lines == ["2", "3", "4", "5", "6", "7", "8", "9", "10"]
    assert all(e.startswith("bad.csv:") for e in exc.value.errors)
    assert "invalid regex" in exc.value.errors[5]


def test_missing_file_bad_header_and_empty_file_fail_loudly(tmp_path):
    with pytest.raises(ListError, match="cannot read"):
        WatchTermsSignal(WatchTermsSettings(lists=[str(tmp_path / "nope.csv")]))
    (tmp_path / "h.csv").write_text("pattern,kind\nterm,x\n", encoding="utf-8")
    with pytest.raises(ListError, match=r"h.csv:1: header must be"):
        load_watch_lists([str(tmp_path / "h.csv")])
    (tmp_path / "e.csv").write_text("# only a comment\n", encoding="utf-8")
    with pytest.raises(ListError, match="empty list"):
        load_watch_lists([str(tmp_path / "e.csv")])
