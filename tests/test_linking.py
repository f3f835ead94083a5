"""The account linker: handle variants, postings and vector index, scoring, evidence, and the
`seawall link` command's output."""

from __future__ import annotations

import json

import numpy as np
import orjson
import pytest
from click.testing import CliRunner

from seawall.cli import main
from seawall.linking import handles
from seawall.linking.index import LinkIndex, build_index
from seawall.linking.postings import PostingIndex, VectorIndex
from seawall.linking.profile import Profile, ProfileBuilder, shoutouts_in
from seawall.linking.scoring import LINK_THRESHOLD, number_continues


# -- handles ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("old,new", [
    ("abu_x1", "abu_x2"),  # numbered
    ("abu_x", "abux"),  # dropped underscore
    ("abux", "abu__x_"),  # added underscores
    ("abu_muthanna", "аbu_muthаnna"),  # Cyrillic а look-alikes
    ("abu_muthanna", "4bu_muthanna7"),  # leetspeak + number
    ("Ｐｕｎｋ", "punk25"),  # full-width
])
def test_variants_share_a_key(old, new):
    assert set(handles.keys(old)) & set(handles.keys(new)), (handles.keys(old), handles.keys(new))
    assert handles.compare(old, new).kind in ("exact", "same_letters")


def test_transliteration_and_unrelated_names():
    assert handles.fold("Абу_Мухаммад") == "abumukhammad"
    assert handles.compare("Абу_Мухаммад", "abu_mukhammad2").kind == "same_letters"
    assert handles.compare("abu_x1", "gardening_fan").kind == "none"
    assert handles.keys("12345") == ()  # digits only: no key that would collide with everything
    assert handles.compare("abdullah_k", "abdulah_k").kind == "fuzzy"


def test_variant_generator_and_number_continuation():
    vs = handles.variants("abu_x1")
    assert "abu_x2" in vs and all(handles.compare("abu_x1", v).kind in ("exact", "same_letters") for v in vs)
    assert number_continues("abu_x1", "abu_x2") and number_continues("abu_x", "abu_x2")
    assert not number_continues("abu_x1", "abu_x90") and not number_continues("abu_x1", "abu_x")


def test_ngrams_have_boundaries():
    assert handles.ngrams("ab_c1") == {"^ab", "abc", "bc$"}
    assert handles.ngrams("") == set()


# -- postings and vectors ---------------------------------------------------------------------
def test_posting_index_freeze_and_delta():
    idx = PostingIndex()
    for k, i in [("a", 1), ("b", 2), ("a", 3)]:
        idx.add(k, i)
    assert sorted(idx.get("a").tolist()) == [1, 3]  # before freezing
    idx.freeze()
    idx.add("a", 9)
    idx.add("c", 4)
    assert sorted(idx.get("a").tolist()) == [1, 3, 9] and idx.get("c").tolist() == [4]
    assert idx.get("zzz").tolist() == [] and idx.df("b") == 1
    idx.freeze()  # re-freezing folds the delta into the CSR
    assert sorted(idx.get("a").tolist()) == [1, 3, 9] and idx.get("c").tolist() == [4]


