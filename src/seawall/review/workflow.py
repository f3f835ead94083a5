"""The review workflow: claims, notes, decisions (with the two-person rule) and their actions.

Every change happens in one transaction with its audit entry. A decision that acts creates rows in
`actions` with idempotency keys that agree with the pipeline's (`remove:post:<id>`,
`suspend:account:<id>:<restore count>`), so a reviewer confirming what a rule already did never
acts twice; the actions package delivers them. The platform sees the reviewer only as a pseudonym
(the action's `rule` is `review:<pseudonym>`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson
from sqlalchemy import and_, or_, select, update
from sqlalchemy.engine import Connection

from seawall.audit import record
from seawall.review.people import actor_of, pseudonyms
from seawall.review.schema import appeals, case_decisions, case_notes, case_review
from seawall.review.settings import CONFIRM_ROLES, ReviewSettings
from seawall.storage.schema import accounts, actions, case_events, cases, events

DECISIONS = ("remove", "suspend", "label", "no_violation", "escalate")
ESCALATIONS = ("security", "law_enforcement")
MAX_NOTES = 10_000


class ReviewError(Exception):
    """A refused review step: HTTP status, the field at fault (if any) and why."""

    def __init__(self, status: int, reason: str, field: str | None = None):
        self.status = status
        self.reason = reason
        self.field = field
        super().__init__(reason)


@dataclass(slots=True)
class Decision:
    kind: str
    notes: str = ""
    label: str | None = None
    escalate_to: str | None = None

    def validate(self) -> None:
        if self.kind not in DECISIONS:
            raise ReviewError(422, f"must be one of {', '.join(DECISIONS)}; got {self.kind!r}", "kind")
        if len(self.notes) > MAX_NOTES:
            raise ReviewError(422, f"at most {MAX_NOTES} characters", "notes")
        if self.kind == "label" and not (self.label and 0 < len(self.label) <= 128):
            raise ReviewError(422, "a label decision needs a label (1-128 characters)", "label")
        if self.kind == "escalate" and self.escalate_to not in ESCALATIONS:
            raise ReviewError(422, f"an escalation goes to one of {', '.join(ESCALATIONS)}", "escalate_to")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _utc(v: datetime | None) -> datetime | None:
    return None if v is None else (v if v.tzinfo else v.replace(tzinfo=timezone.utc))


def needs_second_person(settings: ReviewSettings, d: Decision) -> bool:
    if d.kind == "suspend":
        return "suspend" in settings.two_person
    if d.kind == "escalate" and d.escalate_to == "law_enforcement":
        return "escalate_law_enforcement" in settings.two_person
    return False


# -- reading the state a step depends on -----------------------------------------------------
def _case(conn: Connection, case_id: int) -> dict[str, Any]:
    row = conn.execute(select(cases).where(cases.c.id == case_id)).mappings().first()
    if row is None:
        raise ReviewError(404, f"no case with id {case_id}", "case_id")
    return dict(row)


def _review_row(store: Any, conn: Connection, case_id: int) -> dict[str, Any]:
    """The case's review state, created (unscored) for cases opened before review existed."""
    row = conn.execute(select(case_review).where(case_review.c.case_id == case_id)).mappings().first()
    if row is None:
        conn.execute(store._insert(case_review).values(case_id=case_id, updated_at=_now())
                     .on_conflict_do_nothing(index_elements=["case_id"]))
        row = conn.execute(select(case_review).where(case_review.c.case_id == case_id)).mappings().first()
    return dict(row)


def open_appeal(conn: Connection, case_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(appeals).where(and_(appeals.c.case_id == case_id, appeals.c.status == "open"))
                       .order_by(appeals.c.id.desc())).mappings().first()
    return dict(row) if row else None


