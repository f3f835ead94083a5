"""`seawall link` over files: suspended accounts' events in one, new accounts' events in the other.

The known file's accounts are all taken as suspended: their account events, every post (style and
shout-outs) and the follows of which they are the followee (their followers). The new file is read
in order; each new account is its account events, its first K posts and its followers, and it is
scored once at the end of the file with everything that was allowed in by then.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import IO, Any, Iterator

import orjson

from seawall.events.model import EventError, parse_event
from seawall.linking.index import Candidate, LinkIndex, build_index
from seawall.linking.profile import Profile, ProfileBuilder
from seawall.linking.scoring import LINK_THRESHOLD


class LinkInputError(ValueError):
    pass


def _open(path: Path) -> IO[bytes]:
    return gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")


def read_events(path: Path) -> Iterator[Any]:
    """Seawall events of a JSONL file (optionally gzip); a bad line stops with its number and why."""
    with _open(path) as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                yield parse_event(orjson.loads(line))
            except orjson.JSONDecodeError as exc:
                raise LinkInputError(f"{path}:{n}: not valid JSON ({exc})") from None
            except EventError as exc:
                raise LinkInputError(f"{path}:{n}: {exc}") from None


def known_index(path: Path, **kw: Any) -> LinkIndex:
    b = ProfileBuilder(followers_cap=None)
    for ev in read_events(path):
        b.add(ev)
    return build_index(b.profiles.values(), b.shoutouts, **kw)


def new_profiles(path: Path, first_posts: int | None, index: LinkIndex | None = None) -> list[Profile]:
    """New accounts in order of first appearance, each with at most `first_posts` posts. Shout-outs
    among those posts join `index`."""
    b = ProfileBuilder(max_posts=first_posts)
    order: list[str] = []
    seen: set[str] = set()
    for ev in read_events(path):
        author = ev.id if ev.type == "account" else ev.account_id if ev.type == "post" else None
        if author is not None and author not in seen:
            seen.add(author)
            order.append(author)
        b.add(ev)
    if index is not None:  # only the shout-outs among the posts allowed in
        for s in b.shoutouts:
            index.add_shoutout(s)
    return [b.profiles[a] for a in order]


def link_files(known: Path, new: Path, first_posts: int | None, threshold: float = LINK_THRESHOLD,
               limit: int = 10) -> Iterator[tuple[Profile, list[Candidate], str | None]]:
    index = known_index(known)
    for p in new_profiles(new, first_posts, index):
        cands = index.link(p, limit=limit)
        linked = cands[0].account_id if cands and cands[0].score >= threshold else None
        yield p, cands, linked
