"""Returning accounts re-timed to each arm's own suspensions.

The simulation schedules when the platform's staff suspend each supporter account and when the
supporter comes back ("within hours"). An arm that suspends the account earlier must not be
rewarded with hours of silence until the scheduled return: the supporter comes back the same
time after *that* suspension. So a returning account's whole life (sign-up, posts, follows to
and from it, reports on its posts, its own later suspension) is held back and released only when
its predecessor is suspended in the arm, shifted earlier by however much sooner that happened.
Later returns of the same person shift with it.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from seawall.simulate.world import Truth

TIME_FIELDS = ("created_at", "at")


def _stamp(t: float) -> str:
    return datetime.fromtimestamp(int(t), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Timeline:
    def __init__(self, events: list[tuple[float, int, dict[str, Any]]], truth: Truth):
        self.successor = {r["old"]: r["new"] for r in truth.returns}
        returners = set(self.successor.values())
        author: dict[str, str] = {}
        self.scheduled_suspension: dict[str, float] = {}
        self.main: list[tuple[float, int, dict[str, Any]]] = []
        self.held: dict[str, list[tuple[float, int, dict[str, Any]]]] = {a: [] for a in returners}
        for t, i, ev in events:
            kind = ev["type"]
            owner = None
            if kind == "post":
                author[ev["id"]] = ev["account_id"]
                owner = ev["account_id"]
            elif kind == "account":
                owner = ev["id"]
            elif kind == "enforcement":
                owner = ev.get("account_id")
                if owner and ev["action"] == "suspend":
                    self.scheduled_suspension.setdefault(owner, t)
            elif kind == "follow":
                owner = ev["followee_id"] if ev["followee_id"] in returners else ev["follower_id"]
            elif kind == "report" and ev["target_type"] == "post":
                owner = author.get(ev["target_id"])
            if owner in self.held:
                self.held[owner].append((t, i, ev))
            else:
                self.main.append((t, i, ev))
        self.shift: dict[str, float] = {}
        self.released: set[str] = set()

    def suspended(self, account: str, at: float) -> list[tuple[float, int, dict[str, Any]]]:
        """`account` was suspended at `at` in this arm: its successor's life starts now (once)."""
        new = self.successor.get(account)
        if new is None or new in self.released:
            return []
        self.released.add(new)
        own = self.shift.get(account, 0.0)
        scheduled = self.scheduled_suspension.get(account)
        earlier = max(0.0, scheduled - own - at) if scheduled is not None else 0.0
        shift = self.shift[new] = own + earlier
        out = []
        for t, i, ev in self.held.pop(new, []):
            nt = t - shift
            if shift:
                ev = dict(ev)
                for f in TIME_FIELDS:
                    if f in ev:
                        ev[f] = _stamp(nt)
            out.append((nt, i, ev))
        return out
