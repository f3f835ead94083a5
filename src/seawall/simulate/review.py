"""A modelled review team: N reviewers, each taking one decision per 3600/R seconds, always the
highest-priority open item first (oldest first among equals), right with probability `accuracy`.

Used for Seawall's queues (priority from the rules) and, with one "reviewer" working at the
referral unit's capacity in arrival order, for the 2015 baseline. Time is simulated: `advance(t)`
completes every decision due by t and returns them in time order.
"""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class ReviewItem:
    subject: tuple[str, str]  # ("post" | "account", id)
    queue: str
    priority: int
    arrived: float
    kind: str = "review"  # review | second (the second person for a suspension)
    auto: tuple[str, ...] = ()  # what Seawall already did automatically (remove, suspend)
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Decision:
    item: ReviewItem
    started: float
    at: float
    correct: bool


class ReviewTeam:
    def __init__(self, reviewers: int, decisions_per_hour: float, accuracy: float, rng: random.Random,
                 by_priority: bool = True):
        if reviewers < 1:
            raise ValueError("reviewers: at least 1")
        if decisions_per_hour <= 0:
            raise ValueError("decisions_per_hour: must be positive")
        if not 0.0 <= accuracy <= 1.0:
            raise ValueError("accuracy: must be between 0 and 1")
        self.seconds = 3600.0 / decisions_per_hour
        self.accuracy = accuracy
        self.rng = rng
        self.by_priority = by_priority
        self._free: list[float] = [-math.inf] * reviewers  # when each reviewer is next free
        heapq.heapify(self._free)
        self._open: list[tuple[Any, ...]] = []  # heap of items not yet started
        self._running: list[tuple[float, int, float, ReviewItem]] = []  # (finish, seq, started, item)
        self._seq = 0
        self.open_subjects: dict[tuple[str, str], ReviewItem] = {}
        self.decided = 0
        self.decision_times: list[float] = []
        self.backlog: list[tuple[float, int]] = []  # (time, open items) samples

    def add(self, item: ReviewItem) -> bool:
        """Queue an item; an open item on the same subject takes the higher priority instead
        (one case per subject, as Seawall merges them). Returns True if a new item was queued."""
        same = self.open_subjects.get(item.subject) if item.kind == "review" else None
        if same is not None:
            if item.priority > same.priority:
                same.priority = item.priority
                same.queue = item.queue
                self._push(same)  # re-queued at the new priority; the stale entry is skipped
            same.auto = tuple(sorted(set(same.auto) | set(item.auto)))
            return False
        if item.kind == "review":
            self.open_subjects[item.subject] = item
        self._push(item)
        self.backlog.append((item.arrived, len(self.open_subjects)))
        return True

    def _push(self, item: ReviewItem) -> None:
        self._seq += 1
        key = (-item.priority, item.arrived, self._seq) if self.by_priority else (item.arrived, self._seq)
        heapq.heappush(self._open, (*key, item.priority, item))

    def _pop(self, now: float) -> ReviewItem | None:
        while self._open:
            entry = self._open[0]
            item: ReviewItem = entry[-1]
            if item.arrived > now:
                return None if not self.by_priority else self._pop_arrived(now)
            heapq.heappop(self._open)
            if entry[-2] != item.priority:  # superseded by a re-push at a new priority
                continue
            if item.kind == "review" and self.open_subjects.get(item.subject) is not item:
                continue
            return item
        return None

    def _pop_arrived(self, now: float) -> ReviewItem | None:
        # The best item has not arrived yet; take the best one that has (rare: items arrive in order).
        waiting = []
        found = None
        while self._open:
            entry = heapq.heappop(self._open)
            item = entry[-1]
            if entry[-2] != item.priority or (item.kind == "review" and self.open_subjects.get(item.subject) is not item):
                continue
            if item.arrived <= now:
                found = item
                break
            waiting.append(entry)
        for e in waiting:
            heapq.heappush(self._open, e)
        return found

    def pending(self) -> int:
        return len(self.open_subjects) + sum(1 for *_, it in self._open if it.kind != "review")

    def next_time(self) -> float:
        return self._running[0][0] if self._running else math.inf

    def advance(self, until: float) -> list[Decision]:
        """Complete every decision due by `until`; free reviewers take the next items."""
        done: list[Decision] = []
        while True:
            self._start_work(until)
            if not self._running or self._running[0][0] > until:
                break
            finish, _, started, item = heapq.heappop(self._running)
            heapq.heappush(self._free, finish)
            if item.kind == "review" and self.open_subjects.get(item.subject) is item:
                del self.open_subjects[item.subject]
            self.decided += 1
            self.decision_times.append(finish)
            done.append(Decision(item, started, finish, self.rng.random() < self.accuracy))
            self.backlog.append((finish, len(self.open_subjects)))
        return done

    def _start_work(self, until: float) -> None:
        while self._free and self._open:
            free_at = self._free[0]
            earliest = min((e[-1].arrived for e in self._open), default=math.inf) if not self.by_priority else \
                self._earliest_arrival()
            start = max(free_at, earliest)
            if start > until:
                return
            item = self._pop(start)
            if item is None:
                return
            heapq.heappop(self._free)
            self._seq += 1
            heapq.heappush(self._running, (start + self.seconds, self._seq, start, item))

    def _earliest_arrival(self) -> float:
        best = math.inf
        for e in self._open:
            it = e[-1]
            if e[-2] == it.priority and (it.kind != "review" or self.open_subjects.get(it.subject) is it):
                best = min(best, it.arrived)
        return best
