"""Queues: open cases by the rules' `queue` or by a saved search, in priority order (score =
severity x reach), each with its SLA deadline, claim and waiting proposal or appeal."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import orjson
from sqlalchemy import and_, func, or_, select
from sqlalchemy.engine import Connection

from seawall.review.people import display_names
from seawall.review.schema import appeals, case_decisions, case_review
from seawall.review.settings import ReviewSettings, SavedSearch
from seawall.storage.schema import case_events, cases, events

PREVIEW_CHARS = 160


def _utc(v: datetime | None) -> datetime | None:
    return None if v is None else (v if v.tzinfo else v.replace(tzinfo=timezone.utc))


def _search_filter(s: SavedSearch) -> Any:
    conds = [cases.c.status == "open"]
    if s.labels:
        conds.append(or_(*[cases.c.labels.like(f'%"{lab}"%') for lab in s.labels]))
    if s.rules:
        conds.append(or_(*[cases.c.rules.like(f'%"{r}"%') for r in s.rules]))
    if s.queues:
        conds.append(cases.c.queue.in_(s.queues))
    if s.verdicts:
        conds.append(cases.c.verdict.in_(s.verdicts))
    if s.subject_types:
        conds.append(cases.c.subject_type.in_(s.subject_types))
    if s.min_score:
        conds.append(func.coalesce(case_review.c.score, cases.c.priority) >= s.min_score)
    return and_(*conds)


def _queue_filter(settings: ReviewSettings, name: str) -> Any:
    if name in settings.searches:
        return _search_filter(settings.searches[name])
    if name == "-":
        return and_(cases.c.status == "open", cases.c.queue.is_(None))
    return and_(cases.c.status == "open", cases.c.queue == name)


def _base(where: Any) -> Any:
    return select(cases, case_review.c.score, case_review.c.severity, case_review.c.reach, case_review.c.followers,
                  case_review.c.reposts, case_review.c.repost_velocity, case_review.c.account_age_days,
                  case_review.c.claimed_by, case_review.c.claim_expires_at, case_review.c.pending_decision_id
                  ).outerjoin(case_review, case_review.c.case_id == cases.c.id).where(where)


def list_queues(store: Any, settings: ReviewSettings) -> list[dict[str, Any]]:
    """Every queue with open cases, every configured queue and every saved search: counts,
    overdue counts and the oldest deadline."""
    now = datetime.now(timezone.utc)
    with store.engine.connect() as conn:
        rows = conn.execute(select(cases.c.queue, cases.c.opened_at).where(cases.c.status == "open")).all()
        appeal_times = dict(conn.execute(select(appeals.c.case_id, appeals.c.created_at)
                                         .where(appeals.c.status == "open")).all())
        searches = {}
        for name, s in settings.searches.items():
            q = select(cases.c.id, cases.c.opened_at).outerjoin(case_review, case_review.c.case_id == cases.c.id)
            searches[name] = conn.execute(q.where(_search_filter(s))).all()
    out: dict[str, dict[str, Any]] = {}

    def add(name: str, kind: str, opened: datetime | None, case_id: int | None = None) -> None:
        q = out.setdefault(name, {"name": name, "kind": kind, "open": 0, "overdue": 0, "next_due_at": None,
                                  "sla_minutes": settings.queue(None if name == "-" else name).sla_minutes,
                                  "roles": list(settings.queue_roles(None if name == "-" else name))})
        if opened is None:
            return
        start = _utc(appeal_times.get(case_id)) or _utc(opened)
        due = start + timedelta(minutes=q["sla_minutes"])
        q["open"] += 1
        q["overdue"] += due < now
        if q["next_due_at"] is None or due < q["next_due_at"]:
            q["next_due_at"] = due

    for name in settings.queues:
        add(name, "queue", None)
    for queue, opened in rows:
        add(queue or "-", "queue", opened)
    for name, found in searches.items():
        add(name, "search", None)
        for cid, opened in found:
            add(name, "search", opened, cid)
    for q in out.values():
        q["next_due_at"] = q["next_due_at"].isoformat() if q["next_due_at"] else None
    return sorted(out.values(), key=lambda q: (q["kind"] != "queue", -q["overdue"], -q["open"], q["name"]))


def queue_cases(store: Any, settings: ReviewSettings, name: str, limit: int = 50, offset: int = 0) -> dict[str, Any]:
    q = (_base(_queue_filter(settings, name))
         .order_by(func.coalesce(case_review.c.score, cases.c.priority).desc(), cases.c.opened_at, cases.c.id)
         .limit(limit).offset(offset))
    with store.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(q).mappings()]
        total = conn.execute(select(func.count()).select_from(
            cases.outerjoin(case_review, case_review.c.case_id == cases.c.id)).where(_queue_filter(settings, name))).scalar()
        items = _decorate(conn, settings, rows, name)
    return {"queue": name, "total": int(total or 0), "limit": limit, "offset": offset, "cases": items}


def _decorate(conn: Connection, settings: ReviewSettings, rows: list[dict[str, Any]], queue: str | None) -> list[dict[str, Any]]:
    now = datetime.now(timezone.utc)
    ids = [r["id"] for r in rows]
    previews = _previews(conn, ids)
    appeal_rows = {a.case_id: a for a in conn.execute(select(appeals.c.case_id, appeals.c.id, appeals.c.created_at)
                                                       .where(and_(appeals.c.case_id.in_(ids), appeals.c.status == "open")))} if ids else {}
    pending = {d.id: d for d in conn.execute(select(case_decisions.c.id, case_decisions.c.kind, case_decisions.c.actor,
                                                    case_decisions.c.escalate_to).where(
        case_decisions.c.id.in_([r["pending_decision_id"] for r in rows if r["pending_decision_id"]])))} if ids else {}
    names = display_names(conn, {r["claimed_by"] for r in rows if r["claimed_by"]} | {d.actor for d in pending.values()})
    out = []
    for r in rows:
        sla = settings.queue(queue if queue in settings.searches else r["queue"]).sla_minutes
        appeal = appeal_rows.get(r["id"])
        start = _utc(appeal.created_at) if appeal else _utc(r["opened_at"])
        due = start + timedelta(minutes=sla)
        exp = _utc(r["claim_expires_at"])
        claimed = r["claimed_by"] if r["claimed_by"] and exp and exp > now else None
        p = pending.get(r["pending_decision_id"])
        out.append({
            "id": r["id"],
            "subject": {"type": r["subject_type"], "id": r["subject_id"]},
            "account_id": r["account_id"],
            "status": r["status"],
            "queue": r["queue"],
            "verdict": r["verdict"],
            "labels": orjson.loads(r["labels"]),
            "rules": orjson.loads(r["rules"]),
            "event_count": r["event_count"],
            "rule_priority": r["priority"],
            "score": r["score"] if r["score"] is not None else float(r["priority"]),
            "severity": r["severity"], "reach": r["reach"], "followers": r["followers"], "reposts": r["reposts"],
            "repost_velocity": r["repost_velocity"], "account_age_days": r["account_age_days"],
            "opened_at": _utc(r["opened_at"]).isoformat(),
            "due_at": due.isoformat(),
            "overdue": due < now,
            "seconds_left": int((due - now).total_seconds()),
            "claimed_by": claimed, "claimed_by_name": names.get(claimed) if claimed else None,
            "claim_expires_at": exp.isoformat() if claimed else None,
            "pending": {"decision_id": p.id, "kind": p.kind, "escalate_to": p.escalate_to,
                        "proposed_by": p.actor, "proposed_by_name": names.get(p.actor)} if p else None,
            "appeal_id": appeal.id if appeal else None,
            "preview": previews.get(r["id"], ""),
        })
    return out


def _previews(conn: Connection, case_ids: list[int]) -> dict[int, str]:
    """The first text of each case (a post's text, a report's reason, an account's bio)."""
    if not case_ids:
        return {}
    q = (select(case_events.c.case_id, events.c.type, events.c.payload)
         .join(events, events.c.pk == case_events.c.event_pk)
         .where(case_events.c.case_id.in_(case_ids)).order_by(case_events.c.case_id, events.c.pk))
    out: dict[int, str] = {}
    for cid, etype, payload in conn.execute(q):
        if cid in out:
            continue
        p = orjson.loads(payload)
        text = p.get("text") or p.get("bio") or p.get("reason") or p.get("handle") or ""
        if p.get("media") and not text:
            text = f"[{len(p['media'])} media]"
        out[cid] = text[:PREVIEW_CHARS]
    return out
