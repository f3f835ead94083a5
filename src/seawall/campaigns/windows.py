"""Sliding-window state of the campaign detector, behind a small interface.

A *key* is something many posts can share: `hashtag:#x`, `url:<canonical url>`, `domain:<host>`,
`text:<hash of the normalised text>`. For every key the detector needs, over the last `window`
seconds of stream time: how many posts used it, how many of those were found violating, which
distinct accounts used it (and how many of them are young), and the posts themselves (they become
the campaign's members); and, from before the window, a baseline rate.

`WindowStore` is that interface. `InMemoryWindowStore` is the embedded default (one process). A
shared implementation (Redis: one sorted set of `(time, post|account|young|violating)` per key for
the window, one hash for the decayed baseline mass, expired with the key's TTL) can be dropped in
by implementing the same five methods; `observe` is called once per (post, key) in stream order
and must return an object with the `KeyState` attributes (live or a snapshot).

Baseline: posts leaving the window are added to a mass that decays with time constant `tau`
(exponentially weighted count). For a key used at a steady rate r over a span s before the window,
mass = r * tau * (1 - exp(-s / tau)), which `expected` inverts; a key with too little history gets
the prior rate instead, so a new hashtag arriving in a burst is judged against "rare".
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any, Iterable, Protocol


class KeyState(Protocol):
    """What the detector reads about one key after an observation."""

    key: str
    volume: int  # posts in the window
    violating: int  # of which found violating
    first_t: float  # stream time the key was first seen
    young_accounts: int  # distinct young accounts in the window
    hot: str  # "" or why the key is a campaign now: burst | young_accounts (set by the detector)
    hot_until: float  # stream time until which it stays one without qualifying again
    judged: tuple[float, float]  # (expected, z) when it last qualified
    # Optional: the last `expected` computed and the stream time it was computed at; with them
    # the detector skips judging keys that cannot qualify (without, it judges every time).
    exp_value: float
    exp_at: float
    sample: str  # for text keys: the normalised text (to name the campaign by a stable hash)

    def account_count(self) -> int: ...
    def uses(self, account: str) -> int: ...
    def accounts(self) -> Iterable[str]: ...
    def expected(self, now: float, window: float, tau: float, prior_rate: float) -> float: ...
    def members(self) -> list[tuple[float, str, str]]: ...


class WindowStore(Protocol):
    def observe(self, key: str, t: float, post: str, account: str, young: bool, sample: str = "") -> KeyState | None:
        """Add one post to a key's window (evicting what fell out of it) and return the key's
        state, or None while the key has been seen only once (most keys never repeat)."""

    def mark_violating(self, key: str, post: str, t: float) -> KeyState | None:
        """The post (observed under key at stream time t) was found violating; None if it left
        the window."""

    def get(self, key: str) -> KeyState | None: ...

    def start_time(self, t: float) -> float:
        """The detector saw its first post at stream time t: when did the stream it shares start
        (for the warm-up)? In one process, t itself."""

    def advance(self, now: float) -> None:
        """Stream time moved to `now`: forget keys idle for longer than the retention."""

    def __len__(self) -> int: ...


class KeyWindow:
    """One key's window (the in-memory KeyState)."""

    __slots__ = ("key", "entries", "volume", "violating", "bad", "by_account", "young", "young_accounts",
                 "first_t", "last_t", "mass", "mass_t", "hot", "hot_until", "judged", "sample",
                 "exp_value", "exp_at")

    def __init__(self, key: str, first_t: float, sample: str = ""):
        self.key = key
        self.entries: deque[tuple[float, str, str, bool]] = deque()  # (t, post, account, young)
        self.volume = 0
        self.violating = 0
        self.bad: set[str] = set()  # violating posts still in the window
        self.by_account: dict[str, int] = {}
        self.young: set[str] = set()
        self.young_accounts = 0
        self.first_t = first_t
        self.last_t = first_t
        self.mass = 0.0  # decayed count of posts that left the window
        self.mass_t = first_t
        self.hot = ""  # set by the detector
        self.hot_until = 0.0
        self.judged = (0.0, 0.0)  # (expected, z) when last judged a campaign
        self.sample = sample
        self.exp_value = 0.0
        self.exp_at = -math.inf

    def add(self, t: float, post: str, account: str, young: bool, horizon: float, tau: float) -> None:
        entries = self.entries
        by_account = self.by_account
        if entries and entries[0][0] < horizon:
            self._evict(horizon, tau, by_account)
        entries.append((t, post, account, young))
        self.volume += 1
        if t > self.last_t:
            self.last_t = t
        n = by_account.get(account)
        if n is None:
            by_account[account] = 1
            if young:
                self.young.add(account)
                self.young_accounts += 1
        else:
            by_account[account] = n + 1

    def _evict(self, horizon: float, tau: float, by_account: dict[str, int] | None) -> None:
        """Drop what fell out of the window; with `by_account`, keep the per-account counts too.
        The evicted posts join the decayed baseline mass (dated at the window's edge)."""
        entries, bad = self.entries, self.bad
        evicted = 0
        while entries and entries[0][0] < horizon:
            _, old_post, old_account, _ = entries.popleft()
            evicted += 1
            if bad and old_post in bad:
                bad.discard(old_post)
                self.violating -= 1
            if by_account is None:
                continue
            n = by_account[old_account] - 1
            if n:
                by_account[old_account] = n
            else:
                del by_account[old_account]
                if old_account in self.young:
                    self.young.discard(old_account)
                    self.young_accounts -= 1
        self.volume -= evicted
        if horizon > self.mass_t:
            self.mass *= math.exp((self.mass_t - horizon) / tau)
            self.mass_t = horizon
        self.mass += evicted

    def account_count(self) -> int:
        return len(self.by_account)

    def uses(self, account: str) -> int:
        return self.by_account.get(account, 0)

    def accounts(self) -> Iterable[str]:
        return self.by_account.keys()

    def expected(self, now: float, window: float, tau: float, prior_rate: float) -> float:
        """Posts expected in one window at the key's baseline rate (prior rate if too young).
        The baseline moves slowly: it is recomputed at most every window/20 of stream time."""
        if now - self.exp_at < window / 20 and now >= self.exp_at:
            return self.exp_value
        start = now - window
        span = start - self.first_t
        if span < window:
            value = prior_rate * window
        else:
            mass = self.mass * math.exp(-max(0.0, start - self.mass_t) / tau)
            rate = mass / (tau * (1.0 - math.exp(-span / tau)))
            value = max(rate, prior_rate / 10.0) * window
        self.exp_value, self.exp_at = value, now
        return value

    def members(self) -> list[tuple[float, str, str]]:
        return [(t, post, account) for t, post, account, _ in self.entries]


