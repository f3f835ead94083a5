"""The suspended-account index: fingerprints of every suspended account, searchable by each kind
of evidence, and the linker that scores a new account against it.

Candidate generation never scans all accounts: names through exact variant keys and a character
trigram index, avatars and banners through the PDQ multi-index of seawall.banks.index, links,
identity hashes and bio shingles through exact postings, early followers through the inverted
follower lists, shout-outs through the announced handle, and writing style through the vector
index. Only the union of those candidates (a few hundred at most) is scored.
"""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np

from seawall.banks.index import PDQIndex
from seawall.linking import handles, scoring
from seawall.linking.behaviour import Behaviour, behaviour_of
from seawall.linking.behaviour_index import BehaviourIndex
from seawall.linking.postings import PostingIndex, VectorIndex
from seawall.linking.profile import IDENTITY_KEYS, Profile, Shoutout
from seawall.linking.style import DEFAULT_DIM, N_FW, StyleSpace, account_vector

MAX_NAME_CANDIDATES = 60  # fuzzy name candidates scored, by trigram overlap
MAX_POSTING = 20_000  # a trigram or follower this common is skipped for candidate generation
MAX_KEY_POSTING = 5_000
STYLE_CANDIDATES = 50
MIN_STYLE_POPULATION = 20
REFIT_MAX = 20_000  # populations up to this size refit the style space as they grow
_WORDS = re.compile(r"\w+", re.UNICODE)


def _bio_words(bio: str) -> set[str]:
    return {w for w in _WORDS.findall(bio.lower()) if len(w) > 1}


def _shingles(words: list[str]) -> set[str]:
    return {" ".join(words[i : i + 3]) for i in range(max(0, len(words) - 2))}


@dataclass(slots=True)
class Candidate:
    account_id: str
    score: float
    evidence: dict[str, Any]
    order: float = 0.0  # the logit before the fitted terms were clipped: orders equal scores

    def as_dict(self, evidence: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"account_id": self.account_id, "score": round(self.score, 4)}
        if evidence:
            out["evidence"] = self.evidence
        return out


