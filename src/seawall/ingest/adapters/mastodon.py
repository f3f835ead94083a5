"""Mastodon REST/streaming JSON: `Status` and `Account` entities.

A status becomes its author's `account` snapshot, the events of a reblogged or quoted status,
then its own `post`. A bare Account entity becomes one `account` event. Mastodon ids are local
to the instance that served them (the same status has different ids on different instances), so
feed one instance's view per Seawall deployment; the global `uri` is kept in attributes.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any

from seawall.ingest.adapters._common import (
    MAX_NESTING,
    Node,
    compact,
    drop_none,
    dedupe_events,
    lang,
    parse_iso_time,
    require_object,
    unique,
)
from seawall.ingest.adapters.errors import AdapterError

_MEDIA_KINDS = {"image": "image", "video": "video", "gifv": "gif", "audio": "audio"}
_VOID_TAGS = {"br", "img", "hr", "wbr", "input", "meta", "link", "source", "col", "area", "base", "embed"}
_BLOCK_TAGS = {"p", "blockquote", "li", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "div"}


class _HtmlText(HTMLParser):
    """Mastodon's sanitised HTML -> the plain text a reader sees, plus the links in it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        # Open elements inside a `quote-inline` paragraph: the "RE: <link>" fallback for old
        # clients, which current clients hide because the quote itself is shown.
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        classes = a.get("class", "").split()
        if self.hidden or "quote-inline" in classes:
            self.hidden += tag not in _VOID_TAGS
            return
        if tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCK_TAGS:
            self._paragraph_break()
        elif tag == "a":
            # Mention and hashtag anchors point at profiles and tag pages, not shared content.
            if a.get("href") and "mention" not in classes and "hashtag" not in classes and a.get("rel") != "tag":
                self.links.append(a["href"])

    def handle_endtag(self, tag: str) -> None:
        if self.hidden:
            self.hidden -= tag not in _VOID_TAGS
        elif tag in _BLOCK_TAGS:
            self._paragraph_break()

    def handle_data(self, data: str) -> None:
        # The text of a link includes its "invisible" spans, so a long URL reads in full.
        if not self.hidden:
            self.parts.append(data)

    def _paragraph_break(self) -> None:
        if self.parts and not "".join(self.parts[-2:]).endswith("\n\n"):
            self.parts.append("\n\n")

    def result(self) -> str:
        return "".join(self.parts).strip()


def html_to_text(html: str, path: str = "content") -> tuple[str, list[str]]:
    """(plain text, hrefs of non-mention/non-hashtag links) of a Mastodon HTML fragment."""
    parser = _HtmlText()
    try:
        parser.feed(html)
        parser.close()
    except (AssertionError, ValueError, IndexError):  # html.parser on hostile markup
        raise AdapterError(path, "unparseable HTML") from None
    return parser.result(), parser.links


def convert_account(account: Node, seen_at: str | None = None) -> dict:
    """A Mastodon Account entity -> one `account` event dict (a snapshot: action "updated")."""
    handle = account.str("acct") or account.str("username", required=True)
    note = account.str("note")
    bio, links = html_to_text(note, account.at("note")) if note else ("", [])
    for field in account.nodes("fields"):
        value = field.str("value")
        if value:
            links += html_to_text(value, field.at("value"))[1]
    event: dict[str, Any] = {
        "type": "account",
        "action": "updated",
        "id": account.id("id", required=True),
        "handle": handle,
        "display_name": account.text("display_name"),
        "bio": bio or None,
        "links": unique(links),
        "followers_count": account.int("followers_count"),
        "following_count": account.int("following_count"),
        "posts_count": account.int("statuses_count"),
        "created_at": parse_iso_time(account.raw("created_at"), account.at("created_at")),
        "updated_at": seen_at,
    }
    # Instances serve ".../original/missing.png" when none was uploaded: the same placeholder for
    # every account, so it would make unrelated accounts' images "match".
    for key, target in (("avatar", "avatar"), ("header", "banner")):
        url = account.str(key)
        if url and not url.endswith("/original/missing.png"):
            event[target] = {"kind": "image", "url": url}
    extras: dict[str, Any] = {k: account.raw(k) for k in ("bot", "locked", "group", "suspended", "limited")}
    extras["url"] = account.str("url")
    moved = account.node("moved")
    if moved:
        # An account that moved elsewhere: the new handle matters for returning-account checks.
        extras["moved_to"] = moved.str("acct") or moved.str("username")
    event["attributes"] = compact(extras)
    return drop_none(event)