def appeal_avoids(conn: Connection, appeal: dict[str, Any]) -> set[str]:
    """Who may not review an appeal: whoever made (or confirmed) the decision appealed."""
    avoid = {appeal["avoid_actor"]} - {None}
    if appeal["decision_id"] is not None:
        d = conn.execute(select(case_decisions.c.actor, case_decisions.c.confirmed_by)
                         .where(case_decisions.c.id == appeal["decision_id"])).first()
        if d is not None:
            avoid |= {d.actor, d.confirmed_by} - {None}
    return avoid


def _check_role_for_queue(settings: ReviewSettings, caller: Any, queue: str | None) -> None:
    allowed = settings.queue_roles(queue)
    if caller.role not in allowed:
        raise ReviewError(403, f"role '{caller.role}' may not work the {queue!r} queue (allowed: {', '.join(allowed)})")


def _holds_claim(review: dict[str, Any], actor: str) -> bool:
    exp = _utc(review["claim_expires_at"])
    return review["claimed_by"] == actor and exp is not None and exp > _now()


# -- claims and notes ------------------------------------------------------------------------
def claim(store: Any, settings: ReviewSettings, caller: Any, case_id: int) -> dict[str, Any]:
    """Claim an open case for `claim_minutes` (renewed by claiming again). One reviewer at a time;
    an expired claim can be taken over; an appealed case never goes to the original decider."""
    actor = actor_of(caller)
    now = _now()
    with store.engine.begin() as conn:
        case = _case(conn, case_id)
        if case["status"] != "open":
            raise ReviewError(409, f"case {case_id} is {case['status']}, not open")
        _check_role_for_queue(settings, caller, case["queue"])
        appeal = open_appeal(conn, case_id)
        if appeal is not None and actor in appeal_avoids(conn, appeal):
            raise ReviewError(409, "this case is under appeal against your decision: a different reviewer must review it")
        review = _review_row(store, conn, case_id)
        if review["pending_decision_id"] is not None:
            raise ReviewError(409, "a proposed decision awaits a second reviewer's confirmation")
        expires = now + timedelta(minutes=settings.claim_minutes)
        res = conn.execute(
            update(case_review)
            .where(and_(case_review.c.case_id == case_id, or_(
                case_review.c.claimed_by.is_(None), case_review.c.claimed_by == actor,
                case_review.c.claim_expires_at < now)))
            .values(claimed_by=actor, claimed_at=now, claim_expires_at=expires, updated_at=now)
        )
        if res.rowcount != 1:
            raise ReviewError(409, f"case {case_id} is claimed by another reviewer until "
                                   f"{_utc(review['claim_expires_at']).isoformat()}")
        record(conn, actor=actor, action="case.claim", target=f"case:{case_id}",
               details={"expires_at": expires.isoformat()})
    return {"case_id": case_id, "claimed_by": actor, "claim_expires_at": expires.isoformat()}


def release(store: Any, caller: Any, case_id: int) -> dict[str, Any]:
    actor = actor_of(caller)
    with store.engine.begin() as conn:
        _case(conn, case_id)
        review = _review_row(store, conn, case_id)
        if review["claimed_by"] != actor:
            raise ReviewError(409, f"case {case_id} is not claimed by you")
        _clear_claim(conn, case_id)
        record(conn, actor=actor, action="case.release", target=f"case:{case_id}")
    return {"case_id": case_id, "claimed_by": None}


def _clear_claim(conn: Connection, case_id: int) -> None:
    conn.execute(update(case_review).where(case_review.c.case_id == case_id)
                 .values(claimed_by=None, claimed_at=None, claim_expires_at=None, updated_at=_now()))


def add_note(store: Any, caller: Any, case_id: int, text: str) -> dict[str, Any]:
    text = (text or "").strip()
    if not text:
        raise ReviewError(422, "a note cannot be empty", "text")
    if len(text) > MAX_NOTES:
        raise ReviewError(422, f"at most {MAX_NOTES} characters", "text")
    actor = actor_of(caller)
    now = _now()
    with store.engine.begin() as conn:
        _case(conn, case_id)
        note_id = conn.execute(case_notes.insert().values(case_id=case_id, actor=actor, text=text, created_at=now)
                               .returning(case_notes.c.id)).scalar_one()
        record(conn, actor=actor, action="case.note", target=f"case:{case_id}", details={"note_id": note_id})
    return {"id": note_id, "case_id": case_id, "created_at": now.isoformat()}


