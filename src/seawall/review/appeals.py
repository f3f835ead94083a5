"""Appeals: a user contests a decision; the case reopens in the `appeals` queue for a different
reviewer; the outcome is recorded; an overturn creates `restore` actions that reverse the original
actions through the platform adapter (key `restore:<original key>`, as the actions outbox uses)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Any

import orjson
from sqlalchemy import and_, select, update

from seawall.audit import record
from seawall.review.people import actor_of, pseudonyms
from seawall.review.schema import appeals, case_decisions, case_review
from seawall.review.workflow import (
    MAX_NOTES,
    ReviewError,
    _case,
    _clear_claim,
    _holds_claim,
    _review_row,
    appeal_avoids,
    create_action,
    open_appeal,
)
from seawall.storage.schema import actions, cases

APPEALS_QUEUE = "appeals"
OUTCOMES = ("upheld", "overturned")
REVERSIBLE = ("remove", "suspend")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _find_case(conn: Any, body: dict[str, Any]) -> dict[str, Any]:
    if body.get("case_id") is not None:
        if not isinstance(body["case_id"], int):
            raise ReviewError(422, "must be an integer", "case_id")
        return _case(conn, body["case_id"])
    st, sid = body.get("subject_type"), body.get("subject_id")
    if st not in ("post", "account") or not isinstance(sid, str) or not sid:
        raise ReviewError(422, "give case_id, or subject_type (post or account) and subject_id", "subject_id")
    # The latest case on the subject that something was done about (or already under appeal).
    under_appeal = select(appeals.c.case_id).where(appeals.c.status == "open")
    row = conn.execute(select(cases).where(and_(cases.c.subject_type == st, cases.c.subject_id == sid,
                                                cases.c.status.in_(["actioned", "closed"]) | cases.c.id.in_(under_appeal)))
                       .order_by(cases.c.id.desc())).mappings().first()
    if row is None:
        raise ReviewError(404, f"no decided case on {st} {sid!r}", "subject_id")
    return dict(row)


def create_appeal(store: Any, caller: Any, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Record an appeal (idempotent by the platform's `id`) and reopen its case for review by
    someone other than the decider. Returns (appeal, created)."""
    text = body.get("text") or ""
    if not isinstance(text, str) or not text.strip():
        raise ReviewError(422, "the appellant's statement is required", "text")
    if len(text) > MAX_NOTES:
        raise ReviewError(422, f"at most {MAX_NOTES} characters", "text")
    appellant = body.get("appellant")
    if appellant is not None and (not isinstance(appellant, str) or len(appellant) > 256):
        raise ReviewError(422, "a string of at most 256 characters", "appellant")
    ext = body.get("id")
    if ext is not None and (not isinstance(ext, (str, int)) or not str(ext) or len(str(ext)) > 256):
        raise ReviewError(422, "a string of at most 256 characters", "id")
    actor = actor_of(caller)
    now = _now()
    with store.engine.begin() as conn:
        case = _find_case(conn, body)
        key = f"appeal:{actor}:{ext}" if ext is not None else "appeal:h:" + hashlib.sha256(
            orjson.dumps([case["id"], text, appellant])).hexdigest()[:32]
        existing = conn.execute(select(appeals).where(appeals.c.key == key)).mappings().first()
        if existing is not None:
            return _appeal_dict(dict(existing)), False
        decision = conn.execute(select(case_decisions).where(and_(
            case_decisions.c.case_id == case["id"], case_decisions.c.status == "applied",
            case_decisions.c.appeal_id.is_(None))).order_by(case_decisions.c.id.desc())).mappings().first()
        acted = conn.execute(select(actions.c.id).where(and_(actions.c.case_id == case["id"],
                                                             actions.c.kind.in_(REVERSIBLE)))).first()
        if decision is None and acted is None:
            raise ReviewError(409, f"case {case['id']} has no decision or action to appeal", "case_id")
        if case["status"] == "open":
            raise ReviewError(409, f"case {case['id']} is still open: there is no decision to appeal yet", "case_id")
        if open_appeal(conn, case["id"]) is not None:
            raise ReviewError(409, f"case {case['id']} already has an open appeal", "case_id")
        other_open = conn.execute(select(cases.c.id).where(and_(
            cases.c.subject_type == case["subject_type"], cases.c.subject_id == case["subject_id"],
            cases.c.status == "open"))).first()
        if other_open is not None:
            raise ReviewError(409, f"{case['subject_type']} {case['subject_id']!r} has an open case "
                                   f"({other_open.id}); decide it before the appeal is heard", "case_id")
        appeal_id = conn.execute(appeals.insert().values(
            key=key, case_id=case["id"], decision_id=decision["id"] if decision else None,
            subject_type=case["subject_type"], subject_id=case["subject_id"], text=text, appellant=appellant,
            status="open", avoid_actor=decision["actor"] if decision else None, created_at=now,
        ).returning(appeals.c.id)).scalar_one()
        conn.execute(update(cases).where(cases.c.id == case["id"]).values(status="open", queue=APPEALS_QUEUE, updated_at=now))
        _review_row(store, conn, case["id"])
        _clear_claim(conn, case["id"])
        record(conn, actor=actor, action="appeal.create", target=f"case:{case['id']}",
               details={"appeal_id": appeal_id, "decision_id": decision["id"] if decision else None})
        row = conn.execute(select(appeals).where(appeals.c.id == appeal_id)).mappings().first()
    return _appeal_dict(dict(row)), True


