"""The extremist network's activity on the simulated platform (a part of `Platform`): posting,
campaign bursts, threats against the platform's staff after suspensions, shout-outs for returners,
re-posting squads, and the known media ("releases") with their edited re-uploads."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from seawall.simulate import vocab
from seawall.simulate.accounts import Account, lognormal
from seawall.simulate.exposure import sample_view_delay
from seawall.simulate.pictures import apply_edit, encode, picture, random_edit

if TYPE_CHECKING:
    from seawall.simulate.platform import PostInfo

DAY = 86400


class NetworkActivity:
    """Mixed into Platform; uses its generators, accounts, persons and `_post`."""

    # -- the network -------------------------------------------------------------------------------
    def network_activity(self) -> None:
        """Plan every network post (time, account, what), then write them in time order so that the
        first appearance of each release is its original upload and later ones are re-uploads."""
        p, rng = self.p, self.rng
        plans: list[tuple[int, int, str, dict[str, Any]]] = []
        n = 0

        def plan(t: float, acc: Account, what: str, **kw: Any) -> None:
            nonlocal n
            if self.t0 <= t < self.t_net_end and acc.active(t):
                plans.append((int(t), n, what, {"account": acc, **kw}))
                n += 1

        members = [a for a in self.accounts.values() if a.role == "member"]
        for a in members:
            lo, hi = max(a.created, self.t0), min(a.suspended or self.t_net_end, self.t_net_end)
            if hi <= lo:
                continue
            for _ in range(int(self.nrng.poisson(p.member_posts_per_day * (hi - lo) / DAY))):
                t = self._diurnal_time(lo, hi)
                roll = rng.random()
                what = "propaganda" if roll < 0.65 else "incitement" if roll < 0.78 else "threat"
                plan(t, a, what, tag=rng.choice(vocab.CAMPAIGN_TAGS) if rng.random() < 0.5 else "")
            if a.predecessor is not None:  # a returner's first post comes soon after sign-up
                t = a.created + lognormal(rng, p.first_post_delay_median_minutes, 0.8) * 60
                plan(t, a, "shoutout_self" if rng.random() < 0.6 else "propaganda", tag="",
                     old=self.accounts[a.predecessor].handle)
        # Campaign bursts: a hashtag, most active members posting within the hour.
        for _ in range(int(self.nrng.poisson(p.bursts_per_day * p.days * 2))):
            tb = rng.uniform(self.t0, self.t_net_end)
            tag = rng.choice(vocab.CAMPAIGN_TAGS)
            for person in self.persons:
                acc = person.current(tb)
                if acc is None or rng.random() >= p.burst_participation:
                    continue
                for _ in range(rng.randint(1, 4)):
                    plan(tb + rng.uniform(0, p.burst_minutes * 60), acc, "propaganda", tag=tag, burst=True)
        # Reactions to suspensions: threats against the platform's staff; shout-outs for returners.
        for a in members:
            if a.suspended is not None and rng.random() < p.threat_after_suspension_prob:
                for _ in range(rng.randint(1, 3)):
                    t = a.suspended + sample_view_delay(rng, 120)
                    who = self._active_member(t)
                    if who is not None:
                        plan(t, who, "threat_targeted", tag="#The_Concept_Of_Lone_Wolf_Attacks" if rng.random() < 0.5 else "")
            if a.predecessor is not None and rng.random() < p.shoutout_prob:
                for _ in range(rng.randint(1, 3)):
                    t = a.created + sample_view_delay(rng, 60)
                    who = self._active_member(t, exclude=a.person)
                    if who is not None:
                        plan(t, who, "shoutout_other", tag="", new=a.handle, old=self.accounts[a.predecessor].handle)
        plans.sort(key=lambda x: (x[0], x[1]))
        for t, _, what, kw in plans:
            info = self._network_post(t, what, kw)
            self._network_reposts(info, bool(kw.get("burst")))

    def _active_member(self, t: float, exclude: int | None = None) -> Account | None:
        active = [c for q in self.persons if q.index != exclude and (c := q.current(t)) is not None]
        return self.rng.choice(active) if active else None

    def _network_post(self, t: int, what: str, kw: dict[str, Any]) -> PostInfo:
        rng, a = self.rng, kw["account"]
        tag = kw.get("tag", "")
        links: list[str] = []
        media: list[dict[str, Any]] = []
        media_truth: dict[str, Any] | None = None
        if what == "propaganda":
            link = self._link(vocab.LOCKERS_LISTED if rng.random() < 0.6 else vocab.PASTES_LISTED)
            text, links, category = rng.choice(vocab.PROPAGANDA).format(link=link, tag=tag).strip(), [link], "propaganda"
            if rng.random() < self.p.propaganda_media_share:
                media, media_truth = self._release_media()
        elif what == "incitement":
            text, category = rng.choice(vocab.INCITEMENT).format(tag=tag).strip(), "incitement"
        elif what == "threat":
            victims = [x for x in self.accounts.values() if x.role != "member"]
            text = rng.choice(vocab.THREATS_OTHER).format(victim=rng.choice(victims).handle)
            category = "threat"
        elif what == "threat_targeted":
            target = rng.choice(vocab.staff_targets())
            text = rng.choice(vocab.THREATS_TARGETED).format(name=rng.choice(target["names"]),
                                                            handle=rng.choice(target["handles"]), tag=tag).strip()
            category = "threat_targeted"
        elif what == "shoutout_self":
            text = rng.choice(vocab.SHOUTOUT_SELF).format(old="@" + kw["old"], k=a.number + 1)
            category = "shoutout"
        else:
            text = rng.choice(vocab.SHOUTOUT_OTHER).format(new="@" + kw["new"], old="@" + kw["old"])
            category = "shoutout"
        info = self._post(a, t, text, category, media=media, links=links)
        if media_truth is not None:
            self.truth.append({"kind": "media", "post_id": info.id, "media_id": media[0]["id"], **media_truth})
        return info

    def _release_media(self) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        rng = self.rng
        release = rng.randrange(self.p.releases)
        known = release < self.known_releases  # released before the window: in the shared hash list
        if release not in self._releases:
            img = picture(900_000 + release, banner=True)
            data = encode(img, quality=88)
            self._releases[release] = (img, data, None if known else f"p{self._n_posts + 1:07d}")
            if not known:
                return [self._media(data)], {"release": release, "variant": "original", "original_post": None,
                                             "known": False}
        img, data, first = self._releases[release]
        if rng.random() < self.p.reupload_exact_share:
            return [self._media(data)], {"release": release, "variant": "exact", "original_post": first, "known": known}
        edit = random_edit(rng, self.p.hard_edit_share)
        mime = "image/png" if edit.fmt == "PNG" else "image/jpeg"
        return ([self._media(apply_edit(img, edit), mime)],
                {"release": release, "variant": "edited", "edit": edit.as_dict(), "original_post": first,
                 "known": known})

    def known_media(self) -> list[dict[str, Any]]:
        """The shared hash list: PDQ and MD5 of the releases known before the window."""
        from seawall.media.hashing import hash_bytes

        out = []
        for release in range(self.known_releases):
            h = hash_bytes(encode(picture(900_000 + release, banner=True), quality=88), image=True)
            out += [{"kind": "pdq", "value": h.pdq, "note": f"release {release}"},
                    {"kind": "md5", "value": h.md5, "note": f"release {release}"}]
        return out

    def _network_reposts(self, info: PostInfo, burst: bool) -> None:
        p, rng = self.p, self.rng
        prob = p.network_repost_prob * (1.5 if burst else 1.0)
        for person in self.persons:
            if person.index == info.account.person or rng.random() >= prob:
                continue
            t = info.t + int(sample_view_delay(rng, 20))
            acc = person.current(t)
            if acc is not None and t < self.t_net_end:
                self._post(acc, t, "", "repost", repost_of=info.id)
