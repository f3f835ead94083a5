"""Text normalisation, skeletons, entities and the Normalizer stage."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seawall.events import AccountEvent, FollowEvent, PostEvent, ReportEvent
from seawall.normalize import (
    Item,
    Normalizer,
    extract_hashtags,
    extract_mentions,
    hashtag_key,
    normalize_text,
    skeleton,
    term_skeleton,
    text_form,
)

NOW = datetime(2015, 6, 1, tzinfo=timezone.utc)


def sk(s: str) -> str:
    return normalize_text(s).skeleton


# --- readable text -------------------------------------------------------------------------


def test_original_is_kept_and_text_is_nfkc_casefolded_collapsed():
    nt = normalize_text("  Ｈｅｌｌｏ\t\tWORLD\n ß ")
    assert nt.original == "  Ｈｅｌｌｏ\t\tWORLD\n ß "
    assert nt.text == "hello world ss"


@pytest.mark.parametrize(
    "char",
    ["\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u202a", "\u202e", "\u2060", "\u2064",
     "\u2066", "\u2069", "\ufeff", "\u180e", "\u00ad", "\u034f", "\U000e0041", "\U000e007f"],
)
def test_invisible_characters_are_removed(char):
    assert normalize_text(f"k{char}ill").text == "kill"


def test_zero_width_split_word_is_rejoined():
    assert normalize_text("I will k\u200bi\u200cl\u200dl you").text == "i will kill you"


def test_bidi_override_is_removed():
    # RLO makes "olleh" display reversed; the stored characters are what we match.
    assert normalize_text("\u202ekill\u202c them").text == "kill them"


def test_mathematical_and_fullwidth_letters_become_ascii():
    assert normalize_text("𝐤𝐢𝐥𝐥 𝓲𝓼𝓲𝓼 ｊｏｉｎ").text == "kill isis join"


def test_homoglyphs_fold_inside_latin_words():
    assert normalize_text("раураl login").text == "paypal login"  # Cyrillic р, а, у
    assert normalize_text("kіll").text == "kill"  # Cyrillic і
    assert normalize_text("ΙSΙS").text == "isis"  # Greek capital iota


def test_all_lookalike_word_folds_in_latin_context():
    assert normalize_text("join ІЅІЅ now").text == "join isis now"


def test_russian_and_greek_stay_themselves():
    assert normalize_text("Привет, как дела?").text == "привет, как дела?"
    assert normalize_text("сор на улице").text == "сор на улице"  # every letter of "сор" has a Latin twin
    assert normalize_text("Καλημέρα κόσμε").text == "καλημέρα κόσμε"


def test_arabic_variants_diacritics_and_tatweel_unify():
    plain = normalize_text("الدولة الاسلامية باقية")
    fancy = normalize_text("الدَّوْلَةُ الإسْلامِيّة باقـــيةٌ")
    assert fancy.text == plain.text == "الدوله الاسلاميه باقيه"


@pytest.mark.parametrize(
    "variant,plain",
    [("أإآٱ", "اااا"), ("ى", "ي"), ("ی", "ي"), ("ة", "ه"), ("ؤ", "و"), ("ئ", "ي"), ("ک", "ك"),
     ("٠١٢٣٤٥٦٧٨٩", "0123456789"), ("۱۲۳", "123")],
)
def test_arabic_letter_rules(variant, plain):
    assert normalize_text(variant).text == plain


def test_text_is_idempotent_on_examples():
    for s in ["раураl", "İstanbul", "الدَّوْلَةُ", "Aͅ", "k\u200bill", "ΗΕLLO"]:
        t = text_form(s)
        assert text_form(t) == t


# --- skeleton ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "obfuscated",
    ["kill", "KILL", "k1ll", "ki11", "k!ll", "k|ll", "kiiiiill", "k.i.l.l", "k-i-l-l", "k_i_l_l",
     "k i l l", "k\u200bill", "kіll", "𝐤𝐢𝐥𝐥", "ｋｉｌｌ", "kïll", "k*ll".replace("*", "i"), "K.1.L.L"],
)
def test_obfuscated_spellings_share_a_skeleton(obfuscated):
    assert sk(obfuscated) == sk("kill")


def test_leet_only_inside_words_with_letters():
    assert sk("in 2015 we paid $100 on 9/11") == sk("in 2015 we paid 100 on 9 11")
    assert "2015" in sk("in 2015") and "100" in sk("$100")
    assert sk("h@te $hit 3xtr3m1st") == sk("hate shit extremist")


def test_mentions_and_hashtags_keep_their_sign_in_the_skeleton():
    s = sk("@user1 says #Lone_Wolf!!")
    assert s.startswith("@user") and "#ione woif" in s


def test_punctuation_becomes_space_and_hyphens_split_words():
    assert sk("lone-wolf, attack!") == sk("lone wolf attack")


def test_arabic_skeleton_keeps_words_apart():
    assert sk("ق.ت.ل") == sk("قتل")
    assert sk("موووت") == sk("موت")


def test_term_skeleton_is_the_same_function():
    assert term_skeleton("I will KILL you") == sk("i w1ll k!ll y0u!!!")


_ALPHABET = list("akilsx .-_*'#@!$|:/0123456789\u200bаеорсіѕкпиΙΑοαбдبالدولةأإـً٣ıİé\u0301\u034f\u202eΌ’·")


@settings(max_examples=400, suppress_health_check=list(HealthCheck), deadline=None)
@given(st.one_of(st.text(), st.lists(st.sampled_from(_ALPHABET), max_size=40).map("".join)))
def test_never_raises_and_skeleton_is_idempotent(x):
    nt = normalize_text(x)
    assert skeleton(nt.skeleton) == nt.skeleton
    assert skeleton(nt.text) == nt.skeleton
    assert text_form(nt.text) == nt.text


_ZW = st.sampled_from(["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"])
_SWAPS = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "i": "і", "x": "х", "y": "у", "s": "ѕ",
          "l": "1", "t": "7", "g": "9"}


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["kill", "behead", "slaughter", "isis", "caliphate", "jihad"]), st.data())
def test_obfuscating_a_term_keeps_its_skeleton(term, data):
    chars = []
    for c in term:
        if data.draw(st.booleans()):
            c = _SWAPS.get(c, c)
        if data.draw(st.booleans()):
            c = c.upper()
        chars.append(c)
        if data.draw(st.booleans()):
            chars.append(data.draw(_ZW))
    obfuscated = "".join(chars)
    assert sk(f"we {obfuscated} them") == sk(f"we {term} them")


# --- entities ------------------------------------------------------------------------------


def test_hashtags_unicode_and_not_url_fragments():
    t = text_form("Go #Baqiya #باقية_وتتمدد #१२३ #1 x&#39;s https://a.com/page#top a.com/#/r C#")
    assert extract_hashtags(t) == ["baqiya", "باقيه_وتتمدد"]


def test_mentions_skip_emails_and_paths_and_keep_fediverse_instances():
    t = text_form("hi @Abu_1 and @user@example.social, mail me@x.com, medium.com/@writer")
    assert extract_mentions(t) == ["abu_1", "user@example.social"]


def test_hashtag_key_ignores_underscores_case_and_leet():
    k = hashtag_key("#The_Concept_Of_Lone_Wolf_Attacks")
    assert k == hashtag_key("#TheConceptOfLoneWolfAttacks") == hashtag_key("th3_c0ncept_of_lone_wolf_attacks")


# --- Normalizer ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def normalizer() -> Normalizer:
    return Normalizer()


def _post(text: str, **kw) -> Item:
    ev = PostEvent(id="1", account_id="a", text=text, created_at=NOW, **kw)
    return Item(event=ev, key=ev.key(), received_at=0.0)


def test_post_fields_urls_and_entities_merged(normalizer):
    item = _post(
        "Read hxxps://justpaste[.]it/abc and #Baqiya with @Abu_1 now, brothers: the state will remain",
        links=["https://bit.ly/x?utm_source=tw", "https://justpaste.it/abc"],
        hashtags=["#baqiya", "Dawla"],
        mentions=["@abu_1", "other"],
    )
    normalizer.normalize_batch([item])
    assert set(item.texts) == {"text"}
    assert [u.url for u in item.urls] == ["https://bit.ly/x", "https://justpaste.it/abc"]
    assert item.hashtags == ["baqiya", "dawla"]
    assert item.mentions == ["abu_1", "other"]
    assert item.lang == "en" and item.lang_confidence > 0.5


def test_account_fields_and_language_from_bio(normalizer):
    ev = AccountEvent(
        id="u1", handle="Abu_Muhammad_22", display_name="أبو محمد", created_at=NOW,
        bio="جندي من جنود الخلافة، حسابي الجديد بعد الإيقاف www.example.com/x #باقية",
        links=["http://WWW.Example.com/x"],
    )
    item = Item(event=ev, key=ev.key(), received_at=0.0)
    normalizer.normalize_batch([item])
    assert set(item.texts) == {"handle", "display_name", "bio"}
    assert item.texts["handle"].text == "abu_muhammad_22"
    assert [u.url for u in item.urls] == ["http://www.example.com/x"]
    assert item.hashtags == ["باقيه"]
    assert item.lang == "ar"


def test_report_and_textless_events(normalizer):
    rep = ReportEvent(target_type="post", target_id="9", reason="threat", text="He said he will KILL me", at=NOW)
    fol = FollowEvent(follower_id="a", followee_id="b", at=NOW)
    items = [Item(event=e, key=e.key(), received_at=0.0) for e in (rep, fol)]
    normalizer.normalize_batch(items)
    assert items[0].texts["text"].text == "he said he will kill me"
    assert items[1].texts == {} and items[1].lang is None


def test_short_text_has_no_language(normalizer):
    item = _post("ok")
    normalizer.normalize_batch([item])
    assert item.lang is None and item.lang_confidence == 0.0


@settings(max_examples=150, suppress_health_check=list(HealthCheck), deadline=None)
@given(st.lists(st.text(max_size=300), min_size=1, max_size=5))
def test_normalizer_never_raises(normalizer, texts):
    items = []
    for t in texts:
        ev = AccountEvent(id="u", handle=t or "h", display_name=t, bio=t, created_at=NOW)
        items.append(Item(event=ev, key="k", received_at=0.0))
        items.append(_post(t, hashtags=[t[:50]], mentions=[t[:50]]))
    normalizer.normalize_batch(items)
    for it in items:
        assert it.lang is None or len(it.lang) == 2
        assert 0.0 <= it.lang_confidence <= 1.0
