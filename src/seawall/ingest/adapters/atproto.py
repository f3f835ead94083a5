"""AT Protocol (Bluesky) `app.bsky.feed.post` records, and follow commits.

Accepted shapes, all decoded JSON:
- a post view from the AppView API (`app.bsky.feed.defs#postView`: uri, cid, author, record,
  embed view), also wrapped as a feed item (`{"post": postView, ...}`);
- a stored record (`com.atproto.repo.getRecord`/`listRecords`, or an embedded `#viewRecord`:
  uri, value);
- a Jetstream commit (`{"did", "time_us", "kind": "commit", "commit": {...}}`).
The CBOR firehose (`com.atproto.sync.subscribeRepos`) must be decoded to JSON first.
Post ids are at:// URIs and account ids are DIDs, which are global and stable (handles change).
"""

from __future__ import annotations

from typing import Any

from seawall.ingest.adapters._common import (
    MAX_NESTING,
    Node,
    compact,
    drop_none,
    dedupe_events,
    from_epoch,
    lang,
    parse_iso_time,
    require_object,
    unique,
)
from seawall.ingest.adapters.errors import AdapterError

POST = "app.bsky.feed.post"
FOLLOW = "app.bsky.graph.follow"
_FACET = "app.bsky.richtext.facet#"
_EMBED = "app.bsky.embed."


def parse_at_uri(uri: str, path: str) -> tuple[str, str, str]:
    """at://<did or handle>/<collection>/<rkey> -> its three parts."""
    parts = uri[5:].split("/") if uri.startswith("at://") else []
    if len(parts) != 3 or not all(parts):
        raise AdapterError(path, f"expected at://<did>/<collection>/<rkey>, got {uri[:80]!r}")
    return parts[0], parts[1], parts[2]


def _labels(node: Node | None, key: str = "labels") -> list[str]:
    """Label values from a view's `labels` array or a record's self-labels object."""
    if node is None:
        return []
    raw = node.raw(key)
    if isinstance(raw, dict):  # record self-labels: {"$type": "...#selfLabels", "values": [...]}
        return [v.str("val") for v in Node(raw, node.at(key)).nodes("values") if v.str("val")]
    return [v.str("val") for v in node.nodes(key) if v.str("val")]


def _account(author: Node, post_time: str) -> dict:
    # Post views carry the author's createdAt only on newer AppViews. Without it we fall back to
    # the profile's indexedAt, then to the post's own time: both are upper bounds of the true
    # creation time (the account existed by then), flagged so account-age rules can ignore them.
    if author.has("createdAt"):
        created, estimated = parse_iso_time(author.raw("createdAt"), author.at("createdAt")), False
    elif author.has("indexedAt"):
        created, estimated = parse_iso_time(author.raw("indexedAt"), author.at("indexedAt")), True
    else:
        created, estimated = post_time, True
    event: dict[str, Any] = {
        "type": "account", "action": "updated",
        "id": author.str("did", required=True), "handle": author.str("handle", required=True),
        "display_name": author.text("displayName"), "bio": author.text("description"),
        "followers_count": author.int("followersCount"), "following_count": author.int("followsCount"),
        "posts_count": author.int("postsCount"), "created_at": created, "updated_at": post_time,
    }
    if author.str("avatar"):
        event["avatar"] = {"kind": "image", "url": author.str("avatar")}
    if author.str("banner"):
        event["banner"] = {"kind": "image", "url": author.str("banner")}
    extras = {"created_at_estimated": estimated or None, "labels": _labels(author) or None}
    event["attributes"] = compact(extras)
    return drop_none(event)


def _strip_scheme(url: str) -> str:
    return url.split("://", 1)[-1]


