"""The outbox: every action waits here until its platform has it.

An action (a row of `actions`, status pending) enters the outbox when a dispatcher first sees it
(`enroll`): its evidence hold and its delivery row are written in one transaction. Dispatchers then
`claim` due rows (PostgreSQL: `SELECT ... FOR UPDATE SKIP LOCKED`, so several dispatchers share the
work; SQLite: one atomic `UPDATE ... RETURNING`), each claim a lease longer than a delivery can take,
and `record` the outcome of each attempt: delivered, retry later (backoff), or failed (after the last
attempt, or a refusal that retrying cannot fix). Failed actions stay visible and `requeue` puts them
back. Nothing here deletes an action.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable, Sequence

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from seawall.actions.adapter import Action, DeliveryResult
from seawall.actions.evidence import preserve_many
from seawall.actions.retry import RetryPolicy
from seawall.actions.schema import action_attempts, action_deliveries, evidence_holds
from seawall.actions.settings import ACTION_KINDS, EvidenceSettings
from seawall.storage.rows import _chunks, _now, _plain, _utc
from seawall.storage.schema import actions

RESTORE_PREFIX = "restore:"
STATUSES = ("pending", "delivered", "failed")
_D = action_deliveries


@dataclass
class Requeued:
    requeued: list[int]
    refused: dict[int, str]


class Outbox:
    def __init__(self, engine: Engine):
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"
        self._insert = postgresql.insert if self.postgres else sqlite.insert

    # -- entering the outbox -----------------------------------------------------------------
    def enroll(self, kinds: Sequence[str], evidence: EvidenceSettings, limit: int = 500,
               now: datetime | None = None) -> int:
        """Bring pending actions that are not in the outbox yet into it, preserving evidence for the
        kinds that need it first. Returns how many entered."""
        now = now or _now()
        q = (
            select(actions)
            .outerjoin(_D, _D.c.action_id == actions.c.id)
            .where(and_(actions.c.status == "pending", _D.c.action_id.is_(None), actions.c.kind.in_(list(kinds))))
            .order_by(actions.c.id)
            .limit(limit)
        )
        if self.postgres:
            # Another dispatcher enrolling the same actions right now has them: skip, don't redo.
            q = q.with_for_update(of=actions, skip_locked=True)
        with self.engine.begin() as conn:
            rows = conn.execute(q).mappings().all()
            if not rows:
                return 0
            # Evidence first, in the same transaction: no action is delivered without its hold.
            preserve_many(conn, [r for r in rows if r["kind"] in evidence.kinds], evidence, self._insert, now)
            stmt = self._insert(_D).on_conflict_do_nothing(index_elements=["action_id"]).returning(_D.c.action_id)
            entered = len(conn.execute(stmt, [
                {"action_id": r["id"], "state": "pending", "attempts": 0, "next_attempt_at": now, "queued_at": now}
                for r in rows
            ]).all())
        return entered

    # -- claiming ----------------------------------------------------------------------------
    def claim(self, owner: str, limit: int, lease_s: float, now: datetime | None = None,
              not_tried_since: datetime | None = None) -> list[Action]:
        """Lease up to `limit` due actions to `owner` for `lease_s` seconds. With `not_tried_since`,
        skip actions attempted at or after that time (one pass of the dispatcher tries each once)."""
        now = now or _now()
        until = now + timedelta(seconds=lease_s)
        due = and_(
            _D.c.state == "pending",
            _D.c.next_attempt_at <= now,
            or_(_D.c.lease_until.is_(None), _D.c.lease_until < now),
        )
        if not_tried_since is not None:
            due = and_(due, or_(_D.c.last_attempt_at.is_(None), _D.c.last_attempt_at < not_tried_since))
        pick = select(_D.c.action_id).where(due).order_by(_D.c.next_attempt_at, _D.c.action_id).limit(limit)
        with self.engine.begin() as conn:
            if self.postgres:
                # Rows another dispatcher is claiming right now are skipped, not waited for.
                ids = list(conn.execute(pick.with_for_update(skip_locked=True)).scalars())
                if ids:
                    conn.execute(update(_D).where(_D.c.action_id.in_(ids)).values(lease_owner=owner, lease_until=until))
            else:
                # One statement is atomic on SQLite, even with a second dispatcher on the same file.
                stmt = (update(_D).where(_D.c.action_id.in_(pick.scalar_subquery()))
                        .values(lease_owner=owner, lease_until=until).returning(_D.c.action_id))
                ids = list(conn.execute(stmt).scalars())
            if not ids:
                return []
            rows = conn.execute(
                select(actions, _D.c.attempts.label("delivery_attempts"))
                .join(_D, _D.c.action_id == actions.c.id)
                .where(actions.c.id.in_(ids))
                .order_by(actions.c.id)
            ).mappings().all()
        return [_action(r) for r in rows]

    def original_status(self, action: Action) -> tuple[str | None, datetime | None]:
        """For a restore: the status of the action it reverses and when that is next tried."""
        if not action.reverses:
            return None, None
        with self.engine.connect() as conn:
            row = conn.execute(
                select(actions.c.status, _D.c.next_attempt_at)
                .outerjoin(_D, _D.c.action_id == actions.c.id)
                .where(actions.c.idempotency_key == action.reverses)
            ).first()
        return (row[0], _utc(row[1])) if row else (None, None)

    def defer(self, action: Action, owner: str, until: datetime) -> None:
        """Give a claimed action back without counting an attempt (a restore waiting for its original)."""
        with self.engine.begin() as conn:
            conn.execute(update(_D).where(and_(_D.c.action_id == action.id, _D.c.lease_owner == owner))
                         .values(next_attempt_at=until, lease_owner=None, lease_until=None))

    # -- outcomes ----------------------------------------------------------------------------
    def record(self, action: Action, owner: str, adapter: str, result: DeliveryResult, policy: RetryPolicy,
               started_at: datetime, duration_ms: int, now: datetime | None = None) -> str:
        """Store one attempt and move the action on. Returns the outcome: delivered | retry | failed
        | lost (the lease had passed to another dispatcher, which now owns the action's state)."""
        now = now or _now()
        with self.engine.begin() as conn:
            d = conn.execute(select(_D).where(_D.c.action_id == action.id)).mappings().first()
            if d is None:
                return "lost"
            attempts = d["attempts"] + 1
            if result.delivered:
                outcome = "delivered"
            elif not result.retryable or policy.gives_up(attempts, _utc(d["queued_at"]), now):
                outcome = "failed"
            else:
                outcome = "retry"
            conn.execute(action_attempts.insert().values(
                action_id=action.id, adapter=adapter[:64], dispatcher=owner[:64], started_at=started_at,
                duration_ms=duration_ms, outcome=outcome, status=result.status, error=result.error,
            ))
            owned = d["lease_owner"] == owner
            if not owned and not result.delivered:
                # Our lease ran out and someone else holds the action: leave its state to them.
                return "lost"
            values: dict[str, Any] = {
                "attempts": attempts, "last_attempt_at": started_at, "last_status": result.status,
                "last_error": result.error, "adapter": adapter[:64], "lease_owner": None, "lease_until": None,
            }
            if outcome == "delivered":
                values.update(state="delivered", delivered_at=now, last_error=None)
            elif outcome == "failed":
                values.update(state="failed")
            else:
                wait = policy.delay_s(attempts, result.retry_after_s)
                values.update(next_attempt_at=now + timedelta(seconds=wait))
            conn.execute(update(_D).where(_D.c.action_id == action.id).values(**values))
            status = {"delivered": "delivered", "failed": "failed"}.get(outcome, "pending")
            conn.execute(update(actions).where(actions.c.id == action.id)
                         .values(status=status, attempts=actions.c.attempts + 1, updated_at=now))
        return outcome

    # -- operators ---------------------------------------------------------------------------
    def requeue(self, ids: Iterable[int] | None = None, all_failed: bool = False,
                now: datetime | None = None, actor: str | None = None) -> Requeued:
        """Put failed (or waiting) actions back at the head of the queue with a fresh retry budget.
        Delivered actions are refused: the platform already has them. With `actor`, each re-queue
        is written to the audit log in the same transaction."""
        now = now or _now()
        out = Requeued([], {})
        with self.engine.begin() as conn:
            if all_failed:
                wanted = list(conn.execute(select(actions.c.id).where(actions.c.status == "failed").order_by(actions.c.id)).scalars())
            else:
                wanted = list(dict.fromkeys(ids or []))
            found = {}
            for chunk in _chunks(wanted):
                found.update({r[0]: r[1] for r in conn.execute(select(actions.c.id, actions.c.status).where(actions.c.id.in_(chunk)))})
            for action_id in wanted:
                status = found.get(action_id)
                if status is None:
                    out.refused[action_id] = "no such action"
                elif status == "delivered":
                    out.refused[action_id] = "already delivered"
                else:
                    out.requeued.append(action_id)
            for chunk in _chunks(out.requeued):
                conn.execute(update(actions).where(actions.c.id.in_(chunk)).values(status="pending", updated_at=now))
                conn.execute(update(_D).where(_D.c.action_id.in_(chunk)).values(
                    state="pending", attempts=0, queued_at=now, next_attempt_at=now, lease_owner=None, lease_until=None))
            if actor:
                for action_id in out.requeued:
                    _audit(conn, actor, "action.retry", action_id, {"was": found[action_id]})
        return out

    def request_restore(self, action_id: int, now: datetime | None = None, actor: str | None = None) -> int:
        """Create (once) the action that reverses a removal or suspension, delivered through the
        same adapter; its key is `restore:<the original's key>`. Returns the restore's id."""
        now = now or _now()
        with self.engine.begin() as conn:
            orig = conn.execute(select(actions).where(actions.c.id == action_id)).mappings().first()
            if orig is None:
                raise LookupError(f"action_id: no action {action_id}")
            if orig["kind"] not in ("remove", "suspend"):
                raise ValueError(f"action_id: action {action_id} is a {orig['kind']}; only remove and suspend can be restored")
            key = (RESTORE_PREFIX + orig["idempotency_key"])[:400]
            created = conn.execute(self._insert(actions).values(
                idempotency_key=key, kind="restore", subject_type=orig["subject_type"], subject_id=orig["subject_id"],
                event_pk=orig["event_pk"], case_id=orig["case_id"], rule=None, status="pending", attempts=0,
                created_at=now, updated_at=now,
            ).on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(actions.c.id)).all()
            restore_id = int(conn.execute(select(actions.c.id).where(actions.c.idempotency_key == key)).scalar_one())
            if actor and created:
                _audit(conn, actor, "action.restore", action_id, {"restore_action_id": restore_id})
            return restore_id

    # -- reading -----------------------------------------------------------------------------
    def list(self, status: str | None = None, kind: str | None = None, limit: int = 100,
             after_id: int = 0) -> list[dict[str, Any]]:
        if status is not None and status not in STATUSES:
            raise ValueError(f"status: must be one of {', '.join(STATUSES)}; got {status!r}")
        if kind is not None and kind not in ACTION_KINDS:
            raise ValueError(f"kind: must be one of {', '.join(ACTION_KINDS)}; got {kind!r}")
        q = (
            select(actions, *[c.label(f"d_{c.name}") for c in _D.c if c.name != "action_id"],
                   evidence_holds.c.id.label("hold_id"))
            .outerjoin(_D, _D.c.action_id == actions.c.id)
            .outerjoin(evidence_holds, evidence_holds.c.action_id == actions.c.id)
            .where(actions.c.id > after_id)
            .order_by(actions.c.id)
            .limit(limit)
        )
        if status:
            q = q.where(actions.c.status == status)
        if kind:
            q = q.where(actions.c.kind == kind)
        with self.engine.connect() as conn:
            return [_listed(r) for r in conn.execute(q).mappings()]

    def get(self, action_id: int) -> dict[str, Any] | None:
        """One action with its delivery state and every attempt."""
        rows = self.list(after_id=action_id - 1, limit=1)
        if not rows or rows[0]["id"] != action_id:
            return None
        with self.engine.connect() as conn:
            attempts = conn.execute(select(action_attempts).where(action_attempts.c.action_id == action_id)
                                    .order_by(action_attempts.c.id)).mappings().all()
        rows[0]["attempts_log"] = [{k: v for k, v in _plain(a).items() if k != "action_id"} for a in attempts]
        return rows[0]

    def counts(self) -> dict[str, Any]:
        with self.engine.connect() as conn:
            by_status = dict(conn.execute(select(actions.c.status, func.count()).group_by(actions.c.status)).all())
            waiting = conn.execute(select(func.count(), func.min(_D.c.queued_at)).where(_D.c.state == "pending")).first()
        return {
            "by_status": {s: int(by_status.get(s, 0)) for s in STATUSES},
            "in_outbox": int(waiting[0] or 0),
            "oldest_waiting_since": _utc(waiting[1]).isoformat() if waiting[1] else None,
        }

    def next_due(self) -> datetime | None:
        with self.engine.connect() as conn:
            value = conn.execute(select(func.min(_D.c.next_attempt_at)).where(_D.c.state == "pending")).scalar()
        return _utc(value)


def _audit(conn: Any, actor: str, action: str, action_id: int, details: dict[str, Any]) -> None:
    from seawall.audit import record

    record(conn, actor=actor, action=action, target=f"action:{action_id}", details=details)


def _action(r: Any) -> Action:
    key = r["idempotency_key"]
    reverses = key[len(RESTORE_PREFIX):] if r["kind"] == "restore" and key.startswith(RESTORE_PREFIX) else None
    return Action(
        id=r["id"], idempotency_key=key, kind=r["kind"], subject_type=r["subject_type"], subject_id=r["subject_id"],
        created_at=_utc(r["created_at"]), case_id=r["case_id"], rule=r["rule"], reverses=reverses,
        attempt=int(r["delivery_attempts"]) + 1, delivery_id=uuid.uuid4().hex,
    )


def _listed(r: Any) -> dict[str, Any]:
    iso = lambda v: _utc(v).isoformat() if v is not None else None  # noqa: E731
    delivery = None
    if r["d_state"] is not None:
        delivery = {
            "state": r["d_state"], "attempts": r["d_attempts"], "next_attempt_at": iso(r["d_next_attempt_at"]),
            "queued_at": iso(r["d_queued_at"]), "last_attempt_at": iso(r["d_last_attempt_at"]),
            "last_status": r["d_last_status"], "last_error": r["d_last_error"],
            "delivered_at": iso(r["d_delivered_at"]), "adapter": r["d_adapter"],
        }
    return {
        "id": r["id"], "idempotency_key": r["idempotency_key"], "kind": r["kind"],
        "subject": {"type": r["subject_type"], "id": r["subject_id"]}, "case_id": r["case_id"], "rule": r["rule"],
        "status": r["status"], "attempts": r["attempts"], "created_at": iso(r["created_at"]),
        "updated_at": iso(r["updated_at"]), "delivery": delivery, "evidence_held": r["hold_id"] is not None,
    }
