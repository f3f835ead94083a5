"""The campaign detector: posts in stream order in, campaigns and their members out.

Three kinds of campaign (docs/campaigns.md):

- **burst**: a hashtag, URL or link domain whose volume in the window is far above its baseline
  (Poisson z-score and ratio) while a high share of those posts were found violating;
- **young_accounts**: the same text or URL posted by many young accounts within the window, far
  above its baseline;
- **cosharing**: a cluster of accounts that repeatedly co-share the same keys (cosharing.py).

Whether a post was violating is learnt after its batch is committed (`feedback`): enforced
verdicts that rest on another signal, strong classifier or hash-bank hits (and, through the
signal, posts the platform removed). The detector
therefore lags one batch on the violating share, never on volume.
Everything is in stream time (the events' own timestamps), so a replayed day behaves as it did.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from seawall.campaigns.cosharing import Cluster, CoShareGraph
from seawall.campaigns.model import NONE, CampaignUpdate, DetectorConfig, Finding, text_id
from seawall.campaigns.windows import InMemoryWindowStore, KeyState, WindowStore
from seawall.normalize.item import Item


class CampaignDetector:
    def __init__(self, config: DetectorConfig | None = None, windows: WindowStore | None = None):
        self.cfg = cfg = config or DetectorConfig()
        # (not `windows or ...`: a store with a __len__ of 0 is falsy)
        self.windows: WindowStore = windows if windows is not None else InMemoryWindowStore(
            cfg.window_seconds, cfg.baseline_tau_seconds, cfg.retention_seconds
        )
        self.graph = CoShareGraph(cfg.coshare_min_keys, cfg.cluster_min_accounts, cfg.coshare_max_key_accounts,
                                  cfg.coshare_pair_ttl_seconds)
        self.now = -math.inf  # stream clock: the latest event time seen
        self.started: float | None = None
        self.young_seconds = cfg.young_account_days * 86400.0
        self.created: dict[str, float] = {}  # account -> creation time, for accounts that were young
        # Posts of the last batch of more than one post: a batch retried event by event after a
        # failure is judged again but not counted twice.
        self._last_ids: set[str] = set()
        self.pending: dict[str, CampaignUpdate] = {}
        self.members: dict[str, int] = {}  # campaign -> posts recorded so far
        self._prior = cfg.prior_rate_per_hour / 3600.0
        self._min_floor = min(cfg.min_volume, cfg.min_young_accounts)

    # -- observing the stream ---------------------------------------------------------------------
    # The hot path: every post of the firehose passes here. Texts are keyed by their Python hash
    # (an int: no string to build) and most keys are seen once, so the common case is a few dict
    # operations per key; everything else happens only for keys that repeat.
    def observe(self, items: Sequence[Item]) -> list[list[Finding]]:
        """Add a batch (in stream order); returns, per item, the campaigns its post joined (the
        same empty list, not to be modified, for items that joined none)."""
        out: list[list[Finding]] = [NONE] * len(items)
        self.graph.sync()  # links other workers found (shared state; nothing in one process)
        retry = self._last_ids if len(items) == 1 else None
        observe, created_of = self.windows.observe, self.created
        observe_many = getattr(self.windows, "observe_many", None)
        if observe_many is not None:
            # A remote store: every observation of the batch in one round trip, in order; the
            # loop below then takes the answers one by one instead of asking.
            observe = observe_many(self._observations(items, retry))
        young_s, min_chars, floor = self.young_seconds, self.cfg.text_min_chars, self._min_floor
        ratio, window = self.cfg.min_ratio, self.cfg.window_seconds
        parent = self.graph._parent
        for i, item in enumerate(items):
            ev = item.event
            if ev.type != "post":
                if ev.type == "account":
                    created = self._young_signup(ev)
                    if created is not None:
                        created_of[ev.id] = created
                continue
            t = ev.created_at.timestamp()
            if t > self.now:
                self.now = t
                if self.started is None:
                    self.started = self.windows.start_time(t)
            post, account = ev.id, ev.account_id
            if retry is not None and post in retry:  # decided again after a failed batch: judge only
                out[i] = self._findings(self.keys_of(item), post, account, t, record=False)
                continue
            keys: list[Any] = []
            if item.hashtags:
                keys += ["hashtag:#" + h for h in item.hashtags]
            if item.urls:
                for u in item.urls:
                    keys.append("url:" + u.url)
                    d = "domain:" + u.domain
                    if d not in keys:
                        keys.append(d)
            nt = item.texts.get("text")
            sample = ""
            if nt is not None and len(nt.skeleton) >= min_chars:
                sample = nt.skeleton
                keys.append(hash(sample))
            created = created_of.get(account)
            young = created is not None and t - created < young_s
            hot = False
            for key in keys:
                w = observe(key, t, post, account, young, sample if key.__class__ is int else "")
                if w is None:
                    continue
                # Judged only when it could qualify: enough posts, and more than its (cached)
                # baseline allows, or a baseline older than a window.
                if w.volume >= floor:
                    try:
                        due = w.volume >= ratio * w.exp_value or t - w.exp_at > window
                    except AttributeError:  # a state without the cached baseline: always judge
                        due = True
                    if due:
                        self._judge(w, t)
                # Co-sharing on hashtags and links (texts have the young-accounts test; a domain
                # is too coarse to say two accounts shared the same thing).
                if key.__class__ is str and w.account_count() > 1 and not key.startswith("domain:"):
                    self._coshare(w, key, account, t)
                if w.hot:
                    hot = True
            cluster = self.graph.cluster_of(account) if account in parent else None
            if cluster is not None:
                cluster.posts += 1
            if hot or cluster is not None:
                out[i] = self._findings(keys, post, account, t, record=True, cluster=cluster)
        if len(items) > 1:
            self._last_ids = {it.event.id for it in items if it.event.type == "post"}
        self._tidy()
        return out

    def _observations(self, items: Sequence[Item], retry: set[str] | None) -> list[tuple[Any, ...]]:
        """The `observe` calls the loop in `observe` will make, in its order (for stores that take
        them all at once). Learns sign-ups as the loop does; the loop learns them again, the same."""
        calls: list[tuple[Any, ...]] = []
        created_of, young_s, min_chars = self.created, self.young_seconds, self.cfg.text_min_chars
        share = getattr(self.windows, "share_signups", None)
        if share is not None:
            # Sign-ups a worker sees go to the shared store; authors this worker has not seen
            # sign up are looked up there (a sign-up and the first posts often land on different
            # workers).
            signups: dict[str, float] = {}
            authors: set[str] = set()
            for item in items:
                ev = item.event
                if ev.type == "account":
                    created = self._young_signup(ev)
                    if created is not None:
                        signups[ev.id] = created
                elif ev.type == "post" and ev.account_id not in created_of:
                    authors.add(ev.account_id)
            created_of.update(share(signups, authors - signups.keys(), young_s))
        for item in items:
            ev = item.event
            if ev.type != "post":
                if ev.type == "account":
                    created = self._young_signup(ev)
                    if created is not None:
                        created_of[ev.id] = created
                continue
            if retry is not None and ev.id in retry:
                continue
            t, account = ev.created_at.timestamp(), ev.account_id
            created = created_of.get(account)
            young = created is not None and t - created < young_s
            nt = item.texts.get("text")
            sample = nt.skeleton if nt is not None and len(nt.skeleton) >= min_chars else ""
            for key in self.keys_of(item):
                calls.append((key, t, ev.id, account, young, sample if key.__class__ is int else ""))
        return calls

    def _young_signup(self, ev: Any) -> float | None:
        """An account event's creation time (stream time) if the account was young when seen."""
        created = ev.created_at.timestamp()
        return created if ev.occurred_at.timestamp() - created < self.young_seconds else None

    def keys_of(self, item: Item) -> list[Any]:
        """The keys of a post, as `observe` computes them (inline there, for speed)."""
        keys: list[Any] = ["hashtag:#" + h for h in item.hashtags]
        for u in item.urls:
            keys.append("url:" + u.url)
            d = "domain:" + u.domain
            if d not in keys:
                keys.append(d)
        nt = item.texts.get("text")
        if nt is not None and len(nt.skeleton) >= self.cfg.text_min_chars:
            keys.append(hash(nt.skeleton))
        return keys

    @staticmethod
    def kind_of(key: Any) -> str:
        return "text" if key.__class__ is int else key.split(":", 1)[0]

    def _coshare(self, w: KeyState, key: str, account: str, t: float) -> None:
        n = w.account_count()
        cfg = self.cfg
        if n > cfg.coshare_max_key_accounts:
            return
        if w.uses(account) > 1:
            return  # this account already paired with everyone here when it first used the key
        # Only keys that are rare by their own history say "these accounts coordinate": a steady
        # popular hashtag or link is co-shared by chance. Until the warm-up is over nothing has a
        # history, so nothing is paired.
        if t - self.started < cfg.warmup_seconds:  # type: ignore[operator]
            return
        if w.expected(t, cfg.window_seconds, cfg.baseline_tau_seconds, self._prior) > cfg.coshare_max_expected:
            return
        linked = self.graph.co_shared(key, account, list(w.accounts()), t)
        if linked:
            cluster = self.graph.cluster_of(account)
            if cluster is not None:
                self._cluster_grew(cluster, t)

    # -- judging keys -------------------------------------------------------------------------------
    def _judge(self, w: KeyState, t: float) -> None:
        """Decide whether a key is a live campaign now, and record it if it just became one."""
        cfg = self.cfg
        if self.started is None or t - self.started < cfg.warmup_seconds:
            return
        volume = w.volume
        expected = w.expected(t, cfg.window_seconds, cfg.baseline_tau_seconds, self._prior)
        if volume < cfg.min_ratio * expected:
            return
        z = (volume - expected) / math.sqrt(max(expected, 1.0))
        if z < cfg.min_z:
            return
        share = w.violating / volume
        reason = ""
        if volume >= cfg.min_volume and share >= cfg.min_violating_share and w.violating >= cfg.min_violating:
            reason = "burst"
        elif ((w.key.__class__ is int or w.key.startswith("url:")) and w.young_accounts >= cfg.min_young_accounts
              and w.young_accounts >= cfg.min_young_share * w.account_count()):
            reason = "young_accounts"
        if not reason:
            return
        was_hot = bool(w.hot)
        w.hot = reason
        w.hot_until = t + cfg.window_seconds  # stays a campaign for a window after it last qualified
        w.judged = (expected, z)
        if not was_hot:
            # Everything in the window so far belongs to the campaign, not just what comes next.
            campaign = self._campaign_of(w)
            upd = self._update(campaign, self.kind_of(w.key), reason, w, expected, z)
            members = w.members()
            upd.posts.extend(members)
            self.members[campaign] = self.members.get(campaign, 0) + len(members)

    def _campaign_of(self, w: KeyState) -> str:
        if w.key.__class__ is int:
            return f"text:{text_id(w.sample)}"
        return w.key

    def _evidence(self, w: KeyState, expected: float, z: float) -> dict[str, Any]:
        share = w.violating / w.volume if w.volume else 0.0
        return {
            "key": self._campaign_of(w),
            "reason": w.hot,
            "window_seconds": self.cfg.window_seconds,
            "volume": w.volume,
            "baseline": round(expected, 3),
            "z": round(z, 2),
            "violating_share": round(share, 3),
            "accounts": w.account_count(),
            "young_accounts": w.young_accounts,
            **({"text": w.sample[:280]} if w.sample else {}),
        }

    def _score(self, reason: str, strength: float, share: float) -> float:
        cfg = self.cfg
        if reason == "burst":
            s = 0.3 * min(1.0, strength / (3 * cfg.min_z))
        elif reason == "young_accounts":
            s = 0.3 * min(1.0, strength / (3 * cfg.min_young_accounts))
        else:
            s = 0.3 * min(1.0, strength / (3 * cfg.cluster_min_accounts))
        return round(min(1.0, 0.4 + s + 0.3 * min(1.0, share / 0.8)), 4)

    def _label(self, share: float) -> str:
        return "campaign" if share >= self.cfg.min_violating_share else "coordinated"

    def _update(self, campaign: str, kind: str, reason: str, w: KeyState | None, expected: float, z: float,
                cluster: Cluster | None = None) -> CampaignUpdate:
        if cluster is not None:
            share = cluster.violating / cluster.posts if cluster.posts else 0.0
            evidence = {"key": campaign, "reason": reason, "accounts": len(cluster.accounts),
                        "posts": cluster.posts, "violating_share": round(share, 3),
                        "min_shared_keys": self.cfg.coshare_min_keys}
            strength = float(len(cluster.accounts))
        else:
            assert w is not None
            share = w.violating / w.volume if w.volume else 0.0
            evidence = self._evidence(w, expected, z)
            strength = z if reason == "burst" else float(w.young_accounts)
        upd = self.pending.get(campaign)
        label, score = self._label(share), self._score(reason, strength, share)
        if upd is None:
            upd = self.pending[campaign] = CampaignUpdate(campaign, kind, reason, label, score, evidence)
        else:
            upd.label, upd.score, upd.evidence, upd.reason = label, score, evidence, reason
        return upd

    def _findings(self, keys: Sequence[Any], post: str, account: str, t: float, record: bool,
                  cluster: Cluster | None = None) -> list[Finding]:
        found: list[Finding] = []
        get = self.windows.get
        for key in keys:
            w = get(key)
            if w is None or not w.hot:
                continue
            if t > w.hot_until:
                w.hot = ""
                continue
            expected, z = w.judged
            campaign = self._campaign_of(w)
            share = w.violating / w.volume if w.volume else 0.0
            strength = z if w.hot == "burst" else float(w.young_accounts)
            ev = self._evidence(w, expected, z)
            upd = self.pending.get(campaign)
            # The post that made the key a campaign is already a member (it was in the window).
            joined = upd is not None and bool(upd.posts) and upd.posts[-1][1] == post
            n = self.members.get(campaign, 0) + (1 if record and not joined else 0)
            ev["members"] = n
            found.append(Finding(campaign, w.hot, self._label(share), self._score(w.hot, strength, share), ev))
            if record and not joined:
                self.members[campaign] = n
                upd = self._update(campaign, self.kind_of(key), w.hot, w, expected, z)
                upd.posts.append((t, post, account))
        if cluster is None and not record:
            cluster = self.graph.cluster_of(account)
        if cluster is not None:
            campaign = f"cluster:{cluster.id}"
            share = cluster.violating / cluster.posts if cluster.posts else 0.0
            n = self.members.get(campaign, 0) + (1 if record else 0)
            ev = {"key": campaign, "reason": "cosharing", "accounts": len(cluster.accounts), "posts": cluster.posts,
                  "violating_share": round(share, 3), "members": n}
            found.append(Finding(campaign, "cosharing", self._label(share),
                                 self._score("cosharing", float(len(cluster.accounts)), share), ev))
            if record:
                self.members[campaign] = n
                upd = self._update(campaign, "cluster", "cosharing", None, 0.0, 0.0, cluster)
                upd.posts.append((t, post, account))
        return found

    def _cluster_grew(self, cluster: Cluster, t: float) -> None:
        campaign = f"cluster:{cluster.id}"
        upd = self._update(campaign, "cluster", "cosharing", None, 0.0, 0.0, cluster)
        upd.accounts |= cluster.accounts
        # Every merge of two named clusters is passed on; recording it moves the absorbed
        # campaign's members if it was ever recorded (by this process or another worker).
        for absorbed, survivor in self.graph.merged:
            gone = self.pending.get(f"cluster:{absorbed}") or self._update(
                f"cluster:{absorbed}", "cluster", "cosharing", None, 0.0, 0.0, cluster)
            gone.merged_into = f"cluster:{survivor}"
        self.graph.merged.clear()

    # -- feedback after commit ----------------------------------------------------------------------
    def violating(self, item: Item) -> None:
        """A post (an Item observed earlier) was found violating."""
        ev = item.event
        post, account, t = ev.id, ev.account_id, ev.created_at.timestamp()
        mark = self.windows.mark_violating
        for key in self.keys_of(item):
            w = mark(key, post, t)
            if w is not None and w.volume >= self._min_floor:
                self._judge(w, max(t, self.now))
        if self.graph.find(account) is not None:
            root = self.graph.find(account)
            c = self.graph._clusters.get(root)  # type: ignore[arg-type]
            if c is not None:
                c.violating += 1

    def feedback(self, processed: Sequence[Any]) -> None:
        """Learn from a committed batch (ProcessedEvents) which posts were violating."""
        strong = self.cfg.violating_signals
        for p in processed:
            if p.item.event.type == "post" and _is_violating(p, strong):
                self.violating(p.item)

    def drain(self) -> list[CampaignUpdate]:
        out = list(self.pending.values())
        self.pending = {}
        return out

    def _tidy(self) -> None:
        now = self.now
        self.windows.advance(now)
        self.graph.prune(now)
        if len(self.created) > 1_000_000:
            cutoff = now - self.young_seconds
            self.created = {a: c for a, c in self.created.items() if c >= cutoff}


def _is_violating(p: Any, strong: dict[str, float]) -> bool:
    for h in p.hits:
        floor = strong.get(h.signal)
        if floor is not None and h.score >= floor:
            return True
    d = p.decision
    if d.verdict in ("queue", "remove", "suspend", "escalate"):
        # An enforced rule that rests on some other signal; a rule that matched only because of
        # this campaign would otherwise feed its own violating share.
        for m in d.matched:
            for e in m.evidence:
                if e.hit is not None and e.hit.signal != "campaign":
                    return True
    return False
