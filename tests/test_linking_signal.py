"""The account_link signal and the default rules, end to end through the pipeline on SQLite and
PostgreSQL: a suspended account that comes back under a numbered handle with the same avatar is
suspended at sign-up, before its first post; a weaker link is queued; accounts suspended during the
run (by the platform or by the rules) join the index; shout-outs link an unrelated handle."""

from __future__ import annotations

import io
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select

from pictures import synthetic_picture
from seawall.pipeline.pipeline import Pipeline
from seawall.pipeline.replay import replay_stream
from seawall.storage.schema import accounts, cases, events, signal_hits, verdicts
from seawall.storage.sql import open_store


BIO = "Servant of the One. Soldier of the khilafah. Follow for news from the front, every day."


def _lines(*objs) -> io.BytesIO:  # noqa: ANN002
    return io.BytesIO(b"\n".join(orjson.dumps(o) for o in objs) + b"\n")


def _account(aid: str, handle: str, **kw) -> dict:  # noqa: ANN003
    return {"type": "account", "id": aid, "handle": handle, "created_at": "2015-06-01T10:00:00Z", **kw}


@pytest.fixture
def env(settings, tmp_path: Path):  # noqa: ANN001, ANN201
    settings.signals["account_link"] = {"refresh_seconds": 0}
    store = open_store(settings.database_url)
    pipeline = Pipeline.from_settings(settings, store)
    img = synthetic_picture(5)
    img.save(tmp_path / "avatar.png")
    img.resize((200, 150)).save(tmp_path / "avatar_small.jpg", quality=70)  # the same picture, re-encoded
    synthetic_picture(9).save(tmp_path / "other.png")
    yield pipeline, store, tmp_path
    store.close()


def _verdict(store, key: str) -> tuple[str, str | None]:  # noqa: ANN001
    with store.engine.connect() as conn:
        row = conn.execute(select(verdicts.c.verdict, verdicts.c.queue).join(events, events.c.pk == verdicts.c.event_pk)
                           .where(events.c.key == key)).one()
    return row[0], row[1]


def _status(store, aid: str) -> str | None:  # noqa: ANN001
    with store.engine.connect() as conn:
        return conn.execute(select(accounts.c.status).where(accounts.c.id == aid)).scalar()


def _hit(store, key: str) -> dict | None:  # noqa: ANN001
    with store.engine.connect() as conn:
        row = conn.execute(select(signal_hits.c.score, signal_hits.c.evidence, signal_hits.c.label)
                           .join(events, events.c.pk == signal_hits.c.event_pk)
                           .where(events.c.key == key, signal_hits.c.signal == "account_link")).first()
    if row is None:
        return None
    return {"score": row[0], "label": row[2], **orjson.loads(row[1])}


def _key(store, aid: str) -> str:  # noqa: ANN001
    with store.engine.connect() as conn:
        return conn.execute(select(events.c.key).where(events.c.type == "account", events.c.subject_id == aid)
                            .order_by(events.c.pk.desc())).scalars().first()