class TextWindow(KeyWindow):
    """A text key's window. Texts repeat often (templates, greetings) and are judged only for
    young-account pushes, so the per-account bookkeeping is skipped when adding and done by a
    scan when the text is judged (only once its volume is far above its baseline)."""

    __slots__ = ()

    def add(self, t: float, post: str, account: str, young: bool, horizon: float, tau: float) -> None:
        entries = self.entries
        if entries and entries[0][0] < horizon:
            self._evict(horizon, tau, None)  # texts keep no per-account counts (see the class)
        entries.append((t, post, account, young))
        self.volume += 1
        if t > self.last_t:
            self.last_t = t

    @property  # type: ignore[override]
    def young_accounts(self) -> int:
        return len({e[2] for e in self.entries if e[3]})

    @young_accounts.setter
    def young_accounts(self, value: int) -> None:  # KeyWindow.__init__ sets it; derived here
        pass

    def account_count(self) -> int:
        return len({e[2] for e in self.entries})

    def uses(self, account: str) -> int:
        return sum(1 for e in self.entries if e[2] == account)

    def accounts(self) -> Iterable[str]:
        return {e[2] for e in self.entries}


class InMemoryWindowStore:
    """The embedded default: dictionaries in this process.

    Keys seen once are kept as a bare tuple (most texts and many links never repeat) and become a
    `KeyWindow` on their second use inside the window. Keys idle for `retention` seconds are
    dropped (their baseline with them), oldest first, as stream time advances.
    """

    def __init__(self, window: float, tau: float, retention: float):
        self.window = window
        self.tau = tau
        self.retention = max(retention, window)
        self._keys: dict[Any, KeyWindow] = {}  # texts are keyed by an int hash, the rest by strings
        self._singles: dict[Any, tuple[float, str, str, bool, str]] = {}
        self._last_prune = -math.inf

    def __len__(self) -> int:
        return len(self._keys) + len(self._singles)

    def observe(self, key: str, t: float, post: str, account: str, young: bool, sample: str = "") -> KeyWindow | None:
        w = self._keys.get(key)
        if w is None:
            first = self._singles.pop(key, None)
            if first is None or first[0] < t - self.window:
                self._singles[key] = (t, post, account, young, sample)
                return None
            w = self._keys[key] = (TextWindow if key.__class__ is int else KeyWindow)(key, first[0], first[4] or sample)
            w.add(first[0], first[1], first[2], first[3], t - self.window, self.tau)
        w.add(t, post, account, young, t - self.window, self.tau)
        return w

    def mark_violating(self, key: str, post: str, t: float) -> KeyWindow | None:
        w = self._keys.get(key)
        if w is None or not w.entries or t < w.entries[0][0] or post in w.bad:
            return w if w is not None and post in w.bad else None
        # Entries are in time order and hold every post of the key since the oldest one, so a
        # post observed at t >= the oldest entry's time is in the window: no scan needed.
        w.bad.add(post)
        w.violating += 1
        return w

    def get(self, key: str) -> KeyWindow | None:
        return self._keys.get(key)

    def start_time(self, t: float) -> float:
        return t

    def advance(self, now: float) -> None:
        # Amortised: a full pass at most once per window of stream time.
        if now - self._last_prune < self.window:
            return
        self._last_prune = now
        horizon = now - self.window
        singles = self._singles
        stale = [k for k, v in singles.items() if v[0] < horizon]
        for k in stale:
            del singles[k]
        idle = now - self.retention
        for k in [k for k, w in self._keys.items() if w.last_t < idle]:
            del self._keys[k]
