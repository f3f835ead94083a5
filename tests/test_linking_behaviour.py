"""Behavioural first-post evidence of the account linker: whom an account retweets, quotes and
mentions, its hashtags and link domains, its posting hours; found through an inverted index and
scored as one fitted log-odds term next to writing style."""

from __future__ import annotations

import random

import numpy as np

from seawall.linking.behaviour import behaviour_of, post_tokens
from seawall.linking.behaviour_index import BehaviourIndex
from seawall.linking.index import build_index
from seawall.linking.profile import Profile, ProfileBuilder
from seawall.linking.scoring import (LINK_THRESHOLD, PRIOR, REVIEW_THRESHOLD, BehaviourModel, behaviour_model,
                                     sigmoid)

SOURCES = ["daily_wire_x", "patriot_news_h", "breaking911x", "local_herald", "city_times", "sports_fan_99",
           "weather_now", "music_daily", "techcrunchy", "foodie_eats", "travel_blog", "pets_corner"]
TAGS = ["maga", "news", "sports", "music", "tcot", "pjnet", "weather", "food", "travel", "tech", "pets", "art"]
WORDS = "the a city council mayor game team win loss rain sun new old big small good bad today week".split()


def _posts(rng: random.Random, sources: list[str], tags: list[str], n: int) -> list[str]:
    out = []
    for _ in range(n):
        body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 10)))
        out.append(f"RT @{rng.choice(sources)}: {body} #{rng.choice(tags)} https://t.co/{rng.randint(0, 10**6)}")
    return out


def _population(rng: random.Random, n: int = 40) -> list[Profile]:
    """Suspended accounts that each retweet a few of the common sources and use common tags."""
    return [Profile(f"s{i}", handle=f"someone_{i}", posts=_posts(rng, rng.sample(SOURCES, 3), rng.sample(TAGS, 3), 30),
                    post_hours=[rng.randrange(24) for _ in range(30)]) for i in range(n)]


def test_post_tokens_read_retweets_mentions_tags_and_expanded_domains():
    toks, rt = post_tokens("RT @Daily_Wire: look at @mayor_bob #MAGA now https://t.co/abc https://www.example.org/a",
                           links=["https://news.site.com/x"])
    assert rt
    assert {"r:daily_wire", "m:mayor_bob", "h:maga", "d:example.org", "d:news.site.com"} <= toks
    assert not any(t.startswith("d:t.co") for t in toks)  # short links say nothing
    assert "m:daily_wire" not in toks  # the retweeted account is not also a mention
    toks, rt = post_tokens("email me at a@b.com, #1 fan &#39; ok")
    assert not rt and toks == set()  # no handle in an e-mail address, no numeric "tag", no HTML entity


def test_behaviour_of_counts_posts_hours_and_retweet_share():
    b = behaviour_of(["RT @x: a #tt", "hello #tt", "RT @y: b"], hours=[3, 3, 23])
    assert b.tokens["h:tt"] == 2 and b.tokens["r:x"] == 1 and b.posts == 3
    assert b.retweet_share == 2 / 3
    assert b.hours[3] == 2 and b.hours[23] == 1


def test_profile_builder_keeps_posting_hours_and_links():
    from seawall.events.model import parse_event

    b = ProfileBuilder(max_posts=2)
    for k, h in enumerate([5, 17, 9]):
        b.add(parse_event({"type": "post", "id": f"p{k}", "account_id": "n", "text": f"post {k}",
                           "links": ["https://example.org/x"], "created_at": f"2016-03-01T{h:02d}:10:00Z"}))
    p = b.profiles["n"]
    assert p.post_hours == [5, 17] and p.post_links == ["https://example.org/x"] * 2


def test_rare_shared_sources_outweigh_common_ones():
    idx = BehaviourIndex()
    common = behaviour_of(["#news"] * 3)
    for i in range(30):
        idx.add(i, common, built=False)
    idx.add(30, behaviour_of(["RT @rare_source: x #news", "#news"]), built=False)
    idx.build()
    q = idx.query_weights(behaviour_of(["RT @rare_source: y #news"]))
    cands = idx.candidates(q)
    assert max(cands, key=cands.get) == 30
    assert cands[30] > 0.9 and all(cands[i] < 0.2 for i in range(30))
    assert idx.shared(q, 30) == {"retweeted": ["rare_source"], "hashtags": ["news"]}