def _media(status: Node) -> list[dict]:
    out = []
    for m in status.nodes("media_attachments"):
        ref = {
            "id": m.id("id"),
            "kind": _MEDIA_KINDS.get(m.str("type") or "", "file"),
            # `url` is the instance's cached copy; remote_url the origin's, when not yet cached.
            "url": m.str("url") or m.str("remote_url"),
            "alt_text": m.text("description"),
        }
        out.append(drop_none(ref))
    return out


def _quoted(status: Node) -> tuple[Node | None, str | None]:
    """(quoted status, quoted id) across Mastodon 4.4 `quote` and the older forks' shapes."""
    quote = status.raw("quote")
    if isinstance(quote, dict):
        q = Node(quote, status.at("quote"))
        if q.has("content") or q.has("account"):  # Fedibird/glitch-style: the status itself
            return q, q.id("id")
        inner = q.node("quoted_status")  # 4.4: {"state", "quoted_status"} or shallow "quoted_status_id"
        if inner:
            return inner, inner.id("id")
        return None, q.id("quoted_status_id")
    if quote is not None:
        raise AdapterError(status.at("quote"), "expected an object")
    return None, status.id("quote_id")


def _status(status: Node, depth: int) -> tuple[list[dict], dict]:
    created = parse_iso_time(status.raw("created_at"), status.at("created_at"))
    account = convert_account(status.node("account", required=True), created)
    before: list[dict] = [account]
    content = status.str("content")
    text, links = html_to_text(content, status.at("content")) if content else ("", [])
    spoiler = status.text("spoiler_text")
    if spoiler:
        # The content warning is read first, and is text the author wrote.
        text = f"{spoiler}\n\n{text}" if text else spoiler
    card = status.node("card")
    if card and card.str("url"):
        links.append(card.str("url"))
    post: dict[str, Any] = {
        "type": "post",
        "id": status.id("id", required=True),
        "account_id": account["id"],
        "text": text,
        "lang": lang(status.text("language")),
        "media": _media(status),
        "links": unique(links),
        "hashtags": unique(t.str("name") for t in status.nodes("tags")),
        "mentions": unique(m.str("acct") or m.str("username") for m in status.nodes("mentions")),
        "reply_to": status.id("in_reply_to_id"),
        "created_at": created,
    }
    reblog = status.node("reblog")
    if reblog:
        post["repost_of"] = reblog.id("id", required=True)
        if depth < MAX_NESTING:
            inner_before, inner = _status(reblog, depth + 1)
            before += inner_before + [inner]
    quoted, quote_id = _quoted(status)
    post["quote_of"] = quote_id
    if quoted is not None and depth < MAX_NESTING:
        inner_before, inner = _status(quoted, depth + 1)
        before += inner_before + [inner]
    extras: dict[str, Any] = {k: status.raw(k) for k in (
        "url", "uri", "visibility", "sensitive", "replies_count", "reblogs_count", "favourites_count")}
    extras["in_reply_to_account_id"] = status.raw("in_reply_to_account_id")
    extras["spoiler_text"] = spoiler
    application = status.node("application")
    extras["application"] = application.str("name") if application else None
    poll = status.node("poll")
    if poll:
        extras["poll_options"] = [o.str("title") for o in poll.nodes("options") if o.str("title")]
    post["attributes"] = compact(extras)
    return before, drop_none(post)


def convert_status(obj: Any) -> list[dict]:
    """A Mastodon Status entity -> account, nested (reblog/quote) and post event dicts."""
    before, post = _status(require_object(obj), 0)
    return dedupe_events(before + [post])


def convert(obj: Any) -> list[dict]:
    """A Status, an Account, or a streaming `update` message -> Seawall event dicts."""
    node = require_object(obj)
    if node.has("event") and "payload" in node.data:
        # Streaming API message: {"event": "update", "payload": "<status JSON>"}.
        event = node.raw("event")
        if event not in ("update", "status.update"):
            raise AdapterError("event", f"stream message '{event}' is not a status")
        payload = node.raw("payload")
        if isinstance(payload, str):
            try:
                payload = json.loads(payload)
            except (ValueError, RecursionError):
                raise AdapterError("payload", "not valid JSON") from None
        if not isinstance(payload, dict):
            raise AdapterError("payload", "expected a status object")
        return convert_status(payload)
    if "content" in node.data:
        return convert_status(obj)
    if "account" in node.data and "type" in node.data:
        raise AdapterError("type", "a Mastodon notification is not a status; convert its 'status' instead")
    if "username" in node.data or "acct" in node.data:
        return [convert_account(node)]
    raise AdapterError(None, "neither a Mastodon status (content, account) nor an account (username, acct)")


__all__ = ["convert", "convert_account", "convert_status", "html_to_text"]
