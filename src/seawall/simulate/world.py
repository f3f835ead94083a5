"""What one arm of the benchmark did to the simulated platform, and what the platform then allows.

Both arms (Seawall, the 2015 baseline) replay the same events; each keeps its own `World`: when a
post was removed and an account suspended (and restored), who did it, and which events the platform
never let happen because of that (posts by suspended accounts, reposts of removed posts, reports on
removed content).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from seawall.simulate.output import SimDir

VIOLATING_CATEGORIES = ("propaganda", "incitement", "threat", "threat_targeted", "shoutout", "repost")


@dataclass(slots=True)
class Truth:
    """The ground truth indexed for the benchmark."""

    posts: dict[str, dict[str, Any]]  # violating posts by id
    accounts: dict[str, dict[str, Any]]  # every account of the simulation start, and returners
    media: dict[str, dict[str, Any]]  # by post id
    returns: list[dict[str, Any]]
    start: float
    end: float
    half_life_minutes: float

    @classmethod
    def load(cls, sim: SimDir) -> "Truth":
        posts, accounts, media, returns = {}, {}, {}, []
        for rec in sim.truth:
            kind = rec["kind"]
            if kind == "post":
                posts[rec["id"]] = rec
            elif kind == "account":
                accounts[rec["id"]] = rec
            elif kind == "media":
                media[rec["post_id"]] = rec
            elif kind == "return":
                returns.append(rec)
        start = sim.params.start_dt().timestamp()
        return cls(posts, accounts, media, returns, start, start + sim.params.days * 86400,
                   sim.params.half_life_minutes)

    def network_account(self, account_id: str) -> bool:
        rec = self.accounts.get(account_id)
        return rec is not None and rec["role"] == "member"

    def violating(self, subject: tuple[str, str]) -> bool:
        kind, sid = subject
        return sid in self.posts if kind == "post" else self.network_account(sid)

    @property
    def reuploads(self) -> list[str]:
        return [pid for pid, m in self.media.items() if m["variant"] != "original"]

    @property
    def ordinary_accounts(self) -> list[str]:
        return [a for a, rec in self.accounts.items() if rec["role"] != "member"]


@dataclass(slots=True)
class Action:
    at: float
    kind: str  # remove | suspend | restore_post | restore_account
    subject: str
    by: str  # auto | review | platform | unit
    ingest: float | None = None  # when the content reached the deciding system (auto: the event time)


@dataclass(slots=True)
class World:
    removed: dict[str, float] = field(default_factory=dict)  # post -> first removal
    restored_posts: dict[str, float] = field(default_factory=dict)
    suspended: dict[str, float] = field(default_factory=dict)  # account -> first suspension (effective)
    restored_accounts: dict[str, float] = field(default_factory=dict)
    actions: list[Action] = field(default_factory=list)
    posted: dict[str, tuple[str, float, str | None]] = field(default_factory=dict)  # post -> (account, t, repost_of)
    prevented: dict[str, str] = field(default_factory=dict)  # post -> why it never appeared
    blocked_at_upload: set[str] = field(default_factory=set)  # posts removed by the decision on their own upload
    first_flag: dict[tuple[str, str], float] = field(default_factory=dict)  # subject -> first queued/actioned
    first_post: dict[str, float] = field(default_factory=dict)  # account -> its first post (attempted)

    def is_suspended(self, account: str, t: float) -> bool:
        s = self.suspended.get(account)
        if s is None or s > t:
            return False
        r = self.restored_accounts.get(account)
        return r is None or r < s or r > t

    def is_removed(self, post: str, t: float) -> bool:
        s = self.removed.get(post)
        if s is None or s > t:
            return False
        r = self.restored_posts.get(post)
        return r is None or r > t

    def remove(self, post: str, at: float, by: str, ingest: float | None = None) -> bool:
        if post in self.removed and self.is_removed(post, at):
            return False
        self.removed.setdefault(post, at)
        self.actions.append(Action(at, "remove", post, by, ingest))
        return True

    def suspend(self, account: str, at: float, by: str, ingest: float | None = None) -> bool:
        if self.is_suspended(account, at):
            return False
        self.suspended.setdefault(account, at)
        self.actions.append(Action(at, "suspend", account, by, ingest))
        return True

    def restore_post(self, post: str, at: float, by: str) -> None:
        if self.is_removed(post, at):
            self.restored_posts[post] = at
            self.actions.append(Action(at, "restore_post", post, by))

    def restore_account(self, account: str, at: float, by: str) -> None:
        if self.is_suspended(account, at):
            self.restored_accounts[account] = at
            self.actions.append(Action(at, "restore_account", account, by))

    def allows(self, ev: dict[str, Any], t: float) -> str | None:
        """Why the platform would refuse this event now (None: it happens)."""
        kind = ev["type"]
        if kind == "post":
            if self.is_suspended(ev["account_id"], t):
                return "author_suspended"
            orig = ev.get("repost_of")
            if orig is not None:
                src = self.posted.get(orig)
                if src is None or src[1] > t:
                    # refused, never due in this arm, or (a supporter's re-timed account) not yet
                    return "original_not_posted"
                if self.is_removed(orig, t):
                    return "original_removed"
                if self.is_suspended(src[0], t):
                    return "original_author_suspended"
            return None
        if kind == "report" and ev["target_type"] == "post":
            target = ev["target_id"]
            if target not in self.posted or self.is_removed(target, t):
                return "target_gone"
            src = self.posted.get(target)
            if src is not None and self.is_suspended(src[0], t):
                return "target_gone"
        return None

    def taken_down_at(self, post: str) -> float | None:
        """When a post stopped being visible: its removal, its author's suspension, or the same for
        the original it reposts (whichever came first after posting)."""
        info = self.posted.get(post)
        if info is None:
            return None
        account, t, orig = info
        times = [x for x in (self.removed.get(post), self.suspended.get(account)) if x is not None and x >= t]
        if orig is not None and orig in self.posted:
            o_account = self.posted[orig][0]
            times += [x for x in (self.removed.get(orig), self.suspended.get(o_account)) if x is not None and x >= t]
        return min(times) if times else None


def percentile(xs: list[float], q: float) -> float | None:
    if not xs:
        return None
    s = sorted(xs)
    k = (len(s) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)