def test_returner_with_numbered_handle_and_same_avatar_is_suspended_at_signup(env):
    pipeline, store, tmp = env
    replay_stream(pipeline, _lines(
        _account("a1", "abu_muthanna_1", display_name="Abu Muthanna", avatar={"path": str(tmp / "avatar.png")}),
        {"type": "post", "id": "p1", "account_id": "a1", "text": "the caliphate remains", "created_at": "2015-06-01T11:00:00Z"},
        _account("bystander", "gardening_fan", avatar={"path": str(tmp / "other.png")}),
        {"type": "enforcement", "account_id": "a1", "action": "suspend", "at": "2015-06-02T00:00:00Z"},
    ))
    assert _status(store, "a1") == "suspended"
    # sign-up of the returner: no post yet
    replay_stream(pipeline, _lines(
        _account("n1", "abu_muthanna_2", display_name="Abu Muthanna", avatar={"path": str(tmp / "avatar_small.jpg")}),
        _account("n2", "tomato_lover", avatar={"path": str(tmp / "other.png")}),
    ))
    key = _key(store, "n1")
    assert _verdict(store, key) == ("suspend", "evasion")
    assert _status(store, "n1") == "suspended"
    hit = _hit(store, key)
    assert hit["label"] == "returning_account" and hit["score"] >= 0.9
    assert hit["previous_account"] == "a1" and hit["new_account"]["posts_seen"] == 0
    best = hit["candidates"][0]
    assert best["account_id"] == "a1"
    # side by side: old vs new handle, and the two avatars' PDQ hashes with their distance
    assert best["evidence"]["name"]["old"] == "abu_muthanna_1" and best["evidence"]["name"]["new"] == "abu_muthanna_2"
    assert best["evidence"]["avatar"]["match"] == "pdq" and best["evidence"]["avatar"]["distance"] <= 31
    assert len(best["evidence"]["avatar"]["old"]) == 64 and len(best["evidence"]["avatar"]["new"]) == 64
    with store.engine.connect() as conn:
        case = conn.execute(select(cases.c.queue, cases.c.verdict).where(cases.c.subject_id == "n1")).one()
    assert tuple(case) == ("evasion", "suspend")
    # an unrelated account with a different picture is left alone (the bystander is not suspended)
    assert _verdict(store, _key(store, "n2"))[0] == "allow"


def test_weaker_link_is_queued_and_rule_suspensions_join_the_index(env):
    pipeline, store, tmp = env
    replay_stream(pipeline, _lines(
        _account("a1", "lion_of_the_north", display_name="Lion of the North", bio=BIO),
        {"type": "enforcement", "account_id": "a1", "action": "suspend", "at": "2015-06-02T00:00:00Z"},
    ))
    # handle and display name alone (a1 had no picture): a strong name link
    replay_stream(pipeline, _lines(_account("n1", "lion_of_the_north2", display_name="Lion of the North",
                                            avatar={"path": str(tmp / "avatar.png")})))
    assert _verdict(store, _key(store, "n1"))[0] == "suspend"
    # n1 was suspended by the rule during the run; its picture now identifies its next return
    replay_stream(pipeline, _lines(_account("n3", "northern_lion", avatar={"path": str(tmp / "avatar_small.jpg")})))
    hit = _hit(store, _key(store, "n3"))
    assert hit is not None and hit["candidates"][0]["account_id"] == "n1"
    assert "avatar" in hit["candidates"][0]["evidence"]
    # a medium link: the same bio under an unrelated handle -> review, not suspension
    replay_stream(pipeline, _lines(_account("n4", "quiet_reader", bio=BIO.upper())))
    hit = _hit(store, _key(store, "n4"))
    assert hit is not None and 0.6 <= hit["score"] < 0.9, hit
    assert _verdict(store, _key(store, "n4")) == ("queue", "evasion")
    assert _status(store, "n4") == "active"


def test_shoutout_links_an_unrelated_handle_and_first_posts_are_scored(env):
    pipeline, store, _ = env
    replay_stream(pipeline, _lines(
        _account("a1", "old_voice"),
        {"type": "post", "id": "p1", "account_id": "a1", "created_at": "2015-06-01T11:00:00Z",
         "text": "they will suspend me again. follow my backup account @bright_dawn_77"},
        {"type": "enforcement", "account_id": "a1", "action": "suspend", "at": "2015-06-02T00:00:00Z"},
    ))
    replay_stream(pipeline, _lines(_account("n1", "bright_dawn_77")))
    hit = _hit(store, _key(store, "n1"))
    assert hit["candidates"][0]["account_id"] == "a1"
    assert hit["candidates"][0]["evidence"]["shoutout"]["by"] == "the old account"
    assert _verdict(store, _key(store, "n1"))[0] == "suspend"
    # an ordinary new account: its first posts are scored (no hit), later posts are not watched
    replay_stream(pipeline, _lines(_account("n2", "cooking_daily"),
                                   *({"type": "post", "id": f"c{i}", "account_id": "n2", "text": f"recipe {i}",
                                      "created_at": "2015-06-03T00:00:00Z"} for i in range(25))))
    signal = next(s for s in pipeline.signals if s.name == "account_link")
    assert "n2" not in signal._watched  # dropped after its first 20 posts
    assert _hit(store, "post:c3") is None