# -- decisions -------------------------------------------------------------------------------
def decide(store: Any, settings: ReviewSettings, caller: Any, case_id: int, d: Decision,
           claim_if_free: bool = False) -> dict[str, Any]:
    """Decide a claimed case. Under the two-person rule the decision is only proposed: the case
    waits, unclaimed, for a different senior reviewer to confirm it."""
    d.validate()
    actor = actor_of(caller)
    if claim_if_free:
        claim(store, settings, caller, case_id)
    now = _now()
    with store.engine.begin() as conn:
        case = _case(conn, case_id)
        if case["status"] != "open":
            raise ReviewError(409, f"case {case_id} is {case['status']}, not open")
        _check_role_for_queue(settings, caller, case["queue"])
        if open_appeal(conn, case_id) is not None:
            raise ReviewError(409, "this case is under appeal: resolve the appeal (upheld or overturned)")
        review = _review_row(store, conn, case_id)
        if review["pending_decision_id"] is not None:
            raise ReviewError(409, "a proposed decision awaits a second reviewer's confirmation")
        if not _holds_claim(review, actor):
            raise ReviewError(409, f"claim case {case_id} before deciding it")
        _check_applicable(conn, case, d)
        proposal = needs_second_person(settings, d)
        decision_id = conn.execute(case_decisions.insert().values(
            case_id=case_id, kind=d.kind, status="proposed" if proposal else "applied", actor=actor,
            label=d.label, escalate_to=d.escalate_to, notes=d.notes, action_ids="[]", created_at=now,
            decided_at=None if proposal else now,
        ).returning(case_decisions.c.id)).scalar_one()
        _clear_claim(conn, case_id)
        if proposal:
            conn.execute(update(case_review).where(case_review.c.case_id == case_id)
                         .values(pending_decision_id=decision_id))
            record(conn, actor=actor, action="case.propose", target=f"case:{case_id}",
                   details={"decision_id": decision_id, "kind": d.kind, "escalate_to": d.escalate_to})
            return {"decision_id": decision_id, "status": "proposed", "action_ids": [],
                    "reason": "two-person rule: a senior reviewer or security must confirm"}
        action_ids = _apply(store, conn, case, d, decision_id, [actor])
        record(conn, actor=actor, action="case.decide", target=f"case:{case_id}",
               details={"decision_id": decision_id, "kind": d.kind, "label": d.label,
                        "escalate_to": d.escalate_to, "action_ids": action_ids})
    return {"decision_id": decision_id, "status": "applied", "action_ids": action_ids}


def _check_applicable(conn: Connection, case: dict[str, Any], d: Decision) -> None:
    if case["subject_type"] == "campaign":
        return  # remove / suspend act on every member (see _apply_to_campaign)
    if d.kind == "remove" and case["subject_type"] != "post":
        raise ReviewError(422, "remove applies to posts; an account is suspended", "kind")
    if d.kind == "suspend" and not case["account_id"]:
        raise ReviewError(422, "this case has no account to suspend", "kind")


def _second_person(store: Any, settings: ReviewSettings, caller: Any, decision_id: int,
                   conn: Connection) -> tuple[dict[str, Any], dict[str, Any]]:
    if caller.role not in CONFIRM_ROLES:
        raise ReviewError(403, f"only {', '.join(CONFIRM_ROLES)} may confirm or reject a proposal")
    row = conn.execute(select(case_decisions).where(case_decisions.c.id == decision_id)).mappings().first()
    if row is None:
        raise ReviewError(404, f"no decision with id {decision_id}", "decision_id")
    if row["status"] != "proposed":
        raise ReviewError(409, f"decision {decision_id} is {row['status']}, not a proposal")
    if row["actor"] == actor_of(caller):
        raise ReviewError(409, "two-person rule: the proposer cannot confirm or reject their own proposal")
    case = _case(conn, row["case_id"])
    _check_role_for_queue(settings, caller, case["queue"])
    return dict(row), case


