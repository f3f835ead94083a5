"""An action on a campaign acts on every member, each recorded as its own action.

The idempotency keys are the pipeline's own (`remove:post:<id>`, `suspend:account:<id>:<restore
count>`, see `SqlStore._create_actions`), so acting on a campaign twice, or on a post a rule already
removed, creates nothing new; the action dispatcher delivers the rows like any other.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, select, update

from seawall.campaigns.schema import campaigns
from seawall.campaigns.store import member_ids, upsert
from seawall.storage.rows import _chunks, _now
from seawall.storage.schema import accounts, actions, cases, events

CAMPAIGN_ACTIONS = ("remove", "suspend")
_SEVERITY = {"allow": 0, "label": 1, "queue": 2, "remove": 3, "suspend": 4, "escalate": 5}


class CampaignActionError(ValueError):
    def __init__(self, field: str, reason: str):
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


def apply_campaign_action(store: Any, case_id: int, kind: str, actor: str) -> dict[str, Any]:
    """Apply `kind` (remove: every member post; suspend: every member account) to the campaign
    whose case is `case_id`. Returns the members acted on and how many actions were created now
    (the rest existed already). The case becomes "actioned"; the audit log records who did it."""
    if kind not in CAMPAIGN_ACTIONS:
        raise CampaignActionError("kind", f"{kind!r} is not a campaign action; expected one of {', '.join(CAMPAIGN_ACTIONS)}")
    if not actor or len(actor) > 200:
        raise CampaignActionError("actor", "must name who acts (1 to 200 characters)")
    now = _now()
    with store.engine.begin() as conn:
        ids = conn.execute(select(campaigns.c.id).where(campaigns.c.case_id == case_id)).scalars().all()
        if not ids:
            raise CampaignActionError("case_id", f"case {case_id} is not a campaign case")
        rows: list[dict[str, Any]] = []
        if kind == "remove":
            posts = [p for p, _ in member_ids(conn, ids, "post")]
            pk_of: dict[str, int] = {}
            for chunk in _chunks(posts):
                q = select(events.c.subject_id, events.c.pk).where(
                    and_(events.c.subject_type == "post", events.c.type == "post", events.c.subject_id.in_(chunk)))
                pk_of.update({sid: pk for sid, pk in conn.execute(q).all()})
            targets = posts
            for post in posts:
                rows.append(_row(f"remove:post:{post}", kind, "post", post, pk_of.get(post), case_id, now))
        else:
            targets = [a for a, _ in member_ids(conn, ids, "account")]
            restores: dict[str, int] = {}
            for chunk in _chunks(targets):
                q = select(accounts.c.id, accounts.c.restore_count).where(accounts.c.id.in_(chunk))
                restores.update({aid: int(n or 0) for aid, n in conn.execute(q).all()})
            for account in targets:
                key = f"suspend:account:{account}:{restores.get(account, 0)}"
                rows.append(_row(key, kind, "account", account, None, case_id, now))
        created_ids: list[int] = []
        if rows:
            stmt = (upsert(conn, actions).on_conflict_do_nothing(index_elements=["idempotency_key"])
                    .returning(actions.c.id, actions.c.subject_id))
            created = conn.execute(stmt, rows).all()
            created_ids = [r[0] for r in created]
            if kind == "suspend" and created:
                _suspend_accounts(conn, [r[1] for r in created], now)
        verdict = conn.execute(select(cases.c.verdict).where(cases.c.id == case_id)).scalar() or "queue"
        values: dict[str, Any] = {"status": "actioned", "updated_at": now}
        if _SEVERITY[kind] > _SEVERITY.get(verdict, 0):
            values["verdict"] = kind
        conn.execute(update(cases).where(cases.c.id == case_id).values(**values))
        result = {"case_id": case_id, "kind": kind, "members": len(targets), "created": len(created_ids),
                  "existing": len(rows) - len(created_ids), "action_ids": created_ids}
        _audit(conn, actor, case_id, {k: v for k, v in result.items() if k != "action_ids"})
    return result


def _row(key: str, kind: str, stype: str, sid: str, event_pk: int | None, case_id: int, now: Any) -> dict[str, Any]:
    return {"idempotency_key": key[:400], "kind": kind, "subject_type": stype, "subject_id": sid,
            "event_pk": event_pk, "case_id": case_id, "rule": "campaign", "status": "pending", "attempts": 0,
            "created_at": now, "updated_at": now}


def _suspend_accounts(conn: Any, account_ids: list[str], now: Any) -> None:
    # As a suspension decided by a rule does (SqlStore._set_account_status).
    stmt = upsert(conn, accounts)
    stmt = stmt.on_conflict_do_update(
        index_elements=["id"],
        set_={"status": stmt.excluded.status, "updated_at": stmt.excluded.updated_at,
              "suspended_at": stmt.excluded.suspended_at},
    )
    conn.execute(stmt, [{"id": a, "status": "suspended", "updated_at": now, "suspended_at": now} for a in account_ids])


def _audit(conn: Any, actor: str, case_id: int, details: dict[str, Any]) -> None:
    try:
        from seawall.audit import record
    except ImportError:  # the audit log is optional
        return
    record(conn, actor=actor, action="campaign.act", target=f"case:{case_id}", details=details)
