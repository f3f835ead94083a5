"""What the linker knows about one account: its profile, its media hashes, its followers, its posts.

`Profile` is filled from Seawall events (account, post, follow) by `ProfileBuilder`, both for the
suspended accounts (everything they ever did) and for a new account (its profile, its first K posts,
its early followers). Shout-outs ("follow my new account @x", "@old is back as @x") are collected
from every post the builder sees, so a new account whose handle was announced is linked to the
account that announced it, or to the account the announcement names as the old one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from seawall.normalize import canonical_url, extract_mentions, text_form

# Optional identity hashes a platform may send in an account event's `attributes` (never the raw
# values: a platform hashes e-mail, phone, IP and device ids with its own secret salt).
IDENTITY_KEYS = ("email_hash", "phone_hash", "ip_hash", "device_hash")
# How many early followers of a new account are kept (the first hours matter, not the crowd).
MAX_EARLY_FOLLOWERS = 500

# "follow my new account @x", "new acc: @x", "I'm back @x", "@old is now @x", "backup account @x",
# "suspended again, follow @x", in English and a few of the other languages of the brief.
SHOUTOUT = re.compile(
    r"(?:new|backup|back[- ]?up|second|2nd|spare|main)\s+(?:account|acc|acct|handle|page|id)"
    r"|\b(?:i'?m|i am|we'?re|we are|is)\s+back\b|\bback\s+(?:as|at|on)\b|\bnow\s+(?:at|as|on)\b"
    r"|\bsuspended\b|\bbanned\b|\bfollow\s+(?:me\s+)?(?:at|on|here)\b|\bre-?follow\b"
    r"|حساب|جديد|حسابي|новый\s+аккаунт|nouveau\s+compte|nueva\s+cuenta|neuer\s+account",
    re.IGNORECASE,
)


def canonical_links(links: Iterable[str]) -> list[str]:
    out = []
    for link in links:
        c = canonical_url(link)
        if c is not None and c.url not in out:
            out.append(c.url)
    return out


@dataclass(slots=True)
class Profile:
    account_id: str
    handle: str = ""
    display_name: str = ""
    bio: str = ""
    links: list[str] = field(default_factory=list)  # canonical URLs
    avatar_pdq: str | None = None
    avatar_sha256: str | None = None
    banner_pdq: str | None = None
    banner_sha256: str | None = None
    identity: dict[str, str] = field(default_factory=dict)  # IDENTITY_KEYS -> hash
    followers: list[str] = field(default_factory=list)  # for a new account: early followers, in order
    posts: list[str] = field(default_factory=list)  # texts, oldest first
    post_hours: list[int] = field(default_factory=list)  # UTC hour of day of every post used
    post_links: list[str] = field(default_factory=list)  # links the posts carry (expanded by the platform)

    def add_post(self, text: str, created_at: Any = None, links: Iterable[str] = ()) -> None:
        """One post's text, posting hour and links (the behaviour evidence reads all three)."""
        if text:
            self.posts.append(text)
        if created_at is not None:
            self.post_hours.append(int(created_at.hour))
        self.post_links.extend(links)

    def set_account(self, ev: Any) -> None:
        """Take the profile fields of an account event (later events overwrite earlier ones)."""
        self.handle = ev.handle.lstrip("@")
        self.display_name = ev.display_name or ""
        self.bio = ev.bio or ""
        self.links = canonical_links(ev.links)
        for prefix in ("avatar", "banner"):
            media = getattr(ev, prefix)
            if media is not None:
                setattr(self, f"{prefix}_pdq", (media.pdq or "").lower() or getattr(self, f"{prefix}_pdq"))
                setattr(self, f"{prefix}_sha256", (media.sha256 or "").lower() or getattr(self, f"{prefix}_sha256"))
        for key in IDENTITY_KEYS:
            value = ev.attributes.get(key)
            if isinstance(value, str) and value.strip():
                self.identity[key] = value.strip().lower()

    def add_follower(self, follower_id: str, cap: int | None = MAX_EARLY_FOLLOWERS) -> None:
        if (cap is None or len(self.followers) < cap) and follower_id not in self.followers:
            self.followers.append(follower_id)


@dataclass(slots=True)
class Shoutout:
    """A post that names `handle` as someone's new account."""

    post_id: str
    poster_id: str
    handle: str  # the announced handle, as folded by seawall.linking.handles.fold
    others: tuple[str, ...]  # other handles the post names (perhaps the old account's)
    text: str


def shoutouts_in(post_id: str, poster_id: str, text: str, mentions: Iterable[str] = ()) -> list[Shoutout]:
    """The handles a post announces as a new account (every mention of a post that reads as a
    shout-out; the poster's own old handle, if it names it, is kept in `others`)."""
    if not text or not SHOUTOUT.search(text):
        return []
    from seawall.linking.handles import fold

    named = [fold(m) for m in [*extract_mentions(text_form(text)), *mentions]]
    named = [m for i, m in enumerate(named) if m and m not in named[:i]]
    if not named:
        return []
    return [Shoutout(post_id, poster_id, h, tuple(o for o in named if o != h), text[:280]) for h in named]


class ProfileBuilder:
    """Builds profiles from a stream of Seawall events (any order of accounts; posts in time order).

    `max_posts` caps the posts used per account (None: all; the first ones count, with or without
    text), `followers_cap` the followers kept per account (None: all)."""

    def __init__(self, max_posts: int | None = None, followers_cap: int | None = MAX_EARLY_FOLLOWERS):
        self.max_posts = max_posts
        self.followers_cap = followers_cap
        self.post_counts: dict[str, int] = {}
        self._follower_sets: dict[str, set[str]] = {}
        self.profiles: dict[str, Profile] = {}
        self.shoutouts: list[Shoutout] = []
        self.following: dict[str, list[str]] = {}  # followee -> followers (for known accounts)

    def profile(self, account_id: str) -> Profile:
        p = self.profiles.get(account_id)
        if p is None:
            p = self.profiles[account_id] = Profile(account_id)
        return p

    def add(self, ev: Any) -> None:
        if ev.type == "account":
            self.profile(ev.id).set_account(ev)
        elif ev.type == "post":
            p = self.profile(ev.account_id)
            n = self.post_counts.get(ev.account_id, 0)
            if self.max_posts is not None and n >= self.max_posts:
                return
            self.post_counts[ev.account_id] = n + 1
            p.add_post(ev.text, ev.created_at, ev.links)
            self.shoutouts.extend(shoutouts_in(ev.id, ev.account_id, ev.text, ev.mentions))
        elif ev.type == "follow" and ev.action == "follow":
            p = self.profile(ev.followee_id)
            seen = self._follower_sets.setdefault(ev.followee_id, set())
            if ev.follower_id not in seen and (self.followers_cap is None or len(seen) < self.followers_cap):
                seen.add(ev.follower_id)
                p.followers.append(ev.follower_id)