def confirm(store: Any, settings: ReviewSettings, caller: Any, decision_id: int, notes: str = "") -> dict[str, Any]:
    actor = actor_of(caller)
    now = _now()
    with store.engine.begin() as conn:
        row, case = _second_person(store, settings, caller, decision_id, conn)
        d = Decision(row["kind"], row["notes"], row["label"], row["escalate_to"])
        action_ids = _apply(store, conn, case, d, decision_id, [row["actor"], actor])
        conn.execute(update(case_decisions).where(case_decisions.c.id == decision_id).values(
            status="applied", confirmed_by=actor, decided_at=now,
            notes=row["notes"] + (f"\n[confirmation] {notes}" if notes else "")))
        conn.execute(update(case_review).where(case_review.c.case_id == case["id"]).values(pending_decision_id=None))
        record(conn, actor=actor, action="decision.confirm", target=f"case:{case['id']}",
               details={"decision_id": decision_id, "kind": d.kind, "proposed_by": row["actor"], "action_ids": action_ids})
    return {"decision_id": decision_id, "status": "applied", "action_ids": action_ids}


def reject(store: Any, settings: ReviewSettings, caller: Any, decision_id: int, notes: str = "") -> dict[str, Any]:
    actor = actor_of(caller)
    now = _now()
    with store.engine.begin() as conn:
        row, case = _second_person(store, settings, caller, decision_id, conn)
        conn.execute(update(case_decisions).where(case_decisions.c.id == decision_id).values(
            status="rejected", confirmed_by=actor, decided_at=now,
            notes=row["notes"] + (f"\n[rejection] {notes}" if notes else "")))
        conn.execute(update(case_review).where(case_review.c.case_id == case["id"]).values(pending_decision_id=None))
        record(conn, actor=actor, action="decision.reject", target=f"case:{case['id']}",
               details={"decision_id": decision_id, "kind": row["kind"], "proposed_by": row["actor"]})
    return {"decision_id": decision_id, "status": "rejected", "action_ids": []}


def _first_event_pk(conn: Connection, case_id: int, subject: tuple[str, str]) -> int | None:
    q = (select(events.c.pk).join(case_events, case_events.c.event_pk == events.c.pk)
         .where(case_events.c.case_id == case_id).order_by(
             (events.c.subject_id != subject[1]), events.c.pk).limit(1))
    return conn.execute(q).scalar()


def create_action(store: Any, conn: Connection, key: str, kind: str, subject: tuple[str, str], case_id: int | None,
                  event_pk: int | None, rule: str | None) -> int:
    """Insert an action once (by idempotency key) and return its id, new or existing."""
    now = _now()
    conn.execute(store._insert(actions).values(
        idempotency_key=key[:400], kind=kind, subject_type=subject[0], subject_id=subject[1], event_pk=event_pk,
        case_id=case_id, rule=(rule or "")[:128] or None, status="pending", attempts=0, created_at=now, updated_at=now,
    ).on_conflict_do_nothing(index_elements=["idempotency_key"]))
    return int(conn.execute(select(actions.c.id).where(actions.c.idempotency_key == key[:400])).scalar_one())


def _restores_of(conn: Connection, subject: tuple[str, str]) -> int:
    return len(conn.execute(select(actions.c.id).where(and_(
        actions.c.kind == "restore", actions.c.subject_type == subject[0], actions.c.subject_id == subject[1]))).all())


