"""A simulated platform with realistic returners, for what the IRA data cannot show (it has no
profiles, pictures or follower lists).

Seeded and deterministic. A community of supporters follows `suspended` accounts (each with 50-300
followers, 70% from the community); every suspended account has a handle, most a display name, some
a bio, an avatar and a link. `returners` of them come back: the new handle is a numbered or
separator variant (half) or unrelated (half); the display name is kept by half; the avatar is
re-used by 40% (re-encoded: a few PDQ bits differ); the bio by 30% (lightly edited); 40% are
announced by a shout-out (by the old account before its suspension, or by a supporter naming both
handles); in their first hours they regain followers, 70% of them old followers. Alongside, ordinary
people sign up (random names, pictures, bios; some of their early followers are supporters too).

Each new account is scored at sign-up (profile only), after 10 and after 30 early followers.
"""

from __future__ import annotations

import random
from typing import Any

from seawall.linking import handles
from seawall.linking.index import build_index
from seawall.linking.profile import Profile, shoutouts_in
from seawall.linking.scoring import LINK_THRESHOLD, REVIEW_THRESHOLD

_SYL = ["ab", "u", "al", "ka", "mi", "ra", "te", "su", "no", "vi", "da", "re", "po", "li", "ma", "ze", "tu",
        "sha", "kh", "ir", "on", "el", "an", "ja", "har", "ib", "or", "is", "ad", "um", "et", "ho", "qa", "wi"]
_BIO_WORDS = ("news", "truth", "brothers", "front", "media", "follow", "daily", "reports", "voice", "ummah",
              "lions", "victory", "patience", "music", "football", "coffee", "travel", "family", "books", "art")


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(_SYL) for _ in range(rng.randint(2, 3)))


def _handle(rng: random.Random) -> str:
    h = _word(rng) + rng.choice(["_", ""]) + _word(rng)
    return h + (str(rng.randint(1, 99)) if rng.random() < 0.4 else "")


def _pdq(rng: random.Random) -> str:
    return f"{rng.getrandbits(256):064x}"


def _flip(pdq: str, rng: random.Random, bits: int) -> str:
    v = int(pdq, 16)
    for b in rng.sample(range(256), bits):
        v ^= 1 << b
    return f"{v:064x}"


def _bio(rng: random.Random) -> str:
    return " ".join(rng.choice(_BIO_WORDS) for _ in range(rng.randint(6, 12)))


def simulate(seed: int = 3, suspended: int = 2000, returners: int = 600, ordinary_signups: int = 3000,
             community: int = 8000, population: int = 100_000) -> dict[str, Any]:
    rng = random.Random(seed)
    olds: list[Profile] = []
    shouts = []
    for i in range(suspended):
        n_followers = rng.randint(50, 300)
        followers = {f"c{rng.randrange(community)}" if rng.random() < 0.7 else f"u{rng.randrange(population)}"
                     for _ in range(n_followers)}
        h = _handle(rng)
        olds.append(Profile(
            f"old{i}", handle=h, display_name=h.replace("_", " ").title() if rng.random() < 0.8 else "",
            bio=_bio(rng) if rng.random() < 0.5 else "", avatar_pdq=_pdq(rng) if rng.random() < 0.7 else None,
            links=[f"https://t.me/{_word(rng)}{i}"] if rng.random() < 0.2 else [], followers=sorted(followers)))
    new: list[tuple[Profile, str | None, list[str]]] = []  # profile, truth, early followers
    for k, old in enumerate(rng.sample(olds, returners)):
        p = Profile(f"ret{k}")
        p.handle = rng.choice(handles.variants(old.handle)) if rng.random() < 0.5 else _handle(rng)
        p.display_name = old.display_name if rng.random() < 0.5 else ""
        if old.avatar_pdq and rng.random() < 0.4:
            p.avatar_pdq = _flip(old.avatar_pdq, rng, rng.randint(0, 10))
        if old.bio and rng.random() < 0.3:
            words = old.bio.split()
            words[rng.randrange(len(words))] = rng.choice(_BIO_WORDS)
            p.bio = " ".join(words)
        if rng.random() < 0.4:
            if rng.random() < 0.5:
                text, poster = f"they will suspend me soon, follow my backup account @{p.handle}", old.account_id
            else:
                text = f"@{old.handle} is back as @{p.handle} follow and share"
                poster = f"c{rng.randrange(community)}"
            shouts.extend(shoutouts_in(f"s{k}", poster, text))
        early = [f for f in rng.sample(old.followers, min(len(old.followers), 21)) if rng.random() < 0.7]
        early += [f"u{rng.randrange(population)}" for _ in range(30 - len(early))]
        rng.shuffle(early)
        new.append((p, old.account_id, early))
    for k in range(ordinary_signups):
        p = Profile(f"ord{k}", handle=_handle(rng), display_name=_word(rng).title() if rng.random() < 0.7 else "",
                    bio=_bio(rng) if rng.random() < 0.4 else "", avatar_pdq=_pdq(rng) if rng.random() < 0.6 else None)
        early = [f"c{rng.randrange(community)}" if rng.random() < 0.1 else f"u{rng.randrange(population)}"
                 for _ in range(30)]
        new.append((p, None, early))
    index = build_index(olds, shouts)
    out: dict[str, Any] = {"seed": seed, "suspended": suspended, "returners": returners,
                           "ordinary_signups": ordinary_signups, "stages": {}}
    for stage, n_followers in (("signup", 0), ("10_followers", 10), ("30_followers", 30)):
        hits = review = top1 = false_links = 0
        for p, truth, early in new:
            p.followers = early[:n_followers]
            cands = index.link(p, limit=10)
            best = cands[0] if cands else None
            if truth is None:
                false_links += best is not None and best.score >= LINK_THRESHOLD
                continue
            ok = best is not None and best.account_id == truth
            top1 += ok
            hits += ok and best.score >= LINK_THRESHOLD  # type: ignore[union-attr]
            review += ok and best.score >= REVIEW_THRESHOLD  # type: ignore[union-attr]
        out["stages"][stage] = {"recall_at_1": round(top1 / returners, 4), "linked": round(hits / returners, 4),
                                "linked_or_review": round(review / returners, 4),
                                "false_link_rate": round(false_links / ordinary_signups, 4)}
    return out
