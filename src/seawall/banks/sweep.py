"""Retroactive sweep: match stored history against entries newly added to a bank.

A sweep covers one bank's entries with ids in (entry_from, entry_to] (by default those added since
the bank's last finished sweep) and the stored posts and accounts up to the newest event at its
start (optionally only those that occurred since a date). It reads the events in chunks of
`chunk` by primary key, rebuilds each one as an Item (normalised again, so URLs and texts match
as at ingest), runs the hashbank signal over a matcher holding only those entries (plus the
negative banks, which still suppress known false positives) and decides the new hits with the
deployment's rules. For every event that matched, in one transaction per chunk:

* the hits are stored in `signal_hits` (evidence carries `sweep`: the sweep's id);
* a decision that warrants a case is merged into the subject's open case, or opens one, with the
  store's own case and action logic (`SqlStore.add_findings`), so a past post matched
  by a removal rule gets the same case, queue, priority and idempotent `remove` action as a live
  one would;
* the sweep's cursor (the last event pk done) and counters move forward.

So a sweep that stops (crash, Ctrl-C) resumes after the last committed chunk, and no chunk is
applied twice. An (event, entry) pair already recorded in a hashbank hit (matched at ingest, or by
an earlier sweep) is not counted again, so re-sweeping a whole bank (`full`) is harmless.
The verdict row of an old event is left as it was decided: the sweep adds hits, cases and actions.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

import orjson
from sqlalchemy import func, select, update

from seawall.banks.matcher import BankMatcher
from seawall.banks.model import Bank, BankError, Entry
from seawall.banks.schema import bank_entries, bank_sweeps
from seawall.banks.store import BankStore
from seawall.events.model import EventError, parse_event
from seawall.normalize import Item, Normalizer
from seawall.signals.base import SignalHit
from seawall.signals.hashbank import HashBankSettings, HashBankSignal
from seawall.storage.schema import events, signal_hits

Progress = Callable[[dict[str, Any]], None]
SWEPT_TYPES = ("post", "account")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _utc(v: datetime | None) -> datetime | None:
    if v is None:
        return None
    return v if v.tzinfo else v.replace(tzinfo=timezone.utc)


@dataclass(slots=True)
class SweepState:
    id: int
    bank: str
    status: str
    entry_from: int
    entry_to: int
    event_to: int
    since: datetime | None
    cursor: int
    scanned: int = 0
    matched: int = 0
    cases_opened: int = 0
    cases_merged: int = 0
    actions_created: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    total: int = 0  # posts and accounts this sweep covers (counted at start / resume)
    # what this run (not the whole sweep) did
    run: dict[str, int] = field(default_factory=lambda: {"scanned": 0, "matched": 0, "cases_opened": 0,
                                                          "cases_merged": 0, "actions_created": 0})

    def as_dict(self) -> dict[str, Any]:
        return {
            "sweep": self.id, "bank": self.bank, "status": self.status,
            "entries": {"after_id": self.entry_from, "up_to_id": self.entry_to},
            "events": {"up_to_pk": self.event_to, "since": self.since.isoformat() if self.since else None,
                       "cursor": self.cursor, "total": self.total},
            "scanned": self.scanned, "matched": self.matched, "cases_opened": self.cases_opened,
            "cases_merged": self.cases_merged, "actions_created": self.actions_created,
            "this_run": dict(self.run),
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }


class Sweeper:
    """Sweeps of one deployment's stored history. `store` is an open SqlStore; `settings` the
    deployment's (rules file, hashbank media settings, languages)."""

    def __init__(self, store: Any, settings: Any, *, chunk: int = 500, normalizer: Normalizer | None = None):
        from seawall.policy import PolicyEngine, load_rules

        self.store = store
        self.banks = BankStore(store.engine)
        self.chunk = max(1, int(chunk))
        self._rules_path = settings.rules_path
        self.engine = PolicyEngine(load_rules(settings.rules_path))
        base = HashBankSettings.model_validate(settings.signals.get("hashbank", {}))
        # no feedback (nothing is being removed now) and no flood quarantine (history is not a flood)
        self.signal_settings = base.model_copy(update={"feedback_bank": "", "flood_limit": 0,
                                                       "refresh_seconds": 1e12})
        self._normalizer = normalizer
        self._languages = settings.pipeline.languages

    @property
    def normalizer(self) -> Normalizer:
        if self._normalizer is None:
            self._normalizer = Normalizer(languages=self._languages)
        return self._normalizer

    # -- sweep records --------------------------------------------------------------------------
    def _state(self, row: Any, bank: str) -> SweepState:
        return SweepState(
            id=row.id, bank=bank, status=row.status, entry_from=row.entry_from, entry_to=row.entry_to,
            event_to=row.event_to, since=_utc(row.since), cursor=row.cursor, scanned=row.scanned,
            matched=row.matched, cases_opened=row.cases_opened, cases_merged=row.cases_merged,
            actions_created=row.actions_created, started_at=_utc(row.started_at), finished_at=_utc(row.finished_at),
        )

    def sweeps(self, bank_name: str) -> list[SweepState]:
        bank = self.banks.bank(bank_name)
        with self.store.engine.connect() as conn:
            rows = conn.execute(select(bank_sweeps).where(bank_sweeps.c.bank_id == bank.id)
                                .order_by(bank_sweeps.c.id)).all()
        return [self._state(r, bank.name) for r in rows]

    def _start(self, bank: Bank, since: datetime | None, full: bool) -> SweepState | None:
        with self.store.engine.begin() as conn:
            done_to = conn.execute(
                select(func.max(bank_sweeps.c.entry_to))
                .where(bank_sweeps.c.bank_id == bank.id, bank_sweeps.c.status == "done")
            ).scalar()
            entry_from = 0 if full else int(done_to or 0)
            entry_to = int(conn.execute(
                select(func.max(bank_entries.c.id)).where(bank_entries.c.bank_id == bank.id)).scalar() or 0)
            if entry_to <= entry_from:
                return None
            event_to = int(conn.execute(select(func.max(events.c.pk))).scalar() or 0)
            now = _now()
            sweep_id = conn.execute(
                bank_sweeps.insert().values(
                    bank_id=bank.id, status="running", entry_from=entry_from, entry_to=entry_to,
                    event_to=event_to, since=since, cursor=0, started_at=now, updated_at=now,
                ).returning(bank_sweeps.c.id)
            ).scalar_one()
            row = conn.execute(select(bank_sweeps).where(bank_sweeps.c.id == sweep_id)).one()
        return self._state(row, bank.name)

    # -- the sweep ------------------------------------------------------------------------------
    def sweep(self, bank_name: str, *, since: datetime | None = None, resume: bool = False, full: bool = False,
              progress: Progress | None = None, max_chunks: int | None = None) -> dict[str, Any]:
        """Run (or with `resume`, continue) a sweep of `bank_name`; returns the summary.

        Without `resume`, a new sweep covers the entries added since the last finished one (all
        of them with `full`); if an unfinished sweep of the bank exists, it must be resumed first.
        `max_chunks` stops after that many chunks (the sweep stays `running`, as after a crash)."""
        bank = self.banks.bank(bank_name)
        if bank.kind == "negative":
            raise BankError(f"bank {bank.name!r} is a negative bank (known false positives): nothing to sweep for")
        if not bank.enabled:
            raise BankError(f"bank {bank.name!r} is disabled: enable it before sweeping")
        running = [s for s in self.sweeps(bank.name) if s.status == "running"]
        if resume:
            if not running:
                return {"bank": bank.name, "status": "nothing_to_resume", "sweep": None,
                        "this_run": {"scanned": 0, "matched": 0, "cases_opened": 0, "cases_merged": 0,
                                     "actions_created": 0}}
            state = running[-1]
        else:
            if running:
                raise BankError(f"sweep {running[-1].id} of bank {bank.name!r} is unfinished: "
                                "resume it (--resume) before starting another")
            state = self._start(bank, since, full)
            if state is None:
                return {"bank": bank.name, "status": "up_to_date", "sweep": None,
                        "this_run": {"scanned": 0, "matched": 0, "cases_opened": 0, "cases_merged": 0,
                                     "actions_created": 0}}
        self._run(bank, state, progress, max_chunks)
        return state.as_dict()

    def _matcher(self, bank: Bank, state: SweepState) -> BankMatcher:
        matcher = BankMatcher(None)
        matcher.banks = {b.id: b for b in self.banks.list_banks()}

        def wanted() -> Iterable[Entry]:
            for e in self.banks.entries(bank.name, statuses=["active"], after_id=state.entry_from, batch=50_000):
                if e.id > state.entry_to:
                    return
                yield e
            for b in matcher.banks.values():
                if b.kind == "negative" and b.enabled:
                    yield from self.banks.entries(b.name, statuses=["active"], batch=50_000)

        matcher.add(wanted())
        return matcher

    def _where(self, state: SweepState) -> list[Any]:
        cond = [events.c.type.in_(SWEPT_TYPES), events.c.pk <= state.event_to]
        if state.since is not None:
            cond.append(events.c.occurred_at >= state.since)
        return cond

    def _run(self, bank: Bank, state: SweepState, progress: Progress | None, max_chunks: int | None) -> None:
        matcher = self._matcher(bank, state)
        signal = HashBankSignal(self.signal_settings, matcher=matcher)
        with self.store.engine.connect() as conn:
            state.total = state.scanned + int(conn.execute(
                select(func.count()).select_from(events).where(events.c.pk > state.cursor, *self._where(state))
            ).scalar() or 0)
        if progress:
            progress({**state.as_dict(), "event": "start"})
        chunks = 0
        while max_chunks is None or chunks < max_chunks:
            with self.store.engine.connect() as conn:
                rows = conn.execute(
                    select(events.c.pk, events.c.key, events.c.payload)
                    .where(events.c.pk > state.cursor, *self._where(state))
                    .order_by(events.c.pk).limit(self.chunk)
                ).all()
            if not rows:
                break
            self._chunk(signal, state, rows)
            chunks += 1
            if progress:
                progress({**state.as_dict(), "event": "chunk"})
        else:
            return  # stopped on max_chunks: still running
        with self.store.engine.begin() as conn:
            now = _now()
            conn.execute(update(bank_sweeps).where(bank_sweeps.c.id == state.id)
                         .values(status="done", finished_at=now, updated_at=now))
        state.status, state.finished_at = "done", now
        if progress:
            progress({**state.as_dict(), "event": "done"})

    def _chunk(self, signal: HashBankSignal, state: SweepState, rows: list[Any]) -> None:
        from seawall.pipeline.result import ProcessedEvent

        items: list[Item] = []
        pk_of: dict[str, int] = {}
        for r in rows:
            try:
                ev = parse_event(orjson.loads(r.payload))
            except (EventError, orjson.JSONDecodeError):
                continue  # stored by an older schema version: nothing to match
            items.append(Item(event=ev, key=r.key, received_at=time.time()))
            pk_of[r.key] = r.pk
        matched: list[tuple[Item, list[SignalHit]]] = []
        if items:
            self.normalizer.normalize_batch(items)
            for item, hits in zip(items, signal.evaluate(items)):
                if hits:
                    matched.append((item, hits))
        matched = self._drop_known(matched, pk_of)
        processed = []
        for item, hits in matched:
            for h in hits:
                h.evidence["sweep"] = state.id
            processed.append(ProcessedEvent(item, hits, self.engine.decide(item, hits), time.time(),
                                            source=f"sweep:{state.bank}"[:64]))
        pks = {p.item.key: pk_of[p.item.key] for p in processed}
        with self.store.engine.begin() as conn:
            opened = merged = created = 0
            if processed:
                opened, merged, created = self.store.add_findings(conn, processed, pks)
            n = {"scanned": len(rows), "matched": len(processed), "cases_opened": opened,
                 "cases_merged": merged, "actions_created": created}
            conn.execute(
                update(bank_sweeps).where(bank_sweeps.c.id == state.id).values(
                    cursor=rows[-1].pk, updated_at=_now(),
                    **{k: getattr(bank_sweeps.c, k) + v for k, v in n.items()},
                )
            )
        state.cursor = rows[-1].pk
        for k, v in n.items():
            setattr(state, k, getattr(state, k) + v)
            state.run[k] += v

    def _drop_known(self, matched: list[tuple[Item, list[SignalHit]]], pk_of: dict[str, int]
                    ) -> list[tuple[Item, list[SignalHit]]]:
        """Leave out hits whose entries are already recorded for that event (matched at ingest or
        by an earlier sweep)."""
        if not matched:
            return matched
        known: dict[int, set[int]] = {}
        with self.store.engine.connect() as conn:
            q = select(signal_hits.c.event_pk, signal_hits.c.evidence).where(
                signal_hits.c.signal == "hashbank",
                signal_hits.c.event_pk.in_([pk_of[it.key] for it, _ in matched]),
            )
            for pk, evidence in conn.execute(q):
                ids = {m.get("entry_id") for m in orjson.loads(evidence).get("matches", [])}
                known.setdefault(pk, set()).update(i for i in ids if i is not None)
        out = []
        for item, hits in matched:
            seen = known.get(pk_of[item.key], set())
            fresh = [h for h in hits if not {m["entry_id"] for m in h.evidence.get("matches", [])} <= seen]
            if fresh:
                out.append((item, fresh))
        return out
