"""Returning accounts: a new account scored against every suspended account (seawall.linking).

* An account event (created or updated) is scored at once, so a returner whose profile gives it
  away (numbered handle, same avatar, same bio or links, an announced handle) is caught before its
  first post.
* A created account is then watched for its first `first_posts` posts: its 1st, 5th and 20th (and
  last watched) posts are scored with the posts so far (writing style, each post featurised once,
  in one pass per batch; behaviour: whom it retweets and mentions, hashtags, link domains, posting
  hours) and the followers it has gained meanwhile
  (follower overlap). Nothing is scored while no account is suspended.
  Posts of any other account cost one dictionary look-up (and, when they mention someone, one
  regular expression for shout-outs).
* Follow events only add to the followee's early followers (a hit on a follow event would act on
  the follower); the evidence counts at the new account's next post or update.

One hit per scored event when the best candidate reaches `min_score`: label `returning_account`,
score = the best candidate's calibrated score, evidence = the candidates (old vs new side by side).
The suspended accounts are loaded from the database on first use and kept current: suspensions in
the batch being scored join at once, suspensions made since (by rules, by other workers) are
picked up every `refresh_seconds`.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from seawall.linking.index import LinkIndex
from seawall.linking.profile import Profile, shoutouts_in
from seawall.linking.style import post_vectors
from seawall.media.decode import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS, MediaError
from seawall.media.hashing import hash_bytes, hash_file
from seawall.normalize import Item
from seawall.signals.base import Signal, SignalHit, SignalSettings

LABEL = "returning_account"
# Which of a new account's first posts are scored (and the last one, `first_posts`): evidence
# grows quickly over the first few posts and slowly after (IRA: MRR 0.794 at 1 post, 0.823 at 5,
# 0.826 at 20), and scoring every one of a new account's first posts cost the pipeline benchmark,
# whose accounts are all new, a fifth of its throughput. Every post is still featurised and counts.
SCORED_POSTS = frozenset({1, 5, 20})


@dataclass(slots=True)
class _Watch:
    """A new account being watched: its profile so far, posts seen, and the running sum of its
    posts' style vectors (each post featurised once)."""

    profile: Profile
    seen: int = 0
    raw: np.ndarray | None = None
    texts: int = 0


class AccountLinkSettings(SignalSettings):
    # Database holding the events and accounts; empty = the deployment's database.
    database: str = ""
    first_posts: int = 20  # posts of a new account that are scored (0: at sign-up and updates only)
    min_score: float = 0.3  # below this no hit is recorded
    candidates: int = 3  # candidates listed in a hit's evidence
    max_known_posts: int = 200  # latest posts per suspended account used for its style
    refresh_seconds: float = 10.0
    watch_limit: int = 200_000  # new accounts watched at once (the oldest are dropped first)
    # Avatars and banners given as local paths are read only under these directories (empty: any
    # path, as for the hashbank signal: the platform names its own files).
    media_roots: list[str] = []


