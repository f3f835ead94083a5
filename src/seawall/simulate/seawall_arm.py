"""Arm (a): the simulation replayed through Seawall on a simulated clock.

One in-process `Pipeline` (the deployment's signals and default rules) on a temporary SQLite
store. The clock is the events' own time. The pipeline worker takes every event that has arrived
by the time it is free (a batch), and its real, measured processing time advances the clock: an
auto-action takes effect at the batch's start plus that time, so its time to action is the wait in
the inbox plus the processing. Queued items go to a modelled review team (`ReviewTeam`) in priority
order. Every removal and suspension is sent back in as the `enforcement` event a platform would
send, at the time it took effect: removals feed the own-removals hash bank (later re-uploads are
matched at upload), suspensions reach the stored account state that the account linker reads.

Events before the simulation's start (the accounts and follows that already exist) are ingested
as a backfill at the start: Seawall is deployed at that moment.
"""

from __future__ import annotations

import heapq
import math
import random
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import orjson

from seawall.config import Settings
from seawall.events import parse_event
from seawall.normalize.item import Item
from seawall.simulate.metrics import ArmExtras, arm_figures
from seawall.simulate.output import SHARED_BANK, SimDir
from seawall.simulate.review import Decision, ReviewItem, ReviewTeam
from seawall.simulate.timeline import Timeline
from seawall.simulate.world import Truth, World

CASE_VERDICTS = ("queue", "remove", "suspend", "escalate")
SECOND_QUEUE = "second-review"
SHARED_BANK_NAME = "shared-known-content"
HORIZON_DAYS = 30  # reviewers keep working after the last event until their queues are empty


@dataclass(slots=True)
class TeamConfig:
    reviewers: int = 4
    decisions_per_hour: float = 60.0
    accuracy: float = 0.95


def event_time(ev: dict[str, Any]) -> float:
    raw = ev.get("updated_at") or ev.get("created_at") or ev.get("at")
    return datetime.fromisoformat(str(raw).replace("Z", "+00:00")).timestamp()


def load_events(sim: SimDir) -> list[tuple[float, int, dict[str, Any]]]:
    out = []
    with sim.events_path.open("rb") as fh:
        for i, line in enumerate(fh):
            if line.strip():
                ev = orjson.loads(line)
                out.append((event_time(ev), i, ev))
    return out