def _facets(record: Node, text: str) -> tuple[str, list[str], list[str], list[str], list[str]]:
    """(text with shortened links written out, links, mentions, mention DIDs, hashtags)."""
    # Facet indexes are UTF-8 *byte* offsets. surrogatepass keeps a lone surrogate (legal in
    # JSON, not in UTF-8) from crashing the encoder.
    data = text.encode("utf-8", "surrogatepass")
    links, mentions, dids, tags, spans = [], [], [], [], []
    for facet in record.nodes("facets"):
        index = facet.node("index")
        start, end = (index.int("byteStart"), index.int("byteEnd")) if index else (None, None)
        valid = start is not None and end is not None and 0 <= start < end <= len(data)
        shown = data[start:end].decode("utf-8", "replace") if valid else ""
        for feature in facet.nodes("features"):
            kind = (feature.str("$type") or "").removeprefix(_FACET)
            if kind == "link" and feature.str("uri"):
                uri = feature.str("uri")
                links.append(uri)
                # Clients show "example.com/long/pa..."; write the real link out when the shown
                # text is such a shortening, but keep link text that is prose ("read this").
                head = _strip_scheme(shown).rstrip(".…")
                if valid and head and _strip_scheme(uri).startswith(head):
                    spans.append((start, end, uri))
            elif kind == "mention" and feature.str("did"):
                dids.append(feature.str("did"))
                # The handle as written at posting time; the DID when the slice is not one.
                mentions.append(shown[1:] if shown.startswith("@") and len(shown) > 1 else feature.str("did"))
            elif kind == "tag" and feature.str("tag"):
                tags.append(feature.str("tag").lstrip("#"))
    if spans:
        out, pos = [], 0
        for start, end, uri in sorted(spans):
            if start >= pos:  # overlapping facets are malformed; keep the first
                out += [data[pos:start], uri.encode("utf-8", "surrogatepass")]
                pos = end
        text = b"".join(out + [data[pos:]]).decode("utf-8", "replace")
    return text, links, mentions, dids, tags


def _blob_id(blob: Node | None) -> tuple[str | None, str | None]:
    """(CID, mime type) of a blob, in its current (`ref.$link`) or legacy (`cid`) form."""
    if blob is None:
        return None, None
    ref = blob.raw("ref")
    cid = Node(ref, blob.at("ref")).str("$link") if isinstance(ref, dict) else blob.str("cid")
    return cid, blob.str("mimeType")


def _view_part(view: Node | None, embed_type: str) -> Node | None:
    """The view matching a record embed: `...images` pairs with `...images#view`."""
    if view is None:
        return None
    view_type = view.str("$type")
    return view if view_type is None or view_type.split("#")[0] == embed_type else None


def _embed(embed: Node | None, view: Node | None) -> tuple[list[dict], list[str], str | None]:
    """(media, links, quoted post URI) of a record's embed; `view` adds CDN URLs when present."""
    if embed is None:
        return [], [], None
    kind = embed.str("$type") or ""
    view = _view_part(view, kind)
    short = kind.removeprefix(_EMBED)
    if short == "images":
        views = view.nodes("images") if view else []
        media = []
        for i, image in enumerate(embed.nodes("images")):
            cid, mime = _blob_id(image.node("image"))
            url = views[i].str("fullsize") if i < len(views) else None
            ref = {"id": cid, "kind": "image", "url": url, "mime": mime, "alt_text": image.text("alt")}
            media.append(drop_none(ref))
        return media, [], None
    if short == "video":
        cid, mime = _blob_id(embed.node("video"))
        ref = {"id": cid, "kind": "video", "url": view.str("playlist") if view else None, "mime": mime,
               "alt_text": embed.text("alt")}
        return [drop_none(ref)], [], None
    if short == "external":
        external = embed.node("external")
        return [], [external.str("uri")] if external and external.str("uri") else [], None
    if short == "record":
        record = embed.node("record")
        return [], [], record.str("uri") if record else None
    if short == "recordWithMedia":
        _, _, quote = _embed(embed.node("record"), view.node("record") if view else None)
        media, links, _ = _embed(embed.node("media"), view.node("media") if view else None)
        return media, links, quote
    return [], [], None  # a newer embed type: nothing we know how to read


def _post(record: Node, uri: str, did: str, view: Node | None, fallback_time: str | None) -> dict:
    if record.has("createdAt") or fallback_time is None:
        created = parse_iso_time(record.raw("createdAt"), record.at("createdAt"))
    else:
        created = fallback_time
    text, links, mentions, dids, tags = _facets(record, record.str("text") or "")
    media, embed_links, quote_of = _embed(record.node("embed"), view)
    reply = record.node("reply")
    parent, root = (reply.node("parent"), reply.node("root")) if reply else (None, None)
    langs = record.strs("langs")
    extras = {
        "mention_dids": unique(dids) or None,
        "reply_root": root.str("uri") if root else None,
        "self_labels": _labels(record) or None,
    }
    return {
        "type": "post", "id": uri, "account_id": did, "text": text,
        **({"lang": lang(langs[0])} if langs and lang(langs[0]) else {}),
        "media": media, "links": unique(links + embed_links),
        # `tags` on the record are hashtags the author added outside the text.
        "hashtags": unique(tags + [t.lstrip("#") for t in record.strs("tags")]),
        "mentions": unique(mentions),
        **({"reply_to": parent.str("uri", required=True)} if parent else {}),
        **({"quote_of": quote_of} if quote_of else {}),
        "created_at": created,
        "attributes": compact(extras),
    }