class AccountLinkSignal(Signal[AccountLinkSettings]):
    name = "account_link"
    version = "1"
    Settings = AccountLinkSettings

    def __init__(self, settings: AccountLinkSettings | None = None, engine: Any = None):
        super().__init__(settings)
        self._engine = engine
        self._index: LinkIndex | None = None
        self._since: Any = None
        self._loaded_at = 0.0
        self._lock = threading.Lock()
        self._watched: OrderedDict[str, _Watch] = OrderedDict()
        # the latest profile of every account event seen lately (account events are rare)
        self._recent: OrderedDict[str, Profile] = OrderedDict()

    def labels(self) -> set[str]:
        return {LABEL}

    # -- the suspended-account index ----------------------------------------------------------------
    @property
    def engine(self) -> Any:
        if self._engine is None:
            from seawall.storage.sql import open_store

            url = self.settings.database
            if not url:
                from seawall.config import load_settings

                url = load_settings().database_url
            self._engine = open_store(url).engine
        return self._engine

    @property
    def index(self) -> LinkIndex:
        from seawall.linking.store import load_profiles, suspended_since

        with self._lock:
            now = time.monotonic()
            if self._index is None:
                ids, self._since = suspended_since(self.engine, None)
                profiles, shouts = load_profiles(self.engine, ids, self.settings.max_known_posts)
                index = LinkIndex()
                for p in profiles:
                    index.add(p)
                for s in shouts:
                    index.add_shoutout(s)
                index.build()
                self._index, self._loaded_at = index, now
            elif now - self._loaded_at >= self.settings.refresh_seconds:
                ids, self._since = suspended_since(self.engine, self._since)
                self._add_suspended([i for i in ids if i not in self._index.number])
                self._loaded_at = now
            return self._index

    def _add_suspended(self, ids: list[str]) -> None:
        if not ids or self._index is None:
            return
        from seawall.linking.store import load_profiles

        profiles, shouts = load_profiles(self.engine, ids, self.settings.max_known_posts)
        for p in profiles:
            self._watched.pop(p.account_id, None)
            recent = self._recent.get(p.account_id)
            if recent is not None and not p.handle:  # its account event is not stored yet
                p.handle, p.display_name, p.bio, p.links = recent.handle, recent.display_name, recent.bio, recent.links
                p.avatar_pdq, p.avatar_sha256 = recent.avatar_pdq, recent.avatar_sha256
                p.banner_pdq, p.banner_sha256, p.identity = recent.banner_pdq, recent.banner_sha256, recent.identity
            self._index.add(p)
        for s in shouts:
            self._index.add_shoutout(s)

    # -- evaluate -------------------------------------------------------------------------------------
    def evaluate(self, items: Sequence[Item]) -> list[list[SignalHit]]:
        index = self.index
        out: list[list[SignalHit]] = [[] for _ in items]
        for item in items:  # profiles first: an account suspended in this very batch has one
            ev = item.event
            if ev.type == "account":
                self._hash_media(ev)
                p = Profile(ev.id)
                p.set_account(ev)
                self._recent[ev.id] = p
                self._recent.move_to_end(ev.id)
        while len(self._recent) > self.settings.watch_limit:
            self._recent.popitem(last=False)
        suspended = [it.event.account_id for it in items if it.event.type == "enforcement"
                     and it.event.action == "suspend" and it.event.account_id]
        if suspended:
            self._add_suspended([a for a in suspended if a not in index.number])
        watched = self._watched
        empty = len(index) == 0  # nothing to link to: keep watching, score nothing
        # the first posts of watched accounts, featurised together (one vectorised pass)
        firsts = [n for n, it in enumerate(items) if it.event.type == "post" and it.event.account_id in watched]
        vectors: dict[int, np.ndarray] = {}
        if firsts and not empty:
            # earlier posts of these accounts that came while nothing was suspended (so were not
            # featurised then) join the same pass
            texts: list[str] = []
            catch_up: list[tuple[_Watch, int, int]] = []
            for acct in dict.fromkeys(items[n].event.account_id for n in firsts):
                w = watched[acct]
                behind = w.profile.posts[w.texts:]
                if behind:
                    catch_up.append((w, len(texts), len(behind)))
                    texts.extend(behind)
            start = len(texts)
            texts.extend(items[n].event.text or "" for n in firsts)
            vecs = post_vectors(texts, index.style_dim)
            for w, lo, k in catch_up:
                part = vecs[lo : lo + k].sum(axis=0)
                w.raw = part if w.raw is None else w.raw + part
                w.texts += k
            vectors = dict(zip(firsts, vecs[start:]))
        for n, item in enumerate(items):
            ev = item.event
            typ = ev.type
            if typ == "post":
                if item.mentions:
                    for s in shoutouts_in(ev.id, ev.account_id, ev.text, item.mentions):
                        index.add_shoutout(s)
                w = watched.get(ev.account_id)
                if w is None:
                    continue
                if w.seen >= self.settings.first_posts:
                    del watched[ev.account_id]
                    continue
                w.seen += 1
                # posting hour and links feed the behaviour evidence; the text both style and behaviour
                w.profile.post_hours.append(ev.created_at.hour)
                w.profile.post_links.extend(ev.links)
                if ev.text:
                    w.profile.posts.append(ev.text)
                    vec = vectors.get(n)
                    if vec is not None:
                        w.raw = vec if w.raw is None else w.raw + vec
                        w.texts += 1
                if not empty and (w.seen in SCORED_POSTS or w.seen == self.settings.first_posts):
                    out[n] = self._score(index, w)
            elif typ == "account":
                w = watched.get(ev.id)
                if w is None:
                    w = _Watch(Profile(ev.id))
                w.profile.set_account(ev)
                if ev.id in index.number:
                    continue  # a suspended account's own update
                if ev.action == "created" and ev.id not in watched and self.settings.first_posts > 0:
                    watched[ev.id] = w
                    while len(watched) > self.settings.watch_limit:
                        watched.popitem(last=False)
                if not empty:
                    out[n] = self._score(index, w)
            elif typ == "follow" and ev.action == "follow":
                w = watched.get(ev.followee_id)
                if w is not None:
                    w.profile.add_follower(ev.follower_id)
        return out

    def _score(self, index: LinkIndex, w: _Watch) -> list[SignalHit]:
        profile = w.profile
        if not profile.handle and not profile.posts:
            return []
        if profile.posts and (w.raw is None or w.texts != len(profile.posts)):
            # posts that arrived while nothing was suspended (not featurised then): once, now
            w.raw = post_vectors(profile.posts, index.style_dim).sum(axis=0)
            w.texts = len(profile.posts)
        style_raw = w.raw / w.texts if w.raw is not None and w.texts else None
        cands = index.link(profile, limit=max(self.settings.candidates, 1), style_raw=style_raw)
        if not cands or cands[0].score < self.settings.min_score:
            return []
        best = cands[0]
        return [self.hit(
            LABEL, round(best.score, 4),
            previous_account=best.account_id,
            new_account={"id": profile.account_id, "handle": profile.handle, "display_name": profile.display_name,
                         "posts_used": len(profile.posts), "posts_seen": w.seen,
                         "early_followers": len(profile.followers)},
            candidates=[c.as_dict() for c in cands[: self.settings.candidates]],
        )]

    def _allowed(self, path: str) -> bool:
        p = Path(path).resolve()
        if not p.is_file():  # never a device, FIFO or directory
            return False
        roots = [Path(r).resolve() for r in self.settings.media_roots]
        return not roots or any(r == p or r in p.parents for r in roots)

    def _hash_media(self, ev: Any) -> None:
        """Avatar and banner given as bytes or a local path get their PDQ here when no earlier
        signal filled it in (the hashbank signal replaces inline bytes by their hashes)."""
        for which in ("avatar", "banner"):
            m = getattr(ev, which)
            if m is None or m.pdq or not (m.data or (m.path and self._allowed(m.path))):
                continue
            try:
                if m.data:
                    h = hash_bytes(m.data_bytes() or b"", max_bytes=DEFAULT_MAX_BYTES, max_pixels=DEFAULT_MAX_PIXELS)
                else:
                    h = hash_file(m.path, max_bytes=DEFAULT_MAX_BYTES, max_pixels=DEFAULT_MAX_PIXELS)
            except (MediaError, OSError):
                continue
            m.sha256, m.md5 = h.sha256, h.md5
            if h.pdq is not None and (h.quality or 0) >= 50:
                m.pdq = h.pdq