class SeawallArm:
    def __init__(self, sim: SimDir, truth: Truth, settings: Settings, team: TeamConfig, seed: int = 0,
                 batch_size: int = 500, progress: Callable[[str], None] | None = None, shared_bank: bool = True):
        from seawall.pipeline.pipeline import Pipeline
        from seawall.storage.sql import open_store

        self.sim, self.truth, self.settings = sim, truth, settings
        self.store = open_store(settings.database_url)
        self.shared_entries = self._import_shared_bank() if shared_bank else 0
        self.pipeline = Pipeline.from_settings(settings, self.store)
        self._captured: list[Any] = []
        self.pipeline.listeners.append(self._captured.extend)
        self.team = ReviewTeam(team.reviewers, team.decisions_per_hour, team.accuracy, random.Random(seed))
        self.team_config = team
        self.batch_size = batch_size
        self.progress = progress
        self.world = World()
        self.extras = ArmExtras(reviewers=team.reviewers, decisions_per_hour=team.decisions_per_hour)
        review = getattr(settings, "review", None)
        self.two_person = review is not None and "suspend" in getattr(review, "two_person", [])
        self._review_settings = review
        self._heap: list[tuple[float, int, str, dict[str, Any]]] = []
        self._seq = 0
        self.events_processed = 0
        self.batches = 0
        self.wall = 0.0

    # -- plumbing ----------------------------------------------------------------------------------
    def _import_shared_bank(self) -> int:
        """The simulation's shared hash list (releases known before the window) as a bank, the way
        a platform imports an industry list (`seawall bank import`). Returns the entries added."""
        from seawall.banks.io import import_entries
        from seawall.banks.store import BankStore

        path = self.sim.path / SHARED_BANK
        if not path.is_file():
            return 0
        banks = BankStore(self.store.engine)
        banks.create_bank(SHARED_BANK_NAME, "terrorist_propaganda", source="industry hash list (simulated)",
                          description="releases known before the simulated window")
        report = import_entries(banks, SHARED_BANK_NAME, path.read_bytes(), "csv")
        if report.errors:
            raise ValueError(f"{path}: {report.errors[0].as_dict()}")
        return report.added

    def _sla(self, queue: str) -> float:
        if queue not in self.extras.sla_seconds:
            minutes = self._review_settings.queue(queue).sla_minutes if self._review_settings is not None else 240
            self.extras.sla_seconds[queue] = minutes * 60.0
        return self.extras.sla_seconds[queue]

    def _inject(self, at: float, ev: dict[str, Any]) -> None:
        """The platform's confirmation of an action Seawall asked for, sent back in at `at`."""
        self._seq += 1
        stamp = datetime.fromtimestamp(at, timezone.utc).isoformat()
        ev = {**ev, "at": stamp, "by": "seawall", "event_id": f"bench-{self._seq}"}
        # Sorted before stream events of the same instant, in the order they were sent.
        heapq.heappush(self._heap, (at, self._seq - 10**12, "seawall", ev))

    def _remove(self, post: str, at: float, by: str, ingest: float | None = None) -> bool:
        if self.world.remove(post, at, by, ingest):
            self._inject(at, {"type": "enforcement", "action": "remove", "post_id": post, "reason": "terrorist-content"})
            return True
        return False

    def _suspend(self, account: str, at: float, by: str, ingest: float | None = None) -> bool:
        if self.world.suspend(account, at, by, ingest):
            self._inject(at, {"type": "enforcement", "action": "suspend", "account_id": account, "reason": "terrorism"})
            self._released(account, at)
            return True
        return False

    def _released(self, account: str, at: float) -> None:
        """A suspended supporter's next account starts its life (see timeline.py)."""
        for t, i, ev in self.timeline.suspended(account, at):
            heapq.heappush(self._heap, (t, i, "stream", ev))

    def _author(self, post: str) -> str | None:
        info = self.world.posted.get(post)
        if info is not None:
            return info[0]
        rec = self.truth.posts.get(post)
        return rec["account_id"] if rec else None

    # -- decisions of the pipeline -------------------------------------------------------------------
    def _run_batch(self, batch: list[tuple[float, str, dict[str, Any]]], begin: float) -> float:
        items, meta = [], {}
        for t, src, ev in batch:
            event = parse_event(ev)
            item = Item(event=event, key=event.key(), received_at=time.time())
            items.append(item)
            meta[id(item)] = (t, src)
        self._captured.clear()
        w0 = time.perf_counter()
        self.pipeline.run(items, source="bench")
        took = time.perf_counter() - w0
        self.wall += took
        self.batches += 1
        self.events_processed += len(items)
        done = begin + took
        for pe in list(self._captured):
            t_ev, src = meta.get(id(pe.item), (begin, "stream"))
            if src == "stream":
                self._act(pe, t_ev, done)
        return done

    def _act(self, pe: Any, t_ev: float, done: float) -> None:
        ev, d = pe.item.event, pe.decision
        if ev.type == "enforcement" or d.verdict not in CASE_VERDICTS:
            return
        subject = ev.subject
        self.world.first_flag.setdefault(subject, done)
        if ev.type == "post":
            self.world.first_flag.setdefault(("account", ev.account_id), done)
        acted = False
        if "remove" in d.actions and subject[0] == "post":
            if self._remove(subject[1], done, "auto", t_ev):
                acted = True
                if ev.type == "post":
                    self.world.blocked_at_upload.add(ev.id)
        if "suspend" in d.actions:
            account = ev.account_id if ev.type == "post" else subject[1] if subject[0] == "account" else None
            if account and self._suspend(account, done, "auto", t_ev):
                acted = True
        if acted:
            self.extras.auto_latencies.append(done - t_ev)
        queue = d.queue or "default"
        self._sla(queue)
        self.team.add(ReviewItem(subject, queue, d.priority, done, auto=tuple(d.actions)))

    # -- decisions of the review team ----------------------------------------------------------------
    def _decided(self, dec: Decision) -> None:
        item, at = dec.item, dec.at
        self.extras.queue_waits.setdefault(item.queue, []).append(at - item.arrived)
        truly = self.truth.violating(item.subject)
        judged = truly if dec.correct else not truly
        kind, sid = item.subject
        if item.kind == "second":
            if judged:
                self._suspend(sid, at, "review")
            return
        if kind == "post":
            author = self._author(sid)
            if judged:
                self._remove(sid, at, "review")
                if author is not None:
                    self._ask_suspension(author, at)
            elif self.world.is_removed(sid, at):
                self.world.restore_post(sid, at, "review")
        elif kind == "account":
            if judged:
                self._ask_suspension(sid, at)
            elif self.world.is_suspended(sid, at):
                self.world.restore_account(sid, at, "review")
                self._inject(at, {"type": "enforcement", "action": "restore", "account_id": sid, "reason": "review"})

    def _ask_suspension(self, account: str, at: float) -> None:
        if self.world.is_suspended(account, at):
            return
        if self.two_person:  # a second, different person confirms a suspension
            self._sla(SECOND_QUEUE)
            self.team.add(ReviewItem(("account", account), SECOND_QUEUE, 100, at, kind="second"))
        else:
            self._suspend(account, at, "review")

    def _advance_team(self, until: float) -> None:
        for dec in self.team.advance(until):
            self._decided(dec)

    # -- the replay ----------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        start = self.truth.start
        history, stream = [], []
        self.timeline = Timeline(load_events(self.sim), self.truth)
        for t, i, ev in self.timeline.main:
            (history if t < start else stream).append((t, i, ev))
        clock = start
        for k in range(0, len(history), self.batch_size):
            chunk = history[k:k + self.batch_size]
            clock = self._run_batch([(start, "stream", ev) for _, _, ev in chunk], clock)
        for t, i, ev in stream:
            heapq.heappush(self._heap, (t, i, "stream", ev))
        free = clock
        horizon = self.truth.end + HORIZON_DAYS * 86400
        last_report = time.monotonic()
        while True:
            if not self._heap:
                nxt = self.team.next_time()
                if math.isinf(nxt) or nxt > horizon:
                    break
                self._advance_team(nxt)
                continue
            begin = max(free, self._heap[0][0])
            self._advance_team(begin)
            batch = []
            while self._heap and self._heap[0][0] <= begin and len(batch) < self.batch_size:
                t, _, src, ev = heapq.heappop(self._heap)
                if src == "stream" and (t >= self.truth.end or not self._admit(t, ev)):
                    continue  # outside the measured window, or refused by the platform
                batch.append((t, src, ev))
            if batch:
                free = self._run_batch(batch, begin)
            if self.progress is not None and time.monotonic() - last_report > 10:
                last_report = time.monotonic()
                self.progress(f"seawall: {self.events_processed} events, simulated {datetime.fromtimestamp(begin, timezone.utc).isoformat()}")
        return self._figures()

    def _admit(self, t: float, ev: dict[str, Any]) -> bool:
        """Apply the platform's rules to a stream event: refused events never reach Seawall."""
        if ev["type"] == "post":
            self.world.first_post.setdefault(ev["account_id"], t)
        why = self.world.allows(ev, t)
        if why is not None:
            if ev["type"] == "post":
                self.world.prevented[ev["id"]] = why
            return False
        if ev["type"] == "post":
            self.world.posted[ev["id"]] = (ev["account_id"], t, ev.get("repost_of"))
        elif ev["type"] == "enforcement" and ev.get("account_id"):
            if ev["action"] == "suspend" and self.world.suspend(ev["account_id"], t, "platform"):
                self._released(ev["account_id"], t)
            elif ev["action"] == "restore":
                self.world.restore_account(ev["account_id"], t, "platform")
        elif ev["type"] == "enforcement" and ev.get("post_id") and ev["action"] == "remove":
            self.world.remove(ev["post_id"], t, "platform")
        return True

    def _figures(self) -> dict[str, Any]:
        ex = self.extras
        ex.decisions = self.team.decided
        ex.decision_times = self.team.decision_times
        ex.backlog = self.team.backlog
        signals = [s.name for s in self.pipeline.signals]
        ex.extra = {
            "signals": signals,
            "account_linker": any(s in ("account_link", "account_linker") for s in signals),
            "events_replayed": self.events_processed,
            "events_refused_by_platform": len(self.world.prevented),
            "pipeline_batches": self.batches,
            "pipeline_wall_s": round(self.wall, 2),
            "shared_bank_entries": self.shared_entries,
            "review_model": {"reviewers": self.team_config.reviewers,
                             "decisions_per_hour": self.team_config.decisions_per_hour,
                             "accuracy": self.team_config.accuracy, "two_person_suspensions": self.two_person},
        }
        figures = arm_figures(self.truth, self.world, ex)
        figures["_backlog"] = ex.backlog
        figures["_actions"] = [(a.at, a.kind, a.by) for a in self.world.actions]
        return figures

    def close(self) -> None:
        self.store.close()