class LinkIndex:
    """Fingerprints of suspended accounts. `add()` any time (also after `build()`); `link()` scores
    a profile. Thread-safe for one writer and many readers."""

    def __init__(self, style_dim: int = DEFAULT_DIM, ivf_from: int = 50_000):
        self.style_dim = style_dim
        self._lock = threading.RLock()
        self.ids: list[str] = []
        self.number: dict[str, int] = {}
        self.handle: list[str] = []
        self.name: list[str] = []
        self.bio: list[str] = []
        self.links: list[tuple[str, ...]] = []
        self.identity: list[dict[str, str] | None] = []
        self.follower_count: list[int] = []
        self.n_posts: list[int] = []
        self.keys = PostingIndex()  # "h:" handle keys, "n:" display-name keys
        self.grams = PostingIndex()  # trigrams of handle and display name
        self.exact = PostingIndex()  # "l:" link, "i:kind:" identity, "s:" media sha256, "b:" bio shingle
        self.followed = PostingIndex()  # follower id -> accounts they followed
        self.by_handle: dict[str, int] = {}  # folded handle -> account
        self.pdq = PDQIndex()
        self.pdq_owner: list[tuple[int, str]] = []  # PDQ entry -> (account, "avatar" | "banner")
        self._pdq_pending: list[tuple[str, int, str]] = []
        self.shoutouts: dict[str, list[Shoutout]] = {}
        self.behaviour = BehaviourIndex()  # whom they retweet / mention, hashtags, domains, hours
        self.style = VectorIndex(style_dim + N_FW, ivf_from=ivf_from)
        self.style_row: dict[int, int] = {}
        self._raw_pending: list[tuple[int, np.ndarray]] = []
        # Raw style vectors of small populations are kept so the style space can be refitted
        # while the population is still growing from a handful (see _flush).
        self._raw_kept: list[tuple[int, np.ndarray]] = []
        self._fitted_on = 0
        self.space: StyleSpace | None = None
        self.built = False

    def __len__(self) -> int:
        return len(self.ids)

    # -- adding ---------------------------------------------------------------------------------
    def add(self, p: Profile, style_raw: np.ndarray | None = None) -> int:
        """Add (or refresh the posts of) a suspended account; returns its number."""
        with self._lock:
            if p.account_id in self.number:
                return self.number[p.account_id]
            i = len(self.ids)
            self.ids.append(p.account_id)
            self.number[p.account_id] = i
            self.handle.append(p.handle)
            self.name.append(p.display_name)
            self.bio.append(p.bio)
            self.links.append(tuple(p.links))
            self.identity.append(dict(p.identity) or None)
            self.follower_count.append(len(p.followers))
            self.n_posts.append(len(p.posts))
            for k in handles.keys(p.handle):
                self.keys.add("h:" + k, i)
            for k in handles.keys(p.display_name):
                self.keys.add("n:" + k, i)
            for g in handles.ngrams(p.handle) | handles.ngrams(p.display_name):
                self.grams.add(g, i)
            f = handles.fold(p.handle)
            if f:
                self.by_handle.setdefault(f, i)
            for link in p.links:
                self.exact.add("l:" + link, i)
            for kind, value in p.identity.items():
                self.exact.add(f"i:{kind}:{value}", i)
            for which in ("avatar", "banner"):
                sha = getattr(p, f"{which}_sha256")
                if sha:
                    self.exact.add("s:" + sha, i)
                pdq = getattr(p, f"{which}_pdq")
                if pdq:
                    self._pdq_pending.append((pdq, i, which))
            for sh in _shingles(_WORDS.findall(p.bio.lower())):
                self.exact.add("b:" + sh, i)
            for follower in p.followers:
                self.followed.add(follower, i)
            self.behaviour.add(i, behaviour_of(p.posts, p.post_hours, p.post_links), self.built)
            if style_raw is None and p.posts:
                style_raw = account_vector(p.posts, self.style_dim)
            if style_raw is not None:
                self._raw_pending.append((i, np.asarray(style_raw, np.float16)))
            if self.built:
                self._flush()
            return i

    def add_shoutout(self, s: Shoutout) -> None:
        with self._lock:
            lst = self.shoutouts.setdefault(s.handle, [])
            if all(x.post_id != s.post_id for x in lst):
                lst.append(s)

    def _flush(self) -> None:
        if self._pdq_pending:
            pending, self._pdq_pending = self._pdq_pending, []
            self.pdq.add([h for h, _, _ in pending])
            self.pdq_owner.extend((i, which) for _, i, which in pending)
        if self._raw_pending:
            pending_raw, self._raw_pending = self._raw_pending, []
            if len(self._raw_kept) + len(pending_raw) <= REFIT_MAX:
                self._raw_kept.extend(pending_raw)
                n = len(self._raw_kept)
                if self.space is None or n >= 2 * self._fitted_on:
                    # refit on everyone and re-embed everyone (cheap at this size)
                    self.space = StyleSpace.fit(np.stack([r for _, r in self._raw_kept]), self.style_dim)
                    self._fitted_on = n
                    self.style = VectorIndex(self.style.width, ivf_from=self.style.ivf_from)
                    self.style_row = {}
                    pending_raw = list(self._raw_kept)
            elif self.space is None:
                self.space = StyleSpace.fit(np.stack([r for _, r in pending_raw]), self.style_dim)
            for lo in range(0, len(pending_raw), 50_000):  # bounded temporary arrays
                chunk = pending_raw[lo : lo + 50_000]
                start = len(self.style)
                self.style.add(self.space.embed(np.stack([r for _, r in chunk])), np.asarray([i for i, _ in chunk]))
                for k, (i, _) in enumerate(chunk):
                    self.style_row[i] = start + k

    def build(self) -> None:
        """Freeze the postings and train the style quantiser (after the bulk load)."""
        with self._lock:
            for idx in (self.keys, self.grams, self.exact, self.followed):
                idx.freeze()
            if self._raw_pending and self.space is None and len(self._raw_pending) > REFIT_MAX:
                rng = np.random.default_rng(0)
                sample = rng.choice(len(self._raw_pending), size=REFIT_MAX, replace=False)
                self.space = StyleSpace.fit(np.stack([self._raw_pending[j][1] for j in sample]).astype(np.float32),
                                            self.style_dim)
                self._fitted_on = len(self._raw_pending)
            self._flush()
            self.behaviour.build()
            self.style.build()
            if self.pdq.segments > 1:
                self.pdq.compact()
            self.built = True

    def nbytes(self) -> int:
        return (self.keys.nbytes() + self.grams.nbytes() + self.exact.nbytes() + self.followed.nbytes()
                + self.pdq.nbytes() + self.style.nbytes() + self.behaviour.postings.nbytes())

    # -- candidates -----------------------------------------------------------------------------
    def _name_candidates(self, name: str, out: dict[int, None]) -> int:
        """Add the accounts whose names share a variant key or most trigrams with `name`; returns
        how crowded the name's neighbourhood is: the number of suspended accounts sharing at least
        70% of its trigrams (a name among many similar ones matches one of them more easily by
        chance)."""
        if not name:
            return 0
        for k in handles.keys(name):
            for prefix in ("h:", "n:"):
                ids = self.keys.get(prefix + k)
                for i in ids[:MAX_KEY_POSTING].tolist():
                    out[i] = None
        grams = handles.ngrams(name)
        lists = [self.grams.get(g) for g in grams]
        lists = [x for x in lists if 0 < len(x) <= MAX_POSTING]
        if not lists:
            return 0
        allids = np.concatenate(lists)
        ids, counts = np.unique(allids, return_counts=True)
        density = int((counts >= max(3, math.ceil(0.7 * len(grams)))).sum())
        need = max(2, math.ceil(0.5 * len(grams)))
        keep = counts >= need
        ids, counts = ids[keep], counts[keep]
        if len(ids) > MAX_NAME_CANDIDATES:
            top = np.argpartition(-counts, MAX_NAME_CANDIDATES - 1)[:MAX_NAME_CANDIDATES]
            ids = ids[top]
        for i in ids.tolist():
            out[i] = None
        return density

    def candidates(self, p: Profile, style_q: np.ndarray | None, behaviour_q: dict[str, float] | None = None
                   ) -> tuple[dict[int, None], dict[int, float], dict[str, int], dict[int, float]]:
        out: dict[int, None] = {}
        density = {"handle": self._name_candidates(p.handle, out),
                   "display_name": self._name_candidates(p.display_name, out)}
        for key in [*("l:" + x for x in p.links), *(f"i:{k}:{v}" for k, v in p.identity.items()),
                    *("s:" + s for s in (p.avatar_sha256, p.banner_sha256) if s),
                    *("b:" + s for s in _shingles(_WORDS.findall(p.bio.lower())))]:
            ids = self.exact.get(key)
            if len(ids) <= MAX_KEY_POSTING:
                for i in ids.tolist():
                    out[i] = None
        for h in (p.avatar_pdq, p.banner_pdq):
            if h and len(self.pdq):
                for e, _ in self.pdq.query(h):
                    out[self.pdq_owner[e][0]] = None
        for f in p.followers:
            ids = self.followed.get(f)
            if len(ids) <= MAX_POSTING:
                for i in ids.tolist():
                    out[i] = None
        for s in self.shoutouts.get(handles.fold(p.handle), ()):
            for acct in (self.number.get(s.poster_id), *(self.by_handle.get(o) for o in s.others)):
                if acct is not None:
                    out[acct] = None
        style_sims: dict[int, float] = {}
        if style_q is not None and len(self.style):
            owners, sims = self.style.search(style_q, STYLE_CANDIDATES)
            for o, s in zip(owners.tolist(), sims.tolist()):
                style_sims[o] = s
                out[o] = None
        behaviour_sims = self.behaviour.candidates(behaviour_q) if behaviour_q else {}
        for o in behaviour_sims:
            out[o] = None
        return out, style_sims, density, behaviour_sims

    # -- scoring --------------------------------------------------------------------------------
    def link(self, p: Profile, limit: int = 10, style_raw: np.ndarray | None = None) -> list[Candidate]:
        """The most likely previous accounts of `p`, best first, with score and evidence."""
        with self._lock:
            if not self.built:
                self.build()
            style_q = None
            if style_raw is None and p.posts:
                style_raw = account_vector(p.posts, self.style_dim)
            if style_raw is not None and self.space is not None:
                style_q = self.space.embed(style_raw)[0]
            beh = behaviour_q = None
            if p.posts or p.post_hours:
                beh = behaviour_of(p.posts, p.post_hours, p.post_links)
                behaviour_q = self.behaviour.query_weights(beh)
            cands, style_sims, density, beh_sims = self.candidates(p, style_q, behaviour_q)
            if not cands:
                return []
            pdq_hits = {w: self.pdq.query(h) for w in ("avatar", "banner")
                        if (h := getattr(p, f"{w}_pdq")) and len(self.pdq)}
            behaviour = (beh, behaviour_q or {}, beh_sims) if beh is not None else None
            scored = [self._score(p, i, style_q, style_sims, pdq_hits, density, behaviour) for i in cands]
        # equal scores (style and behaviour too weak to count) are ordered by the unclipped terms
        scored.sort(key=lambda c: (-c.score, -c.order, c.account_id))
        return scored[:limit]

    def _style_sim(self, i: int, style_q: np.ndarray | None, sims: dict[int, float]) -> float | None:
        if style_q is None:
            return None
        if i in sims:
            return sims[i]
        row = self.style_row.get(i)
        if row is None:
            return None
        return float(self.style.row(row) @ style_q)

    def _score(self, p: Profile, i: int, style_q: np.ndarray | None, style_sims: dict[int, float],
               pdq_hits: dict[str, list[tuple[int, int]]], density: dict[str, int],
               behaviour: tuple[Behaviour, dict[str, float], dict[int, float]] | None = None) -> Candidate:
        ev = scoring.Evidence()
        old_handle, old_name = self.handle[i], self.name[i]
        # names: each new name against the old handle and the old display name; one piece of
        # evidence per new name (an old display name is often the old handle again: one
        # coincidence must not count twice)
        for kind, new, old, cap, group in (("handle", p.handle, old_handle, 10.0, "handle"),
                                           ("handle_vs_name", p.handle, old_name, 5.0, "handle"),
                                           ("display_name", p.display_name, old_name, 6.0, "display_name"),
                                           ("name_vs_handle", p.display_name, old_handle, 5.0, "display_name")):
            if not new or not old:
                continue
            m = handles.compare(new, old)
            if m.kind == "none":
                continue
            key = m.shared or handles.letters(handles.fold(old))
            sharing = 1
            if m.shared:  # suspended accounts (not names) that share the key
                sharing = max(len(np.union1d(self.keys.get("h:" + key), self.keys.get("n:" + key))), 1)
            llr = scoring.name_llr(m.kind, m.similarity, len(key), sharing, cap)
            if kind == "handle" and m.kind in ("same_letters", "fuzzy") and scoring.number_continues(old, new):
                llr = min(cap, llr + 1.5)
            crowd = density.get(group, 0)
            llr -= math.log1p(max(0, crowd - 1) / 2)
            if llr > 0:
                ev.add("name" if group == "handle" else "display_name", llr, field=kind, new=new, old=old,
                       **m.as_dict(), shared_by=sharing, similar_names=crowd)
        if p.bio and self.bio[i]:
            a, b = _bio_words(p.bio), _bio_words(self.bio[i])
            if a and b:
                jac = len(a & b) / len(a | b)
                llr = scoring.bio_llr(jac, min(len(a), len(b)))
                if llr > 0:
                    ev.add("bio", llr, new=p.bio[:300], old=self.bio[i][:300], jaccard=round(jac, 3))
        shared_links = [x for x in p.links if x in self.links[i]]
        if shared_links:
            llr = sum(scoring.link_llr(self.exact.df("l:" + x)) for x in shared_links)
            ev.add("links", min(8.0, llr), new=p.links, old=list(self.links[i]), shared=shared_links)
        ident = self.identity[i]
        if ident:
            for k in IDENTITY_KEYS:
                if k in p.identity and ident.get(k) == p.identity[k]:
                    ev.add(f"identity:{k}", scoring.IDENTITY_LLR[k], match=True)
        self._media_evidence(p, i, ev, pdq_hits)
        if p.followers:
            common = [f for f in p.followers if i in set(self.followed.get(f).tolist())]
            if common:
                w = sum(1.0 / math.log2(1 + max(self.followed.df(f), 1)) for f in common)
                llr = scoring.follower_llr(w, len(common))
                if llr > 0:
                    ev.add("followers", llr, common=len(common), new_followers=len(p.followers),
                           old_followers=self.follower_count[i], examples=common[:5])
        for s in self.shoutouts.get(handles.fold(p.handle), ()):
            if self.number.get(s.poster_id) == i:
                ev.add("shoutout", 10.0, by="the old account", post_id=s.post_id, text=s.text)
            elif handles.fold(old_handle) in s.others:
                ev.add("shoutout", 7.0, by=s.poster_id, post_id=s.post_id, text=s.text, names_old_handle=True)
        sim = self._style_sim(i, style_q, style_sims)
        if sim is not None:
            others = [s for o, s in style_sims.items() if o != i]
            # the gap to the runner-up means something only among enough accounts with posts
            gap = sim - max(others) if others and len(self.style) >= MIN_STYLE_POPULATION else 0.0
            raw = scoring.style_model().raw(sim, gap, len(p.posts))
            llr = scoring.style_model().llr(sim, gap, len(p.posts))
            ev.clipped += raw - llr
            ev.add("style", llr, cosine=round(sim, 3), gap=round(gap, 3), new_posts=len(p.posts),
                   old_posts=self.n_posts[i])
        if behaviour is not None:
            self.behaviour.add_evidence(i, ev, *behaviour)
        return Candidate(self.ids[i], scoring.sigmoid(ev.logit()), ev.as_dict(), ev.order())

    def _media_evidence(self, p: Profile, i: int, ev: scoring.Evidence,
                        pdq_hits: dict[str, list[tuple[int, int]]]) -> None:
        for which in ("avatar", "banner"):
            new_sha = getattr(p, f"{which}_sha256")
            new_pdq = getattr(p, f"{which}_pdq")
            if new_sha and i in set(self.exact.get("s:" + new_sha).tolist()):
                ev.add(which, scoring.pdq_llr(0, which == "banner"), match="sha256", new=new_sha)
                continue
            if new_pdq:
                for e, d in pdq_hits.get(which, ()):
                    owner, kind = self.pdq_owner[e]
                    if owner == i:
                        ev.add(which, scoring.pdq_llr(d, which == "banner"), match="pdq", distance=d,
                               new=new_pdq, old=self.pdq.hash_at(e), old_field=kind)


def build_index(profiles: Iterable[Profile], shoutouts: Iterable[Shoutout] = (), **kw: Any) -> LinkIndex:
    index = LinkIndex(**kw)
    for p in profiles:
        index.add(p)
    for s in shoutouts:
        index.add_shoutout(s)
    index.build()
    return index