def test_vector_index_ivf_finds_the_nearest():
    rng = np.random.default_rng(0)
    data = rng.normal(size=(3000, 32)).astype(np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    vi = VectorIndex(32, nlist=32, nprobe=8, ivf_from=1000)
    vi.add(data, np.arange(3000))
    vi.build()
    assert vi._centroids is not None
    hits = 0
    for j in range(0, 3000, 100):
        q = data[j] + 0.05 * rng.normal(size=32).astype(np.float32)
        owners, sims = vi.search(q / np.linalg.norm(q), k=5)
        hits += owners[0] == j
        assert list(sims) == sorted(sims, reverse=True)
    assert hits >= 28  # IVF is approximate, but a near-copy is in a probed list almost always


# -- the index and scoring --------------------------------------------------------------------
def _population(n: int = 300) -> list[Profile]:
    rng = np.random.default_rng(1)
    words = ["news", "daily", "patriot", "river", "north", "star", "truth", "media", "bird", "stone"]
    out = []
    for i in range(n):
        h = f"{words[rng.integers(10)]}{words[rng.integers(10)]}_{i}"
        out.append(Profile(f"s{i}", handle=h, display_name=h.title()))
    return out


def test_numbered_handle_with_avatar_links_and_evidence_is_side_by_side():
    pop = _population()
    pop.append(Profile("old1", handle="abu_muthanna_1", display_name="Abu Muthanna", bio="servant of god, soldier",
                       avatar_pdq="f" * 64, links=["https://t.me/abumuthanna"]))
    index = build_index(pop)
    new = Profile("n1", handle="abu_muthanna_2", display_name="Abu Muthanna", avatar_pdq="f" * 63 + "e")
    cands = index.link(new)
    best = cands[0]
    assert best.account_id == "old1" and best.score >= LINK_THRESHOLD
    ev = best.evidence
    assert ev["name"]["old"] == "abu_muthanna_1" and ev["name"]["new"] == "abu_muthanna_2"
    assert ev["avatar"]["distance"] == 1 and ev["avatar"]["match"] == "pdq"
    # without the avatar and with a weaker name, the score drops below the link threshold
    weak = index.link(Profile("n2", handle="muthana"))
    assert not weak or weak[0].score < LINK_THRESHOLD


def test_common_stems_are_discounted():
    pop = [Profile(f"j{i}", handle=f"john{i}") for i in range(50)] + [Profile("rare", handle="zarqawi_lion")]
    index = build_index(pop)
    rare = index.link(Profile("n", handle="zarqawi_lion2"))[0]
    common = index.link(Profile("m", handle="john77"))[0]
    assert rare.account_id == "rare" and rare.score > common.score
    assert common.score < 0.5  # 50 suspended johns: john77 is not any of them with confidence


def test_identity_bio_links_and_unrelated():
    pop = _population()
    pop.append(Profile("old", handle="qwerty", bio="news from the front every day, join us brothers",
                       links=["https://example-channel.net/x"], identity={"email_hash": "e1"}))
    index = build_index(pop)
    got = index.link(Profile("n", handle="zxcvb", identity={"email_hash": "e1"}))
    assert got[0].account_id == "old" and "identity:email_hash" in got[0].evidence
    got = index.link(Profile("n", handle="zxcvb", bio="News from the front every day. Join us, brothers!",
                             links=["https://example-channel.net/x"]))
    assert got[0].account_id == "old" and {"bio", "links"} <= set(got[0].evidence)
    assert got[0].score >= LINK_THRESHOLD
    unrelated = index.link(Profile("n", handle="gardening_fan", bio="tomatoes and roses"))
    assert not unrelated or unrelated[0].score < 0.3


def test_shoutouts_and_followers():
    pop = _population()
    old = Profile("old", handle="lion_of_tawhid", followers=[f"f{i}" for i in range(40)])
    index = build_index([*pop, old])
    # followers: 10 of the new account's first 12 followers followed the old account
    got = index.link(Profile("n", handle="blue_sky", followers=[*(f"f{i}" for i in range(10)), "x1", "x2"]))
    assert got[0].account_id == "old" and got[0].evidence["followers"]["common"] == 10
    # a shout-out by the old account naming the new handle
    shouts = shoutouts_in("p1", "old", "suspended again, follow my new account @blue_sky2", [])
    assert [s.handle for s in shouts] == ["bluesky2"]
    for s in shouts:
        index.add_shoutout(s)
    got = index.link(Profile("n", handle="blue_sky2"))
    assert got[0].account_id == "old" and got[0].evidence["shoutout"]["by"] == "the old account"
    assert shoutouts_in("p2", "a", "lovely day with @friend", []) == []


def test_style_ranks_the_author_first():
    topics = {
        "a": "BREAKING : {} slams the city council over taxes https://t.co/xyz #news",
        "b": "omg lol i cant even with {} today haha #mood",
        "c": "Reminder: the {} prophecy is near, read the holy texts, brothers.",
    }
    pop = []
    for k, tpl in topics.items():
        pop.append(Profile(f"old_{k}", handle=f"acct_{k}", posts=[tpl.format(w) for w in
                                                                     ["john", "mary", "the mayor", "bob", "alice"]]))
    pop += _population(50)
    index = build_index(pop)
    got = index.link(Profile("n", handle="someone_new", posts=["omg lol i cant even with my cat today haha"]))
    assert got[0].account_id == "old_b" and "style" in got[0].evidence


def test_profile_builder_counts_first_posts_and_followers():
    from seawall.events.model import parse_event

    b = ProfileBuilder(max_posts=2, followers_cap=3)
    evs = [{"type": "account", "id": "n", "handle": "x", "created_at": "2015-01-01T00:00:00Z",
            "attributes": {"email_hash": "ABC"}}]
    evs += [{"type": "post", "id": f"p{i}", "account_id": "n", "text": "" if i == 0 else f"post {i}",
             "created_at": "2015-01-01T00:00:00Z"} for i in range(4)]
    evs += [{"type": "follow", "follower_id": f"f{i % 5}", "followee_id": "n", "at": "2015-01-01T00:00:00Z"}
            for i in range(8)]
    for e in evs:
        b.add(parse_event(e))
    p = b.profiles["n"]
    assert p.posts == ["post 1"]  # the first two posts count, the empty one among them
    assert p.followers == ["f0", "f1", "f2"] and p.identity == {"email_hash": "abc"}


def test_accounts_added_after_build_are_found():
    index = build_index(_population())
    assert index.built
    index.add(Profile("late", handle="late_comer_account", avatar_pdq="0" * 64))
    got = index.link(Profile("n", handle="late_comer_account2", avatar_pdq="0" * 64))
    assert got[0].account_id == "late" and got[0].score >= LINK_THRESHOLD


# -- seawall link ----------------------------------------------------------------------------------
def _write(path, events):  # noqa: ANN001
    path.write_bytes(b"\n".join(orjson.dumps(e) for e in events) + b"\n")


def test_link_cli_output_format(tmp_path):
    known = [{"type": "account", "id": f"a{i}", "handle": f"user_{w}", "created_at": "2015-01-01T00:00:00Z"}
             for i, w in enumerate(["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"])]
    known.append({"type": "account", "id": "a7", "handle": "abu_x1", "display_name": "Abu X",
                  "created_at": "2015-01-01T00:00:00Z"})
    known.append({"type": "post", "id": "p1", "account_id": "a7", "text": "they banned me, new account @abu_x2",
                  "created_at": "2015-01-02T00:00:00Z"})
    new = [
        {"type": "account", "id": "n1", "handle": "abu_x2", "display_name": "Abu X", "created_at": "2015-02-01T00:00:00Z"},
        {"type": "post", "id": "q1", "account_id": "n1", "text": "we are back", "created_at": "2015-02-01T00:01:00Z"},
        {"type": "account", "id": "n2", "handle": "tomato_grower", "created_at": "2015-02-01T00:00:00Z"},
    ]
    _write(tmp_path / "known.jsonl", known)
    _write(tmp_path / "new.jsonl", new)
    r = CliRunner().invoke(main, ["link", "--known", str(tmp_path / "known.jsonl"), "--new", str(tmp_path / "new.jsonl"),
                                  "--first-posts", "0"])
    assert r.exit_code == 0, r.output
    rows = [json.loads(x) for x in r.output.strip().splitlines()]
    assert [x["account_id"] for x in rows] == ["n1", "n2"]
    assert set(rows[0]) == {"account_id", "candidates", "linked"}
    assert rows[0]["linked"] == "a7" and rows[0]["candidates"][0] == {"account_id": "a7",
                                                                      "score": rows[0]["candidates"][0]["score"]}
    scores = [c["score"] for c in rows[0]["candidates"]]
    assert scores == sorted(scores, reverse=True) and len(scores) <= 10
    assert rows[1]["linked"] is None
    r = CliRunner().invoke(main, ["link", "--known", str(tmp_path / "known.jsonl"), "--new",
                                  str(tmp_path / "new.jsonl"), "--evidence"])
    first = json.loads(r.output.splitlines()[0])
    assert first["candidates"][0]["evidence"]["shoutout"]["by"] == "the old account"


def test_link_cli_bad_input_names_line_and_field(tmp_path):
    _write(tmp_path / "known.jsonl", [{"type": "account", "id": "a1", "created_at": "2015-01-01T00:00:00Z"}])
    _write(tmp_path / "new.jsonl", [])
    r = CliRunner().invoke(main, ["link", "--known", str(tmp_path / "known.jsonl"), "--new", str(tmp_path / "new.jsonl")])
    assert r.exit_code != 0 and "known.jsonl:1: handle: required field is missing" in r.output
    r = CliRunner().invoke(main, ["link", "--known", str(tmp_path / "known.jsonl"), "--new",
                                  str(tmp_path / "new.jsonl"), "--first-posts", "-1"])
    assert r.exit_code != 0 and "--first-posts" in r.output


def test_index_counts_memory():
    index = LinkIndex()
    for p in _population(20):
        index.add(p)
    index.build()
    assert len(index) == 20 and index.nbytes() > 0
