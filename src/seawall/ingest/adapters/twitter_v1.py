"""Twitter API v1.1 tweet objects (REST, search, streaming; classic and extended mode).

One tweet becomes: its author's `account` snapshot, then the events of any retweeted or quoted
tweet (recursively), then the tweet's own `post`. See docs/formats.md for the field table.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

from seawall.ingest.adapters._common import (
    MAX_NESTING,
    Node,
    compact,
    drop_none,
    dedupe_events,
    from_epoch,
    lang,
    require_object,
    unique,
    utc_iso,
)
from seawall.ingest.adapters.errors import AdapterError

# Streaming API messages that are not tweets. A `delete` is the author removing their own tweet,
# not an enforcement by the platform, so it is refused rather than mapped to an enforcement event.
CONTROL_MESSAGES = (
    "delete", "scrub_geo", "limit", "status_withheld", "user_withheld", "disconnect", "warning",
    "friends", "friends_str", "event", "direct_message", "for_user", "user_update",
)
_MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}
# "Wed Aug 27 13:08:45 +0000 2008", parsed by hand because strptime's %a/%b follow the locale.
_TIME_RE = re.compile(r"^\w{3} (\w{3}) (\d{2}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2}) (\d{4})$")
_TCO_RE = re.compile(r"https?://t\.co/[A-Za-z0-9]+")
_TAG_RE = re.compile(r"<[^>]*>")
_MEDIA_KINDS = {"photo": "image", "video": "video", "animated_gif": "gif"}


def parse_twitter_time(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise AdapterError(path, "expected a timestamp like 'Wed Aug 27 13:08:45 +0000 2008'")
    m = _TIME_RE.match(value.strip())
    if not m or m.group(1) not in _MONTHS:
        raise AdapterError(path, f"not a Twitter timestamp: {value[:40]!r}")
    mon, day, hh, mm, ss, sign, oh, om, year = m.groups()
    offset = timedelta(hours=int(oh), minutes=int(om)) * (1 if sign == "+" else -1)
    try:
        tz = timezone(offset)
        return utc_iso(datetime(int(year), _MONTHS[mon], int(day), int(hh), int(mm), int(ss), tzinfo=tz))
    except (ValueError, OverflowError):
        raise AdapterError(path, f"not a valid date: {value[:40]!r}") from None


def _unescape(text: str) -> str:
    # v1.1 escapes exactly these three in tweet text; html.unescape would also decode things the
    # author typed literally (e.g. "&copy").
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _expand(text: str, replacements: dict[str, str]) -> str:
    """Replace t.co links by what they stand for (the reader sees the real link, not t.co)."""
    out = _TCO_RE.sub(lambda m: replacements.get(m.group(0), m.group(0)), text)
    # A removed trailing media link leaves a trailing space behind.
    return out.strip() if out != text else out


def _url_map(entity_sets: list[Node]) -> tuple[dict[str, str], list[str]]:
    """t.co -> expanded URL, and the expanded URLs in order, from `urls` of several entity sets."""
    mapping: dict[str, str] = {}
    links: list[str] = []
    for entities in entity_sets:
        for u in entities.nodes("urls"):
            short, expanded = u.str("url"), u.str("expanded_url")
            if expanded and short:
                mapping[short] = expanded
            if expanded or short:  # very old objects have no expanded_url: t.co is still a link
                links.append(expanded or short)
    return mapping, links


def _account(user: Node, seen_at: str | None) -> dict:
    uid = user.id("id_str") or user.id("id", required=True)
    handle = user.str("screen_name", required=True)
    entities = user.node("entities")
    url_sets = [n for n in (entities.node("url"), entities.node("description")) if n] if entities else []
    mapping, links = _url_map(url_sets)
    if not links and user.str("url"):
        links.append(user.str("url"))  # old objects carry the profile link without entities
    bio = user.text("description")
    event: dict[str, Any] = {
        "type": "account",
        "action": "updated",  # a snapshot taken with the tweet, not the sign-up itself
        "id": uid,
        "handle": handle,
        "display_name": user.text("name"),
        "bio": _expand(_unescape(bio), mapping) if bio else None,
        "links": unique(links),
        "location": user.text("location"),
        "lang": lang(user.text("lang")),
        "followers_count": user.int("followers_count"),
        "following_count": user.int("friends_count"),
        "posts_count": user.int("statuses_count"),
        "verified": user.bool("verified"),
        "created_at": parse_twitter_time(user.raw("created_at"), user.at("created_at")),
        "updated_at": seen_at,
    }
    avatar, banner = user.str("profile_image_url_https") or user.str("profile_image_url"), user.str("profile_banner_url")
    if avatar:
        event["avatar"] = {"kind": "image", "url": avatar}
    if banner:
        event["banner"] = {"kind": "image", "url": banner}
    extras = {k: user.raw(k) for k in ("protected", "default_profile_image", "listed_count",
                                        "favourites_count", "withheld_in_countries")}
    event["attributes"] = compact(extras)
    return drop_none(event)


def _media(entity_sets: list[Node]) -> tuple[list[dict], set[str]]:
    """MediaRefs from the first entity set that has media, and their t.co links (to drop)."""
    for entities in entity_sets:
        items = entities.nodes("media")
        if not items:
            continue
        out, shorts = [], set()
        for m in items:
            kind = _MEDIA_KINDS.get(m.str("type") or "photo", "file")
            ref: dict[str, Any] = {"kind": kind, "url": m.str("media_url_https") or m.str("media_url")}
            if kind in ("video", "gif"):
                # The video itself, not its poster frame: the best mp4 variant when listed.
                info = m.node("video_info")
                variants = [v for v in (info.nodes("variants") if info else []) if v.str("url")
                            and v.str("content_type") == "video/mp4"]
                if variants:
                    best = max(variants, key=lambda v: v.int("bitrate") or 0)
                    ref["url"], ref["mime"] = best.str("url"), "video/mp4"
            media_id = m.id("id_str") or m.id("id")
            if media_id:
                ref["id"] = media_id
            if m.text("ext_alt_text"):
                ref["alt_text"] = m.text("ext_alt_text")
            if m.str("url"):
                shorts.add(m.str("url"))
            out.append(drop_none(ref))
        return out, shorts
    return [], set()


def _tweet(tweet: Node, depth: int) -> tuple[list[dict], dict]:
    """(events before the post, the post) for one tweet object."""
    for key in CONTROL_MESSAGES:
        if key in tweet.data and "user" not in tweet.data:
            raise AdapterError(tweet.path or None, f"stream control message '{key}' is not an event")
    post_id = tweet.id("id_str") or tweet.id("id", required=True)
    user = tweet.node("user", required=True)
    if tweet.has("created_at"):
        created = parse_twitter_time(tweet.raw("created_at"), tweet.at("created_at"))
    elif tweet.has("timestamp_ms"):
        created = from_epoch(tweet.raw("timestamp_ms"), tweet.at("timestamp_ms"), 1000)
    else:
        raise AdapterError(tweet.at("created_at"), "required field is missing")
    account = _account(user, created)
    before: list[dict] = [account]

    # Streaming truncates long tweets and puts the rest under extended_tweet; REST extended mode
    # uses full_text; classic mode only has text (cut at 140 with a link to the tweet).
    ext = tweet.node("extended_tweet")
    if ext and ext.str("full_text") is not None:
        text, src = ext.str("full_text"), ext
    elif tweet.str("full_text") is not None:
        text, src = tweet.str("full_text"), tweet
    else:
        text, src = tweet.str("text") or "", tweet
    # The entities that index the text we chose (extended_tweet's when that is the source).
    primary = src.node("entities") or tweet.node("entities")
    media, media_shorts = _media([n for n in (src.node("extended_entities"), tweet.node("extended_entities"),
                                              primary) if n])
    mapping, links = _url_map([primary] if primary else [])
    # Media t.co links point at the tweet's own photo page; the reader sees the picture instead.
    mapping.update({short: "" for short in media_shorts})
    text = _expand(_unescape(text), mapping)
    # A cut classic-mode tweet links to itself; that link is not something the author shared.
    links = [u for u in links if not u.rstrip("/").endswith(f"/i/web/status/{post_id}")]
    hashtags = [h.str("text") for h in primary.nodes("hashtags")] if primary else []
    mentions = [u.str("screen_name") for u in primary.nodes("user_mentions")] if primary else []

    post: dict[str, Any] = {
        "type": "post", "id": post_id, "account_id": account["id"], "text": text,
        "lang": lang(tweet.text("lang")), "media": media, "links": unique(links),
        "hashtags": unique(hashtags), "mentions": unique(mentions),
        "reply_to": tweet.id("in_reply_to_status_id_str") or tweet.id("in_reply_to_status_id"),
        "quote_of": tweet.id("quoted_status_id_str") or tweet.id("quoted_status_id"),
        "created_at": created,
    }
    cut = bool(tweet.bool("truncated") and not ext and tweet.str("full_text") is None)
    retweeted = tweet.node("retweeted_status")
    if retweeted:
        if depth < MAX_NESTING:
            inner_before, inner = _tweet(retweeted, depth + 1)
            before += inner_before + [inner]
            post["repost_of"] = inner["id"]
            # The retweet's own text is "RT @x: " cut at 140; carry the original when it is
            # complete (a classic-mode original is cut too, and then the RT text says more).
            cut = bool(inner["attributes"].get("truncated"))
            if not cut:
                post["text"] = f"RT @{inner_before[0]['handle']}: {inner['text']}"
        else:
            post["repost_of"] = retweeted.id("id_str") or retweeted.id("id", required=True)
        # v1.1 copies the original's quote onto the retweet; the quote belongs to the original.
        post["quote_of"] = None
    quoted = tweet.node("quoted_status")
    if quoted and depth < MAX_NESTING:
        inner_before, inner = _tweet(quoted, depth + 1)
        before += inner_before + [inner]
        if not retweeted:
            post["quote_of"] = post["quote_of"] or inner["id"]

    extras = {
        "source": _TAG_RE.sub("", tweet.str("source") or "") or None,
        "retweet_count": tweet.int("retweet_count"),
        "favorite_count": tweet.int("favorite_count"),
        "in_reply_to_screen_name": tweet.str("in_reply_to_screen_name"),
        "possibly_sensitive": tweet.bool("possibly_sensitive") or None,
        "withheld_in_countries": tweet.raw("withheld_in_countries") or None,
        # Classic mode cut the text and there is no full version in the object.
        "truncated": cut,
    }
    place = tweet.node("place")
    if place and place.str("full_name"):
        extras["place"] = place.str("full_name")
    post["attributes"] = compact(extras)
    return before, drop_none(post)


def convert(obj: Any) -> list[dict]:
    """One Twitter v1.1 tweet object -> Seawall event dicts (accounts and posts)."""
    node = require_object(obj)
    if "data" in node.data and "user" not in node.data:
        raise AdapterError("data", "this looks like a Twitter API v2 response; only v1.1 tweet objects are read")
    before, post = _tweet(node, 0)
    return dedupe_events(before + [post])
