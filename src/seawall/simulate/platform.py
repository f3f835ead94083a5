"""The simulated platform: accounts, a follower graph, ordinary posting with reposts and replies,
and an extremist network that behaves as documented in docs/simulator.md. Produces Seawall events
(time-ordered) and, separately, the ground truth.

Reproducible: every random draw comes from generators seeded with `params.seed`, in a fixed order,
so the same parameters give byte-identical output.
"""

from __future__ import annotations

import base64
import math
import random
import string
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import numpy as np

from seawall.simulate import vocab
from seawall.simulate.accounts import (
    Account, Person, lognormal, network_bio, network_display, new_person, new_voice, numbered_handle, ordinary_identity,
)
from seawall.simulate.exposure import sample_view_delay
from seawall.simulate.graph import follower_graph
from seawall.simulate.network import NetworkActivity
from seawall.simulate.params import SimParams
from seawall.simulate.pictures import encode, picture

DAY = 86400
VIOLATING = {"propaganda", "incitement", "threat", "threat_targeted", "shoutout", "repost"}


def iso(t: float) -> str:
    return datetime.fromtimestamp(int(t), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(slots=True)
class PostInfo:
    id: str
    account: Account
    t: int
    reach: float
    category: str | None  # None = ordinary
    root: str | None = None  # the original post of a repost
    reposts_reach: float = 0.0


@dataclass(slots=True)
class Simulation:
    params: SimParams
    events: list[dict[str, Any]] = field(default_factory=list)
    truth: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    known_media: list[dict[str, Any]] = field(default_factory=list)  # the shared hash list (shared_bank.csv)


class Platform(NetworkActivity):
    def __init__(self, params: SimParams):
        params.check()
        self.p = params
        self.rng = random.Random(params.seed)
        self.nrng = np.random.default_rng(params.seed)
        self.t0 = int(params.start_dt().timestamp())
        self.t_end = self.t0 + int(params.days * DAY)
        # The network's lives go on past the end for as long again: an arm that suspends a
        # supporter early brings the next account forward (simulate/timeline.py), and its content
        # must exist. Events after t_end are outside the measured window; the benchmark drops them.
        self.t_net_end = self.t_end + int(params.days * DAY)
        self._events: list[tuple[int, int, dict[str, Any]]] = []
        self._seq = 0
        self.truth: list[dict[str, Any]] = []
        self.accounts: dict[str, Account] = {}
        self.persons: list[Person] = []
        self.posts: dict[str, PostInfo] = {}
        self._n_posts = 0
        self._n_media = 0
        self._n_accounts = 0
        self._releases: dict[int, tuple[Any, bytes, str]] = {}  # release -> (image, bytes, first post id)
        self.id_width = max(5, len(str(params.accounts * 4)))
        self.known_releases = round(params.releases * params.known_release_share)

    # -- helpers ---------------------------------------------------------------------------------
    def _add(self, t: float, ev: dict[str, Any]) -> None:
        self._events.append((int(t), self._seq, ev))
        self._seq += 1

    def _rid(self, n: int = 8) -> str:
        return "".join(self.rng.choice(string.ascii_letters + string.digits) for _ in range(n))

    def _account_id(self) -> str:
        aid = f"a{self._n_accounts:0{self.id_width}d}"
        self._n_accounts += 1
        return aid

    def _media(self, data: bytes, mime: str = "image/jpeg") -> dict[str, Any]:
        self._n_media += 1
        return {"kind": "image", "id": f"m{self._n_media:06d}", "mime": mime,
                "data": base64.b64encode(data).decode("ascii")}

    def _diurnal_time(self, lo: float, hi: float) -> int:
        """A time in [lo, hi), busier in the afternoon and evening than at night."""
        for _ in range(20):
            t = self.rng.uniform(lo, hi)
            hour = (t % DAY) / 3600.0
            if self.rng.random() < 0.55 + 0.45 * math.sin((hour - 9.0) / 24.0 * 2 * math.pi):
                return int(t)
        return int(lo)

    # -- accounts and graph ------------------------------------------------------------------------
    def _account_event(self, a: Account, avatar: bytes | None) -> None:
        ev: dict[str, Any] = {"type": "account", "id": a.id, "handle": a.handle, "display_name": a.display_name,
                              "bio": a.bio, "followers_count": a.followers_at(a.created),
                              "following_count": a.following, "created_at": iso(a.created)}
        if avatar is not None:
            ev["avatar"] = self._media(avatar)
        if a.created < self.t0:
            # An account that exists before the window arrives as a profile snapshot at the start
            # (how a platform backfills a newly deployed system), not as a sign-up happening now.
            ev["action"] = "updated"
            ev["posts_count"] = int(lognormal(self.rng, 300, 1.2))
            ev["updated_at"] = iso(self.t0 - 60)
            self._add(self.t0 - 60, ev)
            return
        self._add(a.created, ev)

    def build_accounts(self) -> None:
        p, rng = self.p, self.rng
        n = p.accounts
        n_members = max(3, round(n * p.network_share))
        n_news = max(1, round(n * p.news_share))
        order = list(range(n))
        rng.shuffle(order)
        member_idx = sorted(order[:n_members])
        news_idx = set(order[n_members:n_members + n_news])
        ids = [self._account_id() for _ in range(n)]
        followers = follower_graph(self.nrng, n, np.array(member_idx, dtype=np.int64), p.follows_median,
                                   p.follows_sigma, p.popularity_sigma, p.network_homophily, p.sympathiser_share)
        following = [0] * n
        for j in range(n):
            for i in followers[j]:
                following[i] += 1
        member_set = set(member_idx)
        for i in range(n):
            if i in member_set:
                person = new_person(rng, len(self.persons))
                person.serial = not self.persons  # the first supporter is the one with dozens of accounts
                self.persons.append(person)
                created = self.t0 - int(rng.uniform(0.5, 20) * DAY)
                a = Account(ids[i], numbered_handle(rng, person, 0), network_display(rng, person),
                            network_bio(rng, person.first_number, p.open_profile_share), "member", created, person=person.index,
                            avatar_seed=person.avatar_seed)
                person.accounts.append(a)
            else:
                handle, name, bio = ordinary_identity(rng)
                role = "news" if i in news_idx else "ordinary"
                if role == "news":
                    bio = rng.choice(vocab.NEWS_BIOS)
                created = self.t0 - int(rng.uniform(30, 2000) * DAY)
                a = Account(ids[i], handle, name, bio, role, created, voice=new_voice(rng))
                if rng.random() < p.avatar_share:
                    a.avatar_seed = 300_000 + i
            a.static_followers = {ids[f] for f in followers[i]}
            a.following = following[i]
            self.accounts[a.id] = a
        for a in list(self.accounts.values()):
            avatar = encode(picture(a.avatar_seed, (160, 160), 8), quality=85) if a.avatar_seed is not None else None
            self._account_event(a, avatar)
            self.truth.append({"kind": "account", "id": a.id, "role": a.role, "person": a.person,
                               "number": a.number, "handle": a.handle})
        # Follows that touch the network are sent as events (history before the start), so that
        # follower overlap is visible to Seawall; the rest of the graph only shows in the counts.
        for a in self.accounts.values():
            for f in sorted(a.static_followers):
                fa = self.accounts[f]
                if a.role == "member" or fa.role == "member":
                    t = max(a.created, fa.created) + int(rng.uniform(0, max(1.0, self.t0 - 60 - max(a.created, fa.created))))
                    self._add(t, {"type": "follow", "follower_id": f, "followee_id": a.id, "at": iso(t)})

    # -- suspensions and returns ---------------------------------------------------------------------
    def lifecycles(self) -> None:
        p, rng = self.p, self.rng
        for person in self.persons:
            acc = person.accounts[0]
            median = p.serial_lifetime_median_hours if person.serial else p.lifetime_median_hours
            t_susp = self.t0 + int(lognormal(rng, median, p.lifetime_sigma) * 3600)
            while t_susp < self.t_net_end:
                acc.suspended = t_susp
                self._add(t_susp, {"type": "enforcement", "account_id": acc.id, "action": "suspend",
                                   "reason": "terrorism", "by": "platform-staff", "at": iso(t_susp)})
                if not person.serial and rng.random() >= p.return_prob:
                    break  # (the serial supporter always comes back)
                t_new = t_susp + int(lognormal(rng, p.return_gap_median_hours, 0.8) * 3600)
                if t_new >= self.t_net_end:
                    break
                acc = self._return(person, acc, t_new)
                t_susp = t_new + int(lognormal(rng, median, p.lifetime_sigma) * 3600)

    def _return(self, person: Person, old: Account, t_new: int) -> Account:
        p, rng = self.p, self.rng
        k = old.number + 1
        same_name = rng.random() < 0.8
        a = Account(self._account_id(), numbered_handle(rng, person, k),
                    old.display_name if same_name else network_display(rng, person),
                    network_bio(rng, person.first_number + k, p.open_profile_share), "member", t_new, person=person.index,
                    number=k, predecessor=old.id, avatar_seed=person.avatar_seed)
        self.accounts[a.id] = a
        person.accounts.append(a)
        # Former followers come back: the network at once, others more slowly and not all.
        old_followers = sorted(old.static_followers | {f for _, f in old.refollows})
        for f in old_followers:
            fa = self.accounts[f]
            if fa.role == "member":
                owner = self.persons[fa.person].current(t_new) if fa.person is not None else None
                if owner is None or owner.id == a.id or rng.random() >= p.refollow_prob_member:
                    continue
                follower = owner.id
                delay = lognormal(rng, 1.0, 1.0) * 3600
            else:
                if rng.random() >= p.refollow_prob_other:
                    continue
                follower = f
                delay = lognormal(rng, p.refollow_delay_median_hours, 1.0) * 3600
            a.refollows.append((t_new + int(delay), follower))
        a.refollows.sort()
        # The returner follows the network's current accounts again.
        current = [q.current(t_new) for q in self.persons if q is not person]
        targets = [c for c in current if c is not None]
        rng.shuffle(targets)
        a.following = len(targets[:20]) + 10
        # The same picture as avatar, re-encoded: returning accounts keep their look.
        img = picture(person.avatar_seed, (160, 160), 8)
        self._account_event(a, encode(img, quality=rng.randint(60, 90)))
        for when, follower in a.refollows:
            if when < self.t_net_end:
                self._add(when, {"type": "follow", "follower_id": follower, "followee_id": a.id, "at": iso(when)})
        for c in targets[:20]:
            when = t_new + int(rng.uniform(60, 1800))
            self._add(when, {"type": "follow", "follower_id": a.id, "followee_id": c.id, "at": iso(when)})
        self.truth.append({"kind": "account", "id": a.id, "role": "member", "person": person.index,
                           "number": k, "handle": a.handle})
        self.truth.append({"kind": "return", "old": old.id, "new": a.id, "person": person.index,
                           "suspended_at": old.suspended, "created_at": t_new, "gap_s": t_new - (old.suspended or t_new)})
        return a

    # -- posts -------------------------------------------------------------------------------------
    def _post(self, a: Account, t: int, text: str, category: str | None, *, media: list[dict[str, Any]] | None = None,
              links: list[str] | None = None, reply_to: str | None = None, repost_of: str | None = None) -> PostInfo:
        self._n_posts += 1
        pid = f"p{self._n_posts:07d}"
        ev: dict[str, Any] = {"type": "post", "id": pid, "account_id": a.id, "created_at": iso(t), "text": text}
        if links:
            ev["links"] = links
        if media:
            ev["media"] = media
        if reply_to:
            ev["reply_to"] = reply_to
        if repost_of:
            ev["repost_of"] = repost_of
        self._add(t, ev)
        reach = a.followers_at(t) * self.p.view_rate
        root = None
        if repost_of is not None:
            root = self.posts[repost_of].root or repost_of
            self.posts[root].reposts_reach += reach
        info = PostInfo(pid, a, t, reach, category, root)
        self.posts[pid] = info
        if category is not None:
            self.truth.append({"kind": "post", "id": pid, "account_id": a.id, "t": t, "category": category,
                               "reach": round(reach, 3), "root": root, "reply_to": reply_to})
        return info

    def _link(self, listed_pool: list[str]) -> str:
        pool = vocab.UNLISTED_HOSTS if self.rng.random() < self.p.unlisted_link_share else listed_pool
        return self.rng.choice(pool).format(rid=self._rid())

    def ordinary_posts(self) -> None:
        p, rng = self.p, self.rng
        for a in list(self.accounts.values()):
            if a.role == "member":
                continue
            rate = lognormal(rng, p.posts_per_day_median, p.posts_sigma)
            for _ in range(int(self.nrng.poisson(rate * p.days))):
                t = self._diurnal_time(self.t0, self.t_end)
                text, links, media = self._ordinary_content(a)
                info = self._post(a, t, text, None, media=media, links=links)
                self._cascade(info)

    def _ordinary_content(self, a: Account) -> tuple[str, list[str], list[dict[str, Any]]]:
        rng = self.rng
        fill = {"team": rng.choice(vocab.TEAMS), "city": rng.choice(vocab.CITIES), "city_ar": rng.choice(vocab.CITIES_AR)}
        links: list[str] = []
        roll = rng.random()
        if a.role == "news" and roll < 0.7:
            link = rng.choice(vocab.ORDINARY_LINKS).format(n=rng.randint(10_000, 99_999))
            return rng.choice(vocab.NEWS).format(link=link), [link], []
        if roll < 0.03:
            text = rng.choice(vocab.HYPERBOLE).format(**fill)
        elif roll < 0.04:
            text = rng.choice(vocab.COUNTER)
        elif roll < 0.05:
            tmpl, url = rng.choice(vocab.ORDINARY_UPLOAD_POSTS)
            link = url.format(rid=self._rid())
            text, links = tmpl.format(link=link), [link]
        elif roll < 0.20:
            text = rng.choice(vocab.ORDINARY_AR).format(**fill)
        else:
            text = rng.choice(vocab.ORDINARY_EN).format(**fill)
            if rng.random() < 0.1:
                link = rng.choice(vocab.ORDINARY_LINKS).format(n=rng.randint(10_000, 99_999))
                text, links = f"{text} {link}", [link]
        if a.voice is not None and a.role == "ordinary":
            text = a.voice.apply(text)
        media = []
        if rng.random() < self.p.media_share:
            media = [self._media(encode(picture(10_000_000 + self._n_media, shapes=10), quality=rng.randint(70, 92)))]
        return text, links, media

    def _cascade(self, info: PostInfo) -> None:
        """Ordinary reposts and replies by the author's followers, more for wider reach."""
        p, rng = self.p, self.rng
        followers = sorted(info.account.static_followers)
        if not followers:
            return
        for kind, per in (("repost", p.repost_per_impression), ("reply", p.reply_per_impression)):
            for _ in range(min(50, int(self.nrng.poisson(info.reach * per)))):
                who = self.accounts[rng.choice(followers)]
                t = info.t + int(sample_view_delay(rng, p.half_life_minutes))
                if t >= self.t_end or not who.active(t) or who.role == "member":
                    continue
                if kind == "repost":
                    self._post(who, t, "", None, repost_of=info.id)
                else:
                    text = rng.choice(vocab.REPLIES)
                    self._post(who, t, who.voice.apply(text) if who.voice else text, None, reply_to=info.id)

    # -- reports -------------------------------------------------------------------------------------
    def reports(self) -> None:
        """User reports: for violating content, a small chance per impression (reports arrive as
        impressions do); for ordinary posts, a few mistaken or bad-faith reports."""
        p, rng = self.p, self.rng
        ordinary = [a.id for a in self.accounts.values() if a.role != "member"]
        n = 0
        for info in list(self.posts.values()):
            if info.category is not None and info.root is None:
                reach = info.reach + info.reposts_reach
                k = min(25, int(self.nrng.poisson(reach * p.report_per_impression)))
                reasons = ["violent_threat", "violence", "terrorism"] if info.category.startswith("threat") else \
                    ["spam", "other"] if info.category == "shoutout" else ["terrorism", "terrorism", "violence", "hate"]
            elif info.category is None and rng.random() < p.false_report_share:
                k, reasons = 1, ["spam", "harassment", "terrorism", "violent_threat", "other"]
            else:
                continue
            for _ in range(k):
                t = info.t + int(sample_view_delay(rng, p.half_life_minutes) + rng.expovariate(1 / (p.report_delay_minutes * 60)))
                if t >= (self.t_net_end if info.category is not None else self.t_end):
                    continue
                n += 1
                self._add(t, {"type": "report", "id": f"r{n:07d}", "reporter_id": rng.choice(ordinary),
                              "target_type": "post", "target_id": info.id, "reason": rng.choice(reasons), "at": iso(t)})

    # -- all together ------------------------------------------------------------------------------
    def run(self) -> Simulation:
        self.build_accounts()
        self.lifecycles()
        self.ordinary_posts()
        self.network_activity()
        self.reports()
        self._events.sort(key=lambda e: (e[0], e[1]))
        events = [ev for _, _, ev in self._events]
        first_post: dict[str, int] = {}
        for t, _, ev in self._events:
            if ev["type"] == "post":
                first_post.setdefault(ev["account_id"], t)
        for rec in self.truth:
            if rec["kind"] == "return":
                rec["first_post_at"] = first_post.get(rec["new"])
        return Simulation(self.p, events, self.truth, self._summary(events), self.known_media())

    def _summary(self, events: list[dict[str, Any]]) -> dict[str, Any]:
        by_type: dict[str, int] = {}
        for ev in events:
            by_type[ev["type"]] = by_type.get(ev["type"], 0) + 1
        cats: dict[str, int] = {}
        for rec in self.truth:
            if rec["kind"] == "post" and rec["t"] < self.t_end:
                cats[rec["category"]] = cats.get(rec["category"], 0) + 1
        roles: dict[str, int] = {}
        for a in self.accounts.values():
            roles[a.role] = roles.get(a.role, 0) + 1
        variants: dict[str, int] = {}
        for rec in self.truth:
            if rec["kind"] == "media":
                variants[rec["variant"]] = variants.get(rec["variant"], 0) + 1
        returns = [r for r in self.truth if r["kind"] == "return"]
        chains = [len(q.accounts) for q in self.persons]
        return {
            "start": iso(self.t0), "end": iso(self.t_end), "network_tail_end": iso(self.t_net_end),
            "events": len(events), "events_by_type": by_type,
            "accounts_by_role": roles, "violating_posts_by_category": cats, "media_by_variant": variants,
            "persons": len(self.persons), "returns": len(returns),
            "max_accounts_per_person": max(chains, default=0),
            "return_gap_median_s": _median([r["gap_s"] for r in returns]),
        }


def _median(xs: list[float]) -> float | None:
    if not xs:
        return None
    s = sorted(xs)
    return s[len(s) // 2]


def simulate(params: SimParams) -> Simulation:
    return Platform(params).run()