def bench_settings(home: Path, config: Path | None, disable: tuple[str, ...]) -> Settings:
    """Settings for the benchmark's private deployment: the packaged defaults (or `config`), a
    fresh SQLite database in `home`, and the named signals turned off."""
    from seawall.config import load_settings

    home.mkdir(parents=True, exist_ok=True)
    if config is not None:
        (home / "config.toml").write_bytes(Path(config).read_bytes())
    url = f"sqlite:///{home / 'bench.db'}"
    settings = load_settings(home=home, database=url)
    signals = dict(settings.signals)
    from seawall.signals.registry import available_signals

    for name, cls in available_signals().items():
        # Signals that keep state in a database (banks, suspended accounts) use the bench's own.
        if "database" in cls.Settings.model_fields and not signals.get(name, {}).get("database"):
            signals[name] = {**signals.get(name, {}), "database": url}
    unknown = sorted(set(disable) - set(available_signals()))
    if unknown:
        raise ValueError(f"--disable-signal {unknown[0]}: no such signal (available: {', '.join(sorted(available_signals()))})")
    for name in disable:
        signals[name] = {**signals.get(name, {}), "enabled": False}
    settings.signals = signals
    if disable:
        settings.rules = _rules_without(settings.rules_path, set(disable), home / "rules.toml")
    return settings


def _names_signal(node: Any, names: set[str]) -> bool:
    if isinstance(node, dict):
        return node.get("signal") in names or any(_names_signal(v, names) for v in node.values())
    if isinstance(node, list):
        return any(_names_signal(v, names) for v in node)
    return False


def _rules_without(path: Path, names: set[str], out: Path) -> Path:
    """The rules file with every rule that needs one of the disabled signals left out (a rule
    naming a signal that is off would not load)."""
    import tomllib

    data = tomllib.loads(path.read_text(encoding="utf-8"))
    lines = [f"{k} = {_toml(v)}" for k, v in data.items() if k != "rules"]
    for rule in data.get("rules", []):
        if not _names_signal(rule.get("when", {}), names):
            lines += ["", "[[rules]]"] + [f"{_toml(k)} = {_toml(v)}" for k, v in rule.items()]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def _toml(v: Any) -> str:
    """A TOML value (inline form). JSON string escapes are valid in TOML basic strings."""
    import json

    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_toml(k)} = {_toml(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")