def resolve_appeal(store: Any, caller: Any, appeal_id: int, outcome: str, notes: str = "") -> dict[str, Any]:
    """Uphold (the case is actioned again) or overturn (restore actions reverse what was done)."""
    if outcome not in OUTCOMES:
        raise ReviewError(422, f"must be one of {', '.join(OUTCOMES)}; got {outcome!r}", "outcome")
    if len(notes or "") > MAX_NOTES:
        raise ReviewError(422, f"at most {MAX_NOTES} characters", "notes")
    actor = actor_of(caller)
    now = _now()
    with store.engine.begin() as conn:
        appeal = conn.execute(select(appeals).where(appeals.c.id == appeal_id)).mappings().first()
        if appeal is None:
            raise ReviewError(404, f"no appeal with id {appeal_id}", "appeal_id")
        appeal = dict(appeal)
        if appeal["status"] != "open":
            raise ReviewError(409, f"appeal {appeal_id} is already {appeal['status']}")
        if actor in appeal_avoids(conn, appeal):
            raise ReviewError(409, "an appeal is decided by a different reviewer than the one who decided the case")
        case = _case(conn, appeal["case_id"])
        review = _review_row(store, conn, case["id"])
        if not _holds_claim(review, actor):
            raise ReviewError(409, f"claim case {case['id']} before resolving its appeal")
        restore_ids: list[int] = []
        if outcome == "overturned":
            rule = "review:" + pseudonyms(conn, {actor})[actor]
            originals = conn.execute(select(actions).where(and_(
                actions.c.case_id == case["id"], actions.c.kind.in_(REVERSIBLE))).order_by(actions.c.id)).mappings().all()
            for orig in originals:
                restore_ids.append(create_action(store, conn, "restore:" + orig["idempotency_key"], "restore",
                                                 (orig["subject_type"], orig["subject_id"]), case["id"],
                                                 orig["event_pk"], rule))
                if orig["kind"] == "suspend":
                    store._set_account_status(conn, orig["subject_id"], "restore", now)
        decision_id = conn.execute(case_decisions.insert().values(
            case_id=case["id"], kind="uphold" if outcome == "upheld" else "overturn", status="applied", actor=actor,
            notes=notes or "", action_ids=orjson.dumps(restore_ids).decode(), appeal_id=appeal_id,
            created_at=now, decided_at=now,
        ).returning(case_decisions.c.id)).scalar_one()
        conn.execute(update(appeals).where(appeals.c.id == appeal_id).values(
            status=outcome, resolved_by=actor, resolution_notes=notes or None, resolved_at=now,
            restore_action_id=restore_ids[0] if restore_ids else None))
        conn.execute(update(cases).where(cases.c.id == case["id"]).values(
            status="actioned" if outcome == "upheld" else "closed", updated_at=now))
        _clear_claim(conn, case["id"])
        conn.execute(update(case_review).where(case_review.c.case_id == case["id"]).values(avoid_actor=None))
        record(conn, actor=actor, action="appeal.resolve", target=f"case:{case['id']}",
               details={"appeal_id": appeal_id, "outcome": outcome, "restore_action_ids": restore_ids})
    return {"appeal_id": appeal_id, "status": outcome, "decision_id": decision_id, "restore_action_ids": restore_ids}


def list_appeals(store: Any, status: str | None = "open", limit: int = 100) -> list[dict[str, Any]]:
    q = select(appeals).order_by(appeals.c.id.desc()).limit(limit)
    if status:
        q = q.where(appeals.c.status == status)
    with store.engine.connect() as conn:
        return [_appeal_dict(dict(r)) for r in conn.execute(q).mappings()]


def _appeal_dict(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in row.items() if k not in ("avoid_actor", "key")}
    for k in ("created_at", "resolved_at"):
        v = out.get(k)
        if isinstance(v, datetime):
            out[k] = (v if v.tzinfo else v.replace(tzinfo=timezone.utc)).isoformat()
    return out
