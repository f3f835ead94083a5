"""AT Protocol adapter: post views, stored records, Jetstream commits (fictional content)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from seawall.events import parse_event
from seawall.ingest.adapters import AdapterError
from seawall.ingest.adapters.atproto import convert

FIXTURES = Path(__file__).parent / "fixtures" / "adapters"
ALICE = "did:plc:4wq7v2kx3nqzjz5c6hbtf2dm"
RIVER = "did:plc:rivr3k5cq2yq7o2ebx6aaaaa"
BOB = "did:web:bob.harbour.example"
ALICE_POST = f"at://{ALICE}/app.bsky.feed.post/3kmxq2yxy4c2a"


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def events_of(obj: dict) -> list[dict]:
    events = convert(obj)
    for event in events:
        parse_event(event)
    return events


def test_postview_author_account():
    account, _ = events_of(load("atproto_postview_facets.json"))
    assert account["type"] == "account" and account["action"] == "updated"
    assert account["id"] == ALICE
    assert account["handle"] == "alice.harbour.example"
    assert account["display_name"] == "Alice 🌊 Marrow"
    assert account["bio"] == "Harbour photos. Opinions my own."
    assert account["avatar"]["url"].startswith("https://cdn.bsky.app/img/avatar/plain/")
    assert parse_event(account).created_at.isoformat() == "2023-05-02T11:20:31.500000+00:00"
    assert "created_at_estimated" not in account["attributes"]


def test_facets_use_utf8_byte_offsets():
    view = load("atproto_postview_facets.json")
    record = view["record"]
    mention = record["facets"][0]["index"]
    # The text before the mention is multi-byte: byte and character offsets differ a lot.
    assert record["text"].index("@river") != mention["byteStart"]
    _, post = events_of(view)
    assert post["id"] == ALICE_POST and post["account_id"] == ALICE
    assert post["mentions"] == ["river.bsky.social"]
    assert post["attributes"]["mention_dids"] == [RIVER]
    assert post["hashtags"] == ["PortElara"]
    assert post["links"] == ["https://harbour.example/notices/2024/storm-delta-closure"]
    # The shortened link text is written out in full; everything else is untouched.
    assert post["text"] == ("Ça déborde 🌊🌊 — الميناء مغلق. @river.bsky.social confirms; read "
                            "https://harbour.example/notices/2024/storm-delta-closure #PortElara")


def test_postview_reply_images_lang_time():
    _, post = events_of(load("atproto_postview_facets.json"))
    assert post["reply_to"] == f"at://{RIVER}/app.bsky.feed.post/3kmxq0parent"
    assert post["attributes"]["reply_root"] == f"at://{RIVER}/app.bsky.feed.post/3kmxp000root"
    assert post["lang"] == "fr"  # langs[0]
    cid1 = "bafkreiimage" + "1".zfill(45)
    assert post["media"][0] == {
        "id": cid1, "kind": "image", "mime": "image/jpeg", "alt_text": "Flooded quay at dusk",
        "url": f"https://cdn.bsky.app/img/feed_fullsize/plain/{ALICE}/{cid1}@jpeg",
    }
    assert "alt_text" not in post["media"][1]  # empty alt is no alt
    assert parse_event(post).created_at.isoformat() == "2024-03-05T18:45:00.123000+00:00"
    assert post["attributes"]["likeCount"] == 17


def test_external_embed_and_prose_link_text():
    account, post = events_of(load("atproto_postview_external.json"))
    assert post["links"] == ["https://harbour.example/notices/closure", "https://news.example/2024/03/05/harbour-closed"]
    assert post["text"] == "Official closure notice (prose link text stays as written)"
    assert parse_event(post).created_at.isoformat() == "2024-03-05T19:00:00+00:00"  # +02:00 -> UTC
    # No author createdAt: the profile's indexedAt stands in, flagged as an estimate.
    assert parse_event(account).created_at.isoformat() == "2023-09-01T08:00:00+00:00"
    assert account["attributes"] == {"created_at_estimated": True, "labels": ["!no-unauthenticated"]}
    assert "display_name" not in account and "avatar" not in account


def test_author_without_any_time_uses_post_time():
    view = load("atproto_postview_external.json")
    del view["author"]["indexedAt"]
    account, post = events_of(view)
    assert account["created_at"] == post["created_at"]
    assert account["attributes"]["created_at_estimated"] is True


def test_feed_item_quote_with_media_includes_quoted_post():
    events = events_of(load("atproto_feeditem_quote.json"))
    assert [(e["type"], e["id"]) for e in events] == [
        ("account", RIVER), ("account", ALICE), ("post", ALICE_POST),
        ("post", f"at://{RIVER}/app.bsky.feed.post/3kmxs9quote00"),
    ]
    quote = events[-1]
    assert quote["quote_of"] == ALICE_POST
    assert quote["media"] == [{
        "id": "bafkreilegacyblob", "kind": "image", "mime": "image/png", "alt_text": "Lighthouse beam over waves",
        "url": f"https://cdn.bsky.app/img/feed_fullsize/plain/{RIVER}/bafkreilegacyblob@png",
    }]
    assert events[2]["media"][0]["url"].endswith("@jpeg")  # the quoted post's own images view


def test_plain_record_quote_without_view():
    view = load("atproto_postview_external.json")
    view["record"]["embed"] = {"$type": "app.bsky.embed.record", "record": {"uri": ALICE_POST, "cid": "bafy"}}
    del view["embed"]
    _, post = events_of(view)
    assert post["quote_of"] == ALICE_POST
    assert post["links"] == ["https://harbour.example/notices/closure"]


def test_stored_record_form():
    record = load("atproto_postview_facets.json")["record"]
    (post,) = events_of({"uri": ALICE_POST, "cid": "bafyrei", "value": record})
    assert post["id"] == ALICE_POST and post["account_id"] == ALICE


def test_jetstream_post_commit():
    (post,) = events_of(load("atproto_jetstream_post.json"))
    assert post["id"] == f"at://{BOB}/app.bsky.feed.post/3kmxt2abcd001"  # built from did + collection + rkey
    assert post["account_id"] == BOB
    assert post["text"] == "ركبت العبّارة 🚢 with @alice.harbour.example"
    assert post["mentions"] == ["alice.harbour.example"]
    assert post["reply_to"] == ALICE_POST
    assert post["lang"] == "ar"
    assert post["hashtags"] == ["ferry"]  # record-level tags
    # No view, so no CDN URL: the blob CID identifies the video.
    assert post["media"] == [{"id": "bafkreivideo0001", "kind": "video", "mime": "video/mp4",
                              "alt_text": "Ferry leaving the dock"}]
    assert post["attributes"]["self_labels"] == ["graphic-media"]
    assert post["attributes"]["cid"] == "bafyreijetcid0001"
    assert parse_event(post).created_at.isoformat() == "2024-03-05T21:00:00+00:00"


def test_jetstream_post_without_created_at_uses_time_us():
    commit = load("atproto_jetstream_post.json")
    del commit["commit"]["record"]["createdAt"]
    (post,) = events_of(commit)
    assert parse_event(post).created_at.isoformat() == "2024-03-05T21:00:00.123456+00:00"


def test_jetstream_follow_commit():
    (follow,) = events_of(load("atproto_jetstream_follow.json"))
    assert follow == {
        "type": "follow", "action": "follow", "follower_id": BOB, "followee_id": ALICE,
        "event_id": f"at://{BOB}/app.bsky.graph.follow/3kmxt3follow1", "at": "2024-03-05T21:01:40+00:00",
    }


def test_out_of_range_facet_falls_back_to_did():
    view = load("atproto_postview_facets.json")
    view["record"]["facets"][0]["index"] = {"byteStart": 5, "byteEnd": 100_000}
    view["record"]["facets"][1]["index"] = {"byteStart": 1, "byteEnd": 2}  # inside the two bytes of "Ç"
    _, post = events_of(view)
    assert post["mentions"] == [RIVER]
    assert post["text"] == view["record"]["text"]  # a slice that is no shortened link is not rewritten


@pytest.mark.parametrize("message, field, words", [
    (load("atproto_jetstream_like.json"), "commit.collection", "app.bsky.feed.like"),
    ({"did": BOB, "time_us": 1, "kind": "commit", "commit": {"operation": "delete", "collection": "app.bsky.graph.follow",
                                                          "rkey": "3k", "rev": "r"}}, "commit.operation", "delete"),
    ({"did": BOB, "time_us": 1, "kind": "identity", "identity": {"did": BOB, "handle": "bob.example"}}, "kind", "identity"),
    ({"did": BOB, "time_us": 1, "kind": "commit", "commit": {"operation": "create", "collection": "app.bsky.feed.post",
                                                          "rkey": "3k", "record": {"$type": "app.bsky.feed.like"}}},
     "commit.record.$type", "does not match"),
])
def test_non_post_records_are_refused(message, field, words):
    with pytest.raises(AdapterError) as info:
        convert(message)
    assert info.value.field == field and words in info.value.reason


@pytest.mark.parametrize("mutate, field", [
    (lambda v: v.pop("record"), "record"),
    (lambda v: v.update(uri="https://bsky.app/profile/x/post/y"), "uri"),
    (lambda v: v.update(uri=f"at://{ALICE}/app.bsky.feed.like/3k"), "record.$type"),
    (lambda v: v["author"].pop("handle"), "author.handle"),
    (lambda v: v["author"].update(did="did:plc:someoneelse"), "author.did"),
    (lambda v: v["record"].update(createdAt="tomorrow"), "record.createdAt"),
    (lambda v: v["record"].update(text=42), "record.text"),
    (lambda v: v["record"]["facets"][0].update(features="mention"), "record.facets.0.features"),
    (lambda v: v["record"]["embed"]["images"].__setitem__(0, None) or v["record"]["embed"].update(images={}),
     "record.embed.images"),
    (lambda v: v["record"]["reply"]["parent"].pop("uri"), "record.reply.parent.uri"),
    (lambda v: v["record"].update(langs="en"), "record.langs"),
])
def test_bad_post_views_name_the_field(mutate, field):
    view = load("atproto_postview_facets.json")
    mutate(view)
    with pytest.raises(AdapterError) as info:
        convert(view)
    assert info.value.field == field


def test_unrecognised_shape():
    with pytest.raises(AdapterError) as info:
        convert({"text": "just a record without its uri"})
    assert info.value.field is None
