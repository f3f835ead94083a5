"""Mastodon adapter: Status and Account entities (fictional content in the real API shapes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from seawall.events import parse_event
from seawall.ingest.adapters import AdapterError
from seawall.ingest.adapters.mastodon import convert, html_to_text

FIXTURES = Path(__file__).parent / "fixtures" / "adapters"


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def events_of(obj: dict) -> list[dict]:
    events = convert(obj)
    for event in events:
        parse_event(event)
    return events


def test_status_account():
    account, _ = events_of(load("mastodon_status.json"))
    assert account["type"] == "account" and account["action"] == "updated"
    assert account["id"] == "109876543210987654"
    assert account["handle"] == "tidewatcher"  # local account: acct has no domain
    assert account["display_name"] == "Tide Watcher 🌊"
    assert account["bio"] == ("Volunteer sea-level logger & amateur photographer.\n\n"
                              "Posts in EN/FR. Blog: https://tides.example/blog")
    # Links from the bio and from profile fields; "they/them" is no link.
    assert account["links"] == ["https://tides.example/blog", "https://pix.example/tidewatcher"]
    assert account["avatar"]["url"].endswith("/original/a1b2c3.png")
    assert "banner" not in account  # the instance's "missing.png" placeholder is no banner
    assert (account["followers_count"], account["following_count"], account["posts_count"]) == (214, 180, 1520)
    assert parse_event(account).created_at.isoformat() == "2022-11-07T00:00:00+00:00"


def test_status_post():
    _, post = events_of(load("mastodon_status.json"))
    assert post["id"] == "112054321098765432" and post["account_id"] == "109876543210987654"
    assert post["text"] == (
        "Storm photos, flooding\n\n"
        "@lena your 18:00 snapshot matches mine: water is over the quay & rising.\n\n"
        "Tide table: https://tides.example/elara/2024-03-05?station=east&units=cm\n"
        "Stay off the pier tonight.\n\n"
        "#PortElara #StormDelta"
    )
    # Mention and hashtag anchors are not links; the card repeats the content link (deduplicated).
    assert post["links"] == ["https://tides.example/elara/2024-03-05?station=east&units=cm"]
    assert post["hashtags"] == ["portelara", "stormdelta"]
    assert post["mentions"] == ["lena@fjord.example"]
    assert post["reply_to"] == "112054300000000001"
    assert post["lang"] == "en"
    assert [m["kind"] for m in post["media"]] == ["image", "gif"]
    assert post["media"][0] == {
        "id": "112054320000000001", "kind": "image",
        "url": "https://files.social.example/media_attachments/files/112/054/320/000/000/001/original/pier.jpg",
        "alt_text": "Sea water covering the quay next to the east pier",
    }
    assert "alt_text" not in post["media"][1]
    assert parse_event(post).created_at.isoformat() == "2024-03-05T18:40:12.345000+00:00"
    attrs = post["attributes"]
    assert attrs["url"] == "https://social.example/@tidewatcher/112054321098765432"
    assert attrs["spoiler_text"] == "Storm photos, flooding" and attrs["sensitive"] is True
    assert attrs["in_reply_to_account_id"] == "110222333444555666"
    assert attrs["application"] == "Tusky"


def test_reblog_of_remote_status():
    events = events_of(load("mastodon_reblog.json"))
    assert [(e["type"], e["id"]) for e in events] == [
        ("account", "109876543210987654"), ("account", "110222333444555666"),
        ("post", "112050000000000777"), ("post", "112054400000000000"),
    ]
    remote, original, reblog = events[1], events[2], events[3]
    assert remote["handle"] == "lena@fjord.example"
    assert remote["bio"] == "Automated harbour camera snapshots every hour.\nRun by @ops"
    assert remote["attributes"]["bot"] is True
    assert remote["attributes"]["moved_to"] == "lena@new-fjord.example"
    assert reblog["repost_of"] == "112050000000000777"
    assert reblog["text"] == ""  # Mastodon gives a reblog no content of its own
    assert original["text"] == "Hamnkamera 06:00 – vattennivå +42 cm."
    assert original["lang"] == "sv"
    # Not yet cached by the local instance: the origin's URL.
    assert original["media"][0]["url"] == "https://fjord.example/system/media_attachments/files/cam0600.jpg"


def test_quote_hides_inline_fallback_and_keeps_poll():
    events = events_of(load("mastodon_quote.json"))
    assert [e["id"] for e in events] == [
        "109876543210987654", "110222333444555666", "112050000000000777", "112054500000000000"]
    post = events[-1]
    assert post["quote_of"] == "112050000000000777"
    assert post["text"] == "+42 cm at dawn, and it is still rising."
    assert post["links"] == []  # the "RE:" link is the quote itself
    assert post["attributes"]["poll_options"] == ["Above +50 cm", "Below +50 cm"]
    assert parse_event(post).created_at.isoformat() == "2024-03-05T19:15:00+00:00"  # +01:00 -> UTC


def test_shallow_quote_and_fork_quote():
    status = load("mastodon_quote.json")
    status["quote"] = {"state": "pending", "quoted_status_id": "999"}
    assert events_of(status)[-1]["quote_of"] == "999"
    status["quote"] = load("mastodon_reblog.json")["reblog"]  # forks put the status itself there
    assert events_of(status)[-1]["quote_of"] == "112050000000000777"


def test_bare_remote_account():
    (account,) = events_of(load("mastodon_account_remote.json"))
    assert account["id"] == "110222333444555666"
    assert account["handle"] == "lena@fjord.example"
    assert account["display_name"] == "Lena Åberg"
    assert account["banner"]["url"].endswith("/hd01.jpg")
    assert "updated_at" not in account


def test_streaming_update_message():
    status = load("mastodon_status.json")
    events = events_of({"stream": ["public"], "event": "update", "payload": json.dumps(status)})
    assert events[-1]["id"] == status["id"]
    with pytest.raises(AdapterError) as info:
        convert({"stream": ["public"], "event": "delete", "payload": "112054321098765432"})
    assert info.value.field == "event"


def test_neither_status_nor_account():
    with pytest.raises(AdapterError) as info:
        convert({"id": "1", "name": "a list, perhaps"})
    assert info.value.field is None and "neither" in info.value.reason


@pytest.mark.parametrize("mutate, field", [
    (lambda s: s.pop("account"), "account"),
    (lambda s: s.pop("id"), "id"),
    (lambda s: s["account"].pop("id"), "account.id"),
    (lambda s: (s["account"].pop("acct"), s["account"].pop("username")), "account.username"),
    (lambda s: s.update(created_at="5 March"), "created_at"),
    (lambda s: s["account"].update(created_at=20221107), "account.created_at"),
    (lambda s: s.update(content=["<p>hi</p>"]), "content"),
    (lambda s: s["media_attachments"].__setitem__(1, 7), "media_attachments.1"),
    (lambda s: s["mentions"][0].update(acct=["lena"]), "mentions.0.acct"),
    (lambda s: s["account"]["fields"][0].update(value={"a": 1}), "account.fields.0.value"),
    (lambda s: s.update(reblog={"id": "5", "content": "", "created_at": "2024-03-05T06:00:00Z"}), "reblog.account"),
])
def test_bad_statuses_name_the_field(mutate, field):
    status = load("mastodon_status.json")
    mutate(status)
    with pytest.raises(AdapterError) as info:
        convert(status)
    assert info.value.field == field


def test_html_to_text():
    text, links = html_to_text(
        '<p>Fish &amp; chips&nbsp;&lt;3</p><p>line one<br>line two<br/>'
        '<a href="https://a.example/x" rel="nofollow">a.example/x</a> '
        '<a href="https://inst.example/tags/x" class="mention hashtag" rel="tag">#<span>x</span></a></p>'
    )
    assert text == "Fish & chips\u00a0<3\n\nline one\nline two\na.example/x #x"
    assert links == ["https://a.example/x"]
    assert html_to_text("plain text, no markup") == ("plain text, no markup", [])
    assert html_to_text("<p>unclosed <b>bold") == ("unclosed bold", [])


def test_notification_is_not_a_status():
    status = load("mastodon_status.json")
    notification = {"id": "3301", "type": "mention", "created_at": status["created_at"],
                    "account": status["account"], "status": status}
    with pytest.raises(AdapterError) as info:
        convert(notification)
    assert info.value.field == "type" and "notification" in info.value.reason
    assert events_of(notification["status"])[-1]["id"] == status["id"]
