"""Twitter API v1.1 adapter: fictional fixtures in the real shapes, plus the real 1,000-tweet sample."""

from __future__ import annotations

import copy
import gzip
import json
import os
from collections import Counter
from pathlib import Path

import pytest

from seawall.events import parse_event
from seawall.ingest.adapters import AdapterError
from seawall.ingest.adapters.twitter_v1 import convert, parse_twitter_time

FIXTURES = Path(__file__).parent / "fixtures" / "adapters"
SAMPLE = "formats/twitter_v1_tweets_sample.jsonl.gz"


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def events_of(obj: dict) -> list[dict]:
    events = convert(obj)
    for event in events:
        parse_event(event)  # every output must be a valid Seawall event
    return events


def test_extended_tweet_account_snapshot():
    account, post = events_of(load("twitter_extended.json"))
    assert account["type"] == "account" and account["action"] == "updated"
    assert account["id"] == "1029384756"
    assert account["handle"] == "harbour_watch"
    assert account["display_name"] == "Harbour Watch"
    # HTML escapes undone and t.co in the bio written out.
    assert account["bio"] == "Coastal news & weather for Port Elara. Tips: https://harbourwatch.example/tips"
    assert account["links"] == ["https://harbourwatch.example", "https://harbourwatch.example/tips"]
    assert account["avatar"] == {"kind": "image", "url": "https://pbs.twimg.com/profile_images/1029384756/a_normal.jpg"}
    assert account["banner"]["url"] == "https://pbs.twimg.com/profile_banners/1029384756/1500000000"
    assert account["location"] == "Port Elara"
    assert (account["followers_count"], account["following_count"], account["posts_count"]) == (5400, 310, 12876)
    assert account["verified"] is True
    parsed = parse_event(account)
    assert parsed.created_at.isoformat() == "2008-08-27T13:08:45+00:00"
    assert parsed.updated_at.isoformat() == "2024-03-05T18:22:10+00:00"


def test_extended_tweet_post_uses_full_text_and_extended_entities():
    _, post = events_of(load("twitter_extended.json"))
    assert post["id"] == "1765100000000000001" and post["account_id"] == "1029384756"
    assert post["text"] == (
        "Storm surge warning for the east pier tonight & tomorrow. Wind gusts > 90 km/h expected. "
        "Details from @ElaraCoastguard: https://coastguard.example/alerts/2024-03-05 #PortElara #StormDelta"
    )
    assert "t.co" not in post["text"]
    assert post["links"] == ["https://coastguard.example/alerts/2024-03-05"]
    assert post["hashtags"] == ["PortElara", "StormDelta"]
    assert post["mentions"] == ["ElaraCoastguard"]
    assert post["media"] == [
        {"id": "1765099999000000001", "kind": "image", "url": "https://pbs.twimg.com/media/FakePic01.jpg",
         "alt_text": "Waves breaking over the east pier railing"},
        {"id": "1765099999000000002", "kind": "image", "url": "https://pbs.twimg.com/media/FakePic02.jpg"},
    ]
    assert post["lang"] == "en"
    assert parse_event(post).created_at.isoformat() == "2024-03-05T18:22:10+00:00"
    assert post["attributes"]["source"] == "Twitter Web App"
    assert post["attributes"]["retweet_count"] == 41 and post["attributes"]["favorite_count"] == 88
    assert "reply_to" not in post and "repost_of" not in post and "quote_of" not in post


def test_classic_truncated_tweet_keeps_cut_text_and_drops_self_link():
    tweet = load("twitter_extended.json")
    del tweet["extended_tweet"]
    _, post = events_of(tweet)
    assert post["text"].startswith("Storm surge warning for the east pier tonight & tomorrow.")
    assert post["text"].endswith("https://twitter.com/i/web/status/1765100000000000001")
    assert post["links"] == []  # the link to the tweet itself is not something the author shared
    assert post["attributes"]["truncated"] is True


def test_retweet_emits_original_then_retweet():
    events = events_of(load("twitter_retweet.json"))
    assert [(e["type"], e["id"]) for e in events] == [
        ("account", "4455667788"), ("account", "1029384756"),
        ("post", "1764700000000000007"), ("post", "1764711111111111111"),
    ]
    original, retweet = events[2], events[3]
    assert retweet["repost_of"] == "1764700000000000007"
    assert retweet["account_id"] == "4455667788"
    assert original["account_id"] == "1029384756"
    assert original["text"] == ("Ferry timetable changes from Monday: the 07:40 sailing moves to 08:10. "
                                "Full list → https://ferries.example/timetable?from=2024-03-11 #PortElara")
    assert retweet["text"] == "RT @harbour_watch: " + original["text"]
    assert retweet["mentions"] == ["harbour_watch"]
    assert original["links"] == ["https://ferries.example/timetable?from=2024-03-11"]
    assert events[0]["attributes"]["default_profile_image"] is True
    assert "bio" not in events[0]  # an empty description is no bio


def test_quote_includes_quoted_status_and_converts_offset_to_utc():
    events = events_of(load("twitter_quote.json"))
    assert [(e["type"], e["id"]) for e in events] == [
        ("account", "4455667788"), ("account", "1029384756"),
        ("post", "1764700000000000007"), ("post", "1764733333333333333"),
    ]
    quote = events[-1]
    assert quote["quote_of"] == "1764700000000000007"
    assert "lang" not in quote  # "und" is no language
    assert parse_event(quote).created_at.isoformat() == "2024-03-04T07:30:00+00:00"  # +0200 -> UTC


