"""Accounts of the simulated platform and the life of each extremist "person" across accounts:
suspended, back within hours under the next numbered handle, followers re-following."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from seawall.simulate import vocab


@dataclass(slots=True)
class Account:
    id: str
    handle: str
    display_name: str
    bio: str
    role: str  # ordinary | news | member
    created: int  # epoch seconds
    person: int | None = None  # which network member (a person) owns it
    number: int = 0  # position in the person's chain of accounts (0 = the account the simulation starts with)
    suspended: int | None = None  # when the platform's own staff suspend it (both arms of the benchmark see this)
    predecessor: str | None = None
    avatar_seed: int | None = None
    static_followers: set[str] = field(default_factory=set)
    refollows: list[tuple[int, str]] = field(default_factory=list)  # (time, follower) for returners
    following: int = 0
    voice: "Voice | None" = None

    def active(self, t: float) -> bool:
        return self.created <= t and (self.suspended is None or t < self.suspended)

    def followers_at(self, t: float) -> int:
        if not self.refollows:
            return len(self.static_followers)
        return len(self.static_followers) + sum(1 for when, _ in self.refollows if when <= t)


@dataclass(slots=True)
class Person:
    """One supporter and the handle stem and picture they keep coming back with."""

    index: int
    stem: str
    name: str
    name_ar: str
    first_number: int
    avatar_seed: int
    serial: bool = False
    accounts: list[Account] = field(default_factory=list)

    def current(self, t: float) -> Account | None:
        for a in reversed(self.accounts):
            if a.active(t):
                return a
        return None


def lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return median * math.exp(rng.gauss(0.0, sigma))


def ordinary_identity(rng: random.Random) -> tuple[str, str, str]:
    first, last = rng.choice(vocab.FIRST), rng.choice(vocab.LAST)
    handle = f"{first}_{last}{rng.randint(1, 99)}" if rng.random() < 0.7 else f"{first}{last[:3]}{rng.randint(1, 999)}"
    roll = rng.random()
    name = f"{first.title()} {last.title()}" if roll < 0.6 else first.title() if roll < 0.75 else \
        f"{first.title()} {last[0].upper()}." if roll < 0.9 else f"{first} {rng.choice(['🌻', '⚽', '✈️', '🎧', '📚'])}"
    parts = [rng.choice(p) for p in vocab.BIO_PARTS]
    fill = {"city": rng.choice(vocab.CITIES), "team": rng.choice(vocab.TEAMS)}
    bio = ", ".join(x for x in parts[:2] if x)
    bio = (bio + (". " + parts[2].format(**fill) if parts[2] else "")) if rng.random() < 0.85 else ""
    return handle, name, bio


@dataclass(slots=True, frozen=True)
class Voice:
    """How one ordinary account writes: it shapes every one of its posts the same way."""

    prefix: str
    suffix: str
    lower: bool
    capital: bool

    def apply(self, text: str) -> str:
        if self.lower:
            text = text.lower()
        elif self.capital and text[:1].isalpha():
            text = text[0].upper() + text[1:]
        return f"{self.prefix}{text}{self.suffix}"


def new_voice(rng: random.Random) -> Voice:
    return Voice(rng.choice(vocab.QUIRKS_PREFIX), rng.choice(vocab.QUIRKS_SUFFIX), rng.random() < 0.3,
                 rng.random() < 0.5)


def new_person(rng: random.Random, index: int) -> Person:
    n = rng.choice(vocab.NETWORK_NAMES)
    form = rng.choice(vocab.NETWORK_HANDLE_FORMS)
    stem = form.format(n=n)
    return Person(index=index, stem=stem, name=n, name_ar=vocab.NETWORK_AR[n],
                  first_number=rng.randint(1, 12), avatar_seed=700_000 + index)


def numbered_handle(rng: random.Random, person: Person, k: int) -> str:
    """The handle of a person's k-th account: the stem with the account number, sometimes with an
    underscore or a leetspeak letter (returning accounts vary their names a little)."""
    number = person.first_number + k
    roll = rng.random()
    if k == 0 or roll < 0.7:
        return f"{person.stem}{number}"
    if roll < 0.85:
        return f"{person.stem}_{number}"
    return f"{person.stem.replace('a', '4', 1)}{number}"


def network_display(rng: random.Random, person: Person) -> str:
    form = rng.choice(vocab.NETWORK_DISPLAY)
    return form.format(N=person.name.title(), n_ar=person.name_ar)


def network_bio(rng: random.Random, number: int, open_share: float) -> str:
    pool = vocab.NETWORK_BIOS_OPEN if rng.random() < open_share else vocab.NETWORK_BIOS_BLAND
    return rng.choice(pool).format(k=number)