def _apply_to_campaign(store: Any, conn: Connection, case: dict[str, Any], kind: str, rule: str,
                       now: datetime) -> list[int]:
    """A campaign case: remove every member post, or suspend every member account, with the same
    keys as single decisions (so a member already acted on is not acted on twice)."""
    from seawall.campaigns.schema import campaigns
    from seawall.campaigns.store import member_ids

    cids = conn.execute(select(campaigns.c.id).where(campaigns.c.case_id == case["id"])).scalars().all()
    if not cids:
        raise ReviewError(409, f"case {case['id']} names a campaign that no longer exists")
    ids: list[int] = []
    if kind == "remove":
        for post, _account in member_ids(conn, cids, "post"):
            pk = conn.execute(select(events.c.pk).where(and_(
                events.c.subject_type == "post", events.c.type == "post", events.c.subject_id == post))).scalar()
            n = _restores_of(conn, ("post", post))
            key = f"remove:post:{post}" + (f":r{n}" if n else "")
            ids.append(create_action(store, conn, key, "remove", ("post", post), case["id"], pk, rule))
    else:
        for account, _ in member_ids(conn, cids, "account"):
            restores = conn.execute(select(accounts.c.restore_count).where(accounts.c.id == account)).scalar() or 0
            ids.append(create_action(store, conn, f"suspend:account:{account}:{restores}", "suspend",
                                     ("account", account), case["id"], None, rule))
            store._set_account_status(conn, account, "suspend", now)
    return ids


def _apply(store: Any, conn: Connection, case: dict[str, Any], d: Decision, decision_id: int,
           deciders: list[str]) -> list[int]:
    """Carry out a decision: actions, the account's state, the case's status and queue."""
    now = _now()
    names = pseudonyms(conn, set(deciders))
    rule = "review:" + "+".join(names[a] for a in deciders)
    subject = (case["subject_type"], case["subject_id"])
    event_pk = _first_event_pk(conn, case["id"], subject)
    ids: list[int] = []
    status, queue, labels = "actioned", case["queue"], orjson.loads(case["labels"])
    if case["subject_type"] == "campaign" and d.kind in ("remove", "suspend"):
        ids = _apply_to_campaign(store, conn, case, d.kind, rule, now)
    elif d.kind == "remove":
        n = _restores_of(conn, subject)
        key = f"remove:{subject[0]}:{subject[1]}" + (f":r{n}" if n else "")
        ids.append(create_action(store, conn, key, "remove", subject, case["id"], event_pk, rule))
    elif d.kind == "suspend":
        account = case["account_id"]
        restores = conn.execute(select(accounts.c.restore_count).where(accounts.c.id == account)).scalar() or 0
        key = f"suspend:account:{account}:{restores}"
        ids.append(create_action(store, conn, key, "suspend", ("account", account), case["id"], event_pk, rule))
        store._set_account_status(conn, account, "suspend", now)
    elif d.kind == "escalate" and d.escalate_to == "law_enforcement":
        key = f"escalate:law_enforcement:{subject[0]}:{subject[1]}:{case['id']}"
        ids.append(create_action(store, conn, key, "escalate", subject, case["id"], event_pk, rule))
        queue = "law-enforcement"
    elif d.kind == "escalate":
        status, queue = "open", "security"  # stays open, for the security team to claim
    elif d.kind == "label":
        labels = sorted(set(labels) | {d.label})
    else:  # no violation: undo what a rule already did on its own (e.g. an automatic removal)
        status = "closed"
        for orig in conn.execute(select(actions).where(and_(
                actions.c.case_id == case["id"], actions.c.kind.in_(["remove", "suspend"])))).mappings().all():
            ids.append(create_action(store, conn, "restore:" + orig["idempotency_key"], "restore",
                                     (orig["subject_type"], orig["subject_id"]), case["id"], orig["event_pk"], rule))
            if orig["kind"] == "suspend":
                store._set_account_status(conn, orig["subject_id"], "restore", now)
    conn.execute(update(cases).where(cases.c.id == case["id"]).values(
        status=status, queue=queue, labels=orjson.dumps(labels).decode(), updated_at=now))
    conn.execute(update(case_decisions).where(case_decisions.c.id == decision_id)
                 .values(action_ids=orjson.dumps(ids).decode()))
    return ids