def test_early_followers_link_at_the_first_post(env):
    pipeline, store, _ = env
    follow = [{"type": "follow", "follower_id": f"f{i}", "followee_id": "a1", "at": "2015-06-01T10:00:00Z"}
              for i in range(12)]
    replay_stream(pipeline, _lines(_account("a1", "quiet_one"), *follow))
    replay_stream(pipeline, _lines({"type": "enforcement", "account_id": "a1", "action": "suspend",
                                    "at": "2015-06-02T00:00:00Z"}))
    # an unrelated handle; eight of the old followers follow it before its first post
    refollow = [{"type": "follow", "follower_id": f"f{i}", "followee_id": "n1", "at": "2015-06-03T00:00:00Z"}
                for i in range(8)]
    replay_stream(pipeline, _lines(_account("n1", "sunrise_poet"), *refollow,
                                   {"type": "post", "id": "q1", "account_id": "n1", "text": "hello again",
                                    "created_at": "2015-06-03T01:00:00Z"}))
    assert _hit(store, _key(store, "n1")) is None  # at sign-up there was nothing to go on
    hit = _hit(store, "post:q1")
    assert hit["previous_account"] == "a1" and hit["new_account"]["early_followers"] == 8
    assert hit["candidates"][0]["evidence"]["followers"]["common"] == 8
    assert _verdict(store, "post:q1")[0] in ("queue", "suspend")


def test_first_posts_retweeting_the_same_accounts_are_behaviour_evidence(env):
    pipeline, store, _ = env
    sources = ["obscure_voice_1", "hidden_patriot_7", "truth_seeker_kk"]

    def posts(aid: str, prefix: str, n: int, day: str, tags: tuple[str, ...], srcs: list[str]) -> list[dict]:
        return [{"type": "post", "id": f"{prefix}{i}", "account_id": aid, "created_at": f"{day}T0{1 + i % 3}:30:00Z",
                 "text": f"RT @{srcs[i % len(srcs)]}: the council lied again, item {i} #{tags[i % len(tags)]}"}
                for i in range(n)]

    decoys = [e for k in range(4) for e in (_account(f"d{k}", f"decoy_{k}"),
                                            *posts(f"d{k}", f"d{k}p", 10, "2015-06-01", ("news",), [f"paper_{k}"]))]
    replay_stream(pipeline, _lines(_account("a1", "old_voice"), *decoys,
                                   *posts("a1", "o", 30, "2015-06-01", ("stopthecouncil", "ourcity"), sources)))
    replay_stream(pipeline, _lines(*({"type": "enforcement", "account_id": a, "action": "suspend",
                                      "at": "2015-06-02T00:00:00Z"} for a in ("a1", "d0", "d1", "d2", "d3"))))
    replay_stream(pipeline, _lines(_account("n1", "sunrise_poet"),
                                   *posts("n1", "q", 5, "2015-06-03", ("stopthecouncil", "ourcity"), sources)))
    assert _hit(store, _key(store, "n1")) is None  # an unrelated handle: nothing at sign-up
    hit = _hit(store, "post:q4")  # the 5th post is scored
    assert hit["previous_account"] == "a1"
    ev = hit["candidates"][0]["evidence"]["behaviour"]
    assert set(ev["shared"]["retweeted"]) == set(sources)
    assert set(ev["shared"]["hashtags"]) == {"stopthecouncil", "ourcity"}
    assert ev["hour_similarity"] > 0.9  # the stored posts' hours were read back from the database