def test_reply_with_video_takes_best_mp4_and_drops_media_link_from_text():
    account, post = events_of(load("twitter_reply_video.json"))
    assert post["reply_to"] == "1765100000000000001"
    assert post["attributes"]["in_reply_to_screen_name"] == "harbour_watch"
    assert post["text"] == "@harbour_watch Here is the pier ten minutes ago"
    assert post["mentions"] == ["harbour_watch"]
    assert post["media"] == [{
        "id": "1765109999000000003", "kind": "video", "mime": "video/mp4",
        "url": "https://video.twimg.com/ext_tw_video/1765109999000000003/pu/vid/720x1280/high.mp4",
    }]


def test_numeric_ids_only():
    tweet = load("twitter_reply_video.json")
    del tweet["id_str"], tweet["user"]["id_str"], tweet["in_reply_to_status_id_str"]
    account, post = events_of(tweet)
    assert post["id"] == "1765110000000000009" and account["id"] == "4455667788"
    assert post["reply_to"] == "1765100000000000001"


def test_streaming_timestamp_ms_when_created_at_missing():
    tweet = load("twitter_extended.json")
    del tweet["created_at"]
    _, post = events_of(tweet)
    assert parse_event(post).created_at.isoformat() == "2024-03-05T18:22:10+00:00"


@pytest.mark.parametrize("message", [
    load("twitter_delete.json"),
    {"limit": {"track": 12, "timestamp_ms": "1709670000000"}},
    {"scrub_geo": {"user_id": 1, "user_id_str": "1", "up_to_status_id": 2, "up_to_status_id_str": "2"}},
])
def test_stream_control_messages_are_refused(message):
    with pytest.raises(AdapterError) as info:
        convert(message)
    key = next(iter(message))
    assert f"stream control message '{key}' is not an event" in info.value.reason
    assert info.value.as_dict() == {"field": None, "reason": info.value.reason}


@pytest.mark.parametrize("mutate, field", [
    (lambda t: t.pop("user"), "user"),
    (lambda t: (t.pop("id"), t.pop("id_str")), "id"),
    (lambda t: t["user"].pop("screen_name"), "user.screen_name"),
    (lambda t: t["user"].update(id_str=None, id=None), "user.id"),
    (lambda t: t.update(created_at="yesterday"), "created_at"),
    (lambda t: t["user"].update(created_at="2008-08-27"), "user.created_at"),
    (lambda t: t["user"].update(followers_count="many"), "user.followers_count"),
    (lambda t: t["entities"].update(hashtags="#a #b"), "entities.hashtags"),
    (lambda t: t["extended_entities"]["media"].__setitem__(0, "pic"), "extended_entities.media.0"),
    (lambda t: t.update(user=["not", "an", "object"]), "user"),
])
def test_bad_tweets_name_the_field(mutate, field):
    tweet = load("twitter_reply_video.json")
    mutate(tweet)
    with pytest.raises(AdapterError) as info:
        convert(tweet)
    assert info.value.field == field


def test_bad_nested_retweet_names_the_nested_field():
    tweet = load("twitter_retweet.json")
    del tweet["retweeted_status"]["user"]
    with pytest.raises(AdapterError) as info:
        convert(tweet)
    assert info.value.field == "retweeted_status.user"


def test_non_object_is_refused():
    with pytest.raises(AdapterError) as info:
        convert(["a", "list"])
    assert info.value.field is None and "JSON object" in info.value.reason


def test_twitter_time_parsing():
    assert parse_twitter_time("Wed Aug 27 13:08:45 +0000 2008", "t") == "2008-08-27T13:08:45+00:00"
    assert parse_twitter_time("Wed Aug 27 13:08:45 -0130 2008", "t") == "2008-08-27T14:38:45+00:00"
    with pytest.raises(AdapterError):
        parse_twitter_time("Wed Foo 27 13:08:45 +0000 2008", "t")
    with pytest.raises(AdapterError):
        parse_twitter_time("Wed Feb 31 13:08:45 +0000 2008", "t")


def _sample_path() -> Path | None:
    candidates = []
    if os.environ.get("SEAWALL_SHARED_DATA"):
        candidates.append(Path(os.environ["SEAWALL_SHARED_DATA"]) / SAMPLE)
    candidates.append(Path(__file__).resolve().parents[1].parent / "shared/data" / SAMPLE)
    return next((p for p in candidates if p.exists()), None)


def test_real_sample_converts_and_validates():
    path = _sample_path()
    if path is None:
        pytest.skip("real Twitter v1.1 sample not available (set SEAWALL_SHARED_DATA)")
    converted, refused, kinds = 0, Counter(), Counter()
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        tweets = [json.loads(line) for line in lines if line.strip()]
    for tweet in tweets:
        try:
            events = convert(copy.deepcopy(tweet))
        except AdapterError as exc:
            # Only genuinely malformed objects may be refused, and then with the field named.
            assert exc.field, f"refusal without a field: {exc}"
            refused[exc.field] += 1
            continue
        for event in events:
            parse_event(event)
            kinds[event["type"]] += 1
        post = events[-1]
        assert post["type"] == "post" and post["id"] == tweet["id_str"]
        assert post["account_id"] == tweet["user"]["id_str"]
        if "retweeted_status" in tweet:
            assert post["repost_of"] == tweet["retweeted_status"]["id_str"]
        converted += 1
    print(f"\nreal sample: {len(tweets)} tweets, {converted} converted, {sum(refused.values())} refused "
          f"{dict(refused)}; events {dict(kinds)}")
    assert converted + sum(refused.values()) == len(tweets)
    assert converted == len(tweets), f"refused: {dict(refused)}"


def test_api_v2_response_is_named():
    with pytest.raises(AdapterError) as info:
        convert({"data": {"id": "1", "text": "hi", "author_id": "2"}, "includes": {}})
    assert info.value.field == "data" and "v2" in info.value.reason
