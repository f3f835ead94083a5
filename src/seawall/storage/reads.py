"""The SQL store's read side: cases, actions, accounts, statistics and history for backtests."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any, Iterator

import orjson
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from seawall.storage.base import HistoryRecord
from seawall.storage.rows import _case_dict, _chunks, _percentiles, _plain, _utc
from seawall.storage.schema import (
    accounts,
    actions,
    case_events,
    cases,
    dead_letters,
    events,
    inbox,
    signal_hits,
    verdicts,
)


class SqlReads:
    engine: Engine

    def list_cases(
        self, status: str | None = "open", queue: str | None = None, limit: int = 50, offset: int = 0
    ) -> list[dict[str, Any]]:
        q = select(cases).order_by(cases.c.priority.desc(), cases.c.opened_at, cases.c.id).limit(limit).offset(offset)
        if status:
            q = q.where(cases.c.status == status)
        if queue:
            q = q.where(cases.c.queue == queue)
        with self.engine.connect() as conn:
            rows = conn.execute(q).mappings().all()
        return [_case_dict(r) for r in rows]

    def get_case(self, case_id: int) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(cases).where(cases.c.id == case_id)).mappings().first()
            if row is None:
                return None
            q = (
                select(events.c.pk, events.c.key, events.c.type, events.c.occurred_at, events.c.received_at,
                       events.c.lang, events.c.payload, verdicts.c.verdict, verdicts.c.actions, verdicts.c.rules,
                       verdicts.c.shadow, verdicts.c.labels, verdicts.c.decided_at, verdicts.c.policy_version)
                .join(case_events, case_events.c.event_pk == events.c.pk)
                .join(verdicts, verdicts.c.event_pk == events.c.pk, isouter=True)
                .where(case_events.c.case_id == case_id)
                .order_by(events.c.occurred_at, events.c.pk)
            )
            evs = conn.execute(q).mappings().all()
            hits: dict[int, list[dict[str, Any]]] = {}
            hq = select(signal_hits).where(signal_hits.c.event_pk.in_([e["pk"] for e in evs]))
            for h in conn.execute(hq).mappings():
                hits.setdefault(h["event_pk"], []).append(
                    {"signal": h["signal"], "version": h["version"], "label": h["label"], "score": h["score"],
                     "evidence": orjson.loads(h["evidence"])}
                )
            acts = conn.execute(select(actions).where(actions.c.case_id == case_id).order_by(actions.c.id)).mappings().all()
        case = _case_dict(row)
        case["events"] = [
            {
                "key": e["key"],
                "type": e["type"],
                "occurred_at": _utc(e["occurred_at"]).isoformat(),
                "received_at": _utc(e["received_at"]).isoformat(),
                "lang": e["lang"],
                "event": orjson.loads(e["payload"]),
                "verdict": e["verdict"],
                "actions": orjson.loads(e["actions"]) if e["actions"] else [],
                "labels": orjson.loads(e["labels"]) if e["labels"] else [],
                "rules": orjson.loads(e["rules"]) if e["rules"] else [],
                "shadow": orjson.loads(e["shadow"]) if e["shadow"] else [],
                "policy_version": e["policy_version"],
                "signals": hits.get(e["pk"], []),
            }
            for e in evs
        ]
        case["actions"] = [_plain(a) for a in acts]
        return case

    def list_actions(self, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        q = select(actions).order_by(actions.c.id).limit(limit)
        if status:
            q = q.where(actions.c.status == status)
        with self.engine.connect() as conn:
            rows = conn.execute(q).mappings().all()
        return [_plain(r) for r in rows]

    def get_account(self, account_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(accounts).where(accounts.c.id == account_id)).mappings().first()
        if row is None:
            return None
        return _plain(row)

    def stats(self) -> dict[str, Any]:
        with self.engine.connect() as conn:
            by_type = dict(conn.execute(select(events.c.type, func.count()).group_by(events.c.type)).all())
            by_verdict = dict(conn.execute(select(verdicts.c.verdict, func.count()).group_by(verdicts.c.verdict)).all())
            case_rows = conn.execute(
                select(cases.c.status, cases.c.queue, func.count()).group_by(cases.c.status, cases.c.queue)
            ).all()
            action_rows = dict(conn.execute(select(actions.c.status, func.count()).group_by(actions.c.status)).all())
            dead = dict(
                conn.execute(
                    select(dead_letters.c.kind, func.count())
                    .where(dead_letters.c.status == "open")
                    .group_by(dead_letters.c.kind)
                ).all()
            )
            hits = dict(
                conn.execute(
                    select(signal_hits.c.signal, func.count()).group_by(signal_hits.c.signal)
                ).all()
            )
            first, last = conn.execute(select(func.min(events.c.processed_at), func.max(events.c.processed_at))).one()
            latencies = sorted(
                conn.execute(select(verdicts.c.latency_ms).order_by(verdicts.c.event_pk.desc()).limit(10_000)).scalars()
            )
            pending = int(conn.execute(select(func.count()).select_from(inbox)).scalar() or 0)
            suspended = int(
                conn.execute(select(func.count()).select_from(accounts).where(accounts.c.status == "suspended")).scalar()
                or 0
            )
        open_by_queue: dict[str, int] = {}
        case_status: Counter[str] = Counter()
        for status, queue, n in case_rows:
            case_status[status] += n
            if status == "open":
                open_by_queue[queue or "-"] = n
        return {
            "events": {"total": sum(by_type.values()), "by_type": by_type},
            "verdicts": by_verdict,
            "signal_hits": hits,
            "cases": {"by_status": dict(case_status), "open_by_queue": open_by_queue},
            "actions": action_rows,
            "accounts_suspended": suspended,
            "inbox_pending": pending,
            "dead_letters_open": {"total": sum(dead.values()), "by_kind": dead},
            "latency_ms": _percentiles(latencies),
            "first_processed_at": _utc(first).isoformat() if first else None,
            "last_processed_at": _utc(last).isoformat() if last else None,
        }

    def iter_history(self, batch_size: int = 2000, since: datetime | None = None) -> Iterator[HistoryRecord]:
        last_pk = 0
        while True:
            q = (
                select(events.c.pk, events.c.key, events.c.type, events.c.payload, events.c.lang,
                       verdicts.c.verdict, verdicts.c.actions, verdicts.c.rules)
                .join(verdicts, verdicts.c.event_pk == events.c.pk)
                .where(events.c.pk > last_pk)
                .order_by(events.c.pk)
                .limit(batch_size)
            )
            if since is not None:
                q = q.where(events.c.occurred_at >= since)
            with self.engine.connect() as conn:
                rows = conn.execute(q).all()
                if not rows:
                    return
                pks = [r.pk for r in rows]
                hits: dict[int, list[dict[str, Any]]] = {}
                for chunk in _chunks(pks):
                    hq = select(signal_hits).where(signal_hits.c.event_pk.in_(chunk)).order_by(signal_hits.c.id)
                    for h in conn.execute(hq).mappings():
                        hits.setdefault(h["event_pk"], []).append(
                            {
                                "signal": h["signal"],
                                "version": h["version"],
                                "label": h["label"],
                                "score": h["score"],
                                "evidence": orjson.loads(h["evidence"]),
                            }
                        )
            for r in rows:
                yield HistoryRecord(
                    event_key=r.key,
                    event_type=r.type,
                    payload=orjson.loads(r.payload),
                    lang=r.lang,
                    hits=hits.get(r.pk, []),
                    verdict=r.verdict,
                    actions=orjson.loads(r.actions),
                    rules=[m.get("rule") for m in orjson.loads(r.rules)],
                )
            last_pk = rows[-1].pk