def _quoted_view(view: Node | None) -> Node | None:
    """The `#viewRecord` of a quoted post inside a post view's embed, if it is a post."""
    kind = (view.str("$type") or "") if view else ""
    if kind.startswith(_EMBED + "recordWithMedia"):
        view = view.node("record")  # type: ignore[union-attr]  # recordWithMedia#view -> record#view
    elif not kind.startswith(_EMBED + "record"):
        return None
    inner = view.node("record") if view else None
    if inner is None or not (inner.str("$type") or "").endswith("#viewRecord"):
        return None  # not found, blocked, or a feed/list rather than a post
    value = inner.node("value")
    return inner if value and value.str("$type") == POST else None


def _envelope(node: Node, depth: int) -> list[dict]:
    uri = node.str("uri", required=True)
    authority, collection, _ = parse_at_uri(uri, node.at("uri"))
    record = node.node("record") or node.node("value")
    if record is None:
        raise AdapterError(node.at("record"), "required field is missing")
    kind = record.str("$type") or collection
    if collection != POST or kind != POST:
        raise AdapterError(record.at("$type"), f"'{kind}' records are not posts; only {POST} is converted")
    author = node.node("author")
    author_did = author.str("did", required=True) if author else None
    if author_did and authority.startswith("did:") and author_did != authority:
        raise AdapterError(author.at("did"), "does not match the repository in the post's uri")  # type: ignore[union-attr]
    # Without an author the uri names the repository: a DID, or (rarely) a handle, kept as given.
    did = author_did or authority
    view = node.node("embed") or next(iter(node.nodes("embeds")), None)
    indexed = parse_iso_time(node.raw("indexedAt"), node.at("indexedAt")) if node.has("indexedAt") else None
    post = _post(record, uri, did, view, indexed)
    events = [_account(author, post["created_at"])] if author else []
    quoted = _quoted_view(view) if depth < MAX_NESTING else None
    if quoted is not None:
        events += _envelope(quoted, depth + 1)
    extras = {k: node.raw(k) for k in ("cid", "replyCount", "repostCount", "likeCount", "quoteCount")}
    extras["labels"] = _labels(node) or None
    post["attributes"].update(compact(extras))
    return events + [post]


def _commit(node: Node) -> list[dict]:
    kind = node.str("kind")
    if kind is not None and kind != "commit":
        raise AdapterError("kind", f"Jetstream '{kind}' messages are not content events")
    did = node.str("did", required=True)
    commit = node.node("commit", required=True)
    operation = commit.str("operation", required=True)
    collection = commit.str("collection", required=True)
    uri = f"at://{did}/{collection}/{commit.str('rkey', required=True)}"
    if operation == "delete":
        # A delete names only the record key: an unfollow cannot say whom, a post delete is the
        # author's own choice, not a platform enforcement.
        raise AdapterError(commit.at("operation"), f"a delete of {collection} carries no record to convert")
    time = from_epoch(node.raw("time_us"), "time_us", 1_000_000) if node.has("time_us") else None
    record = commit.node("record", required=True)
    if record.str("$type") not in (None, collection):
        raise AdapterError(record.at("$type"), f"record type does not match collection {collection!r}")
    if collection == FOLLOW and operation == "create":
        if record.has("createdAt") or time is None:
            at = parse_iso_time(record.raw("createdAt"), record.at("createdAt"))
        else:
            at = time
        # The follow record's URI identifies this follow, so redelivery is idempotent.
        return [{"type": "follow", "action": "follow", "event_id": uri, "follower_id": did,
                 "followee_id": record.str("subject", required=True), "at": at}]
    if collection != POST:
        raise AdapterError(commit.at("collection"), f"'{collection}' records are not converted; only {POST} "
                           f"and {FOLLOW} creates are")
    if operation not in ("create", "update"):
        raise AdapterError(commit.at("operation"), f"unknown operation {operation!r}")
    post = _post(record, uri, did, None, time)
    extras = {"cid": commit.raw("cid"), "operation": operation if operation != "create" else None}
    post["attributes"].update(compact(extras))
    return [post]


def convert(obj: Any) -> list[dict]:
    """A post view, stored record or Jetstream commit -> Seawall event dicts."""
    node = require_object(obj)
    if "commit" in node.data or "kind" in node.data:
        return _commit(node)
    if "uri" not in node.data and isinstance(node.raw("post"), dict):
        node = node.node("post")  # a feed item ({"post": postView, "reply", "reason"})
    if "uri" in node.data:
        return dedupe_events(_envelope(node, 0))
    raise AdapterError(None, "not an AT Protocol post view, record or Jetstream commit (no uri/commit)")