def test_returner_with_unrelated_handle_who_retweets_the_same_accounts_links_at_k5():
    rng = random.Random(5)
    pop = _population(rng)
    # the operator amplifies three obscure accounts and pushes two campaign tags, at night (UTC)
    own_sources, own_tags = ["obscure_voice_1", "hidden_patriot_7", "truth_seeker_kk"], ["stopthecouncil", "ourcity2016"]
    old_posts = _posts(rng, own_sources, own_tags, 40)
    pop.append(Profile("old", handle="abu_original", posts=old_posts, post_hours=[rng.choice([1, 2, 3]) for _ in old_posts]))
    index = build_index(pop)
    new_posts = _posts(rng, own_sources, own_tags, 5)
    new = Profile("n", handle="gardening_lover", posts=new_posts, post_hours=[2, 3, 1, 2, 2])
    got = index.link(new)
    assert got[0].account_id == "old"
    assert got[0].score >= LINK_THRESHOLD, got[0].evidence
    ev = got[0].evidence["behaviour"]
    assert ev["weight"] > 0 and "name" not in got[0].evidence  # the handle says nothing
    assert set(ev["shared"]["retweeted"]) == set(own_sources)
    assert set(ev["shared"]["hashtags"]) == set(own_tags)
    assert ev["hour_similarity"] > 0.8 and ev["retweet_share"] == {"new": 1.0, "old": 1.0}
    # it is the behaviour that takes it over the threshold: style alone would only queue it
    without = PRIOR + sum(v["weight"] for k, v in got[0].evidence.items() if k != "behaviour")
    assert sigmoid(without) < LINK_THRESHOLD
    # a stranger who retweets only the common sources is not linked to anyone
    stranger = Profile("z", handle="tomato_grower", posts=_posts(rng, SOURCES[:4], TAGS[:4], 5),
                       post_hours=[12, 13, 14, 15, 16])
    got = index.link(stranger)
    assert not got or got[0].score < REVIEW_THRESHOLD


def test_behaviour_candidates_come_from_the_index_not_a_scan():
    rng = random.Random(2)
    index = build_index(_population(rng, 30) + [Profile("old", handle="x_old", posts=["RT @unique_src: hi #uniq"] * 3)])
    q = index.behaviour.query_weights(behaviour_of(["RT @unique_src: hello #uniq"]))
    cands = index.behaviour.candidates(q)
    assert list(cands) == [index.number["old"]]  # only the account sharing a token is a candidate
    assert index.behaviour.candidates(index.behaviour.query_weights(behaviour_of(["nothing shared"]))) == {}


def test_behaviour_model_is_bounded_and_fitted_on_the_fit_authors():
    m = behaviour_model()
    assert "fit authors" in m.fitted_on  # the shipped file, not the defaults
    assert m.llr(0.0, -0.5, 20, None) == 0.0  # unlike behaviour is no evidence against
    assert 0.0 < m.llr(1.0, 1.0, 5, 1.0) <= m.hi
    assert BehaviourModel(a=100.0).llr(1.0, 1.0, 5, None) == BehaviourModel().hi


def test_hours_alone_never_link():
    rng = random.Random(3)
    pop = _population(rng)
    index = build_index(pop)
    p = Profile("n", handle="new_person", posts=["hello there"] * 5, post_hours=list(pop[0].post_hours[:5]))
    got = index.link(p)
    assert not got or got[0].score < REVIEW_THRESHOLD
    assert np.isfinite([c.score for c in got]).all()


def test_ira_split_passes_no_platform_counters_or_author_ids(tmp_path):
    import gzip
    import json

    from seawall.linking.evaluate import make_split

    (tmp_path / "accounts").mkdir()
    rows = [{"author_id": f"author_{a}", "content": f"RT @src_{a}: post {i} #tag{a}", "region": "United States",
             "language": "English", "publish_date": f"2017-07-{1 + i // 24:02d} {i % 24:02d}:00:00",
             "harvested_date": "2017-07-22 01:16:00", "following": 1000 + i, "followers": 5000 + a * 7 + i,
             "updates": i + 1, "post_type": "RETWEET", "retweet": 1} for a in range(10) for i in range(60)]
    with gzip.open(tmp_path / "accounts" / "ira_tweets.jsonl.gz", "wt") as fh:
        fh.write("\n".join(json.dumps(r) for r in rows))
    split = make_split(tmp_path, tmp_path / "out", seed=1)
    for path in (split.known, split.new):
        for line in path.read_text().splitlines():
            ev = json.loads(line)
            assert set(ev) <= {"type", "id", "account_id", "handle", "text", "created_at"}, ev
    assert "unrelated" in split.group.values()
    new_events = [json.loads(x) for x in split.new.read_text().splitlines()]
    for nid, group in split.group.items():
        if group == "unrelated":  # the old handle is neither the new handle nor in the new posts
            old = nid.removeprefix("new:")
            mine = [e for e in new_events if nid in (e.get("id"), e.get("account_id"))]
            assert mine and all(old not in (e.get("handle", "") + e.get("text", "")) for e in mine)
