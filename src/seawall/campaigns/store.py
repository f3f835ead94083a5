"""Campaigns in the database: each campaign is one case (subject_type "campaign") with its members.

`record_updates` folds what the detector found since the last batch into the campaign rows, their
cases and `campaign_members`, in one transaction: a campaign that is still open gets the new
members; one whose case was actioned or closed is reopened when new members arrive within
`reopen_gap` of its last one (the same push going on), otherwise a new episode (a new case) starts.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Sequence

import orjson
from sqlalchemy import and_, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from seawall.campaigns.model import CampaignUpdate
from seawall.campaigns.schema import campaign_members as members_t
from seawall.campaigns.schema import campaigns
from seawall.storage.rows import _chunks, _now, _utc
from seawall.storage.schema import actions, case_events, cases, events, verdicts

CAMPAIGN_SUBJECT = "campaign"
CAMPAIGN_QUEUE = "campaigns"
REOPEN_GAP = timedelta(hours=24)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def subject_id(key: str) -> str:
    """The case's subject id: the key itself, or a prefix and its hash when longer than fits."""
    if len(key) <= 256:
        return key
    return f"{key[:230]}~{key_hash(key)[:24]}"


def upsert(engine_or_conn: Engine | Connection, table: Any) -> Any:
    return (postgresql.insert if engine_or_conn.dialect.name == "postgresql" else sqlite.insert)(table)


def _ts(t: float) -> datetime:
    return datetime.fromtimestamp(t, tz=timezone.utc)


def _priority(score: float) -> int:
    return int(min(95, 50 + 45 * score))


def record_updates(engine: Engine, updates: Sequence[CampaignUpdate], reopen_gap: timedelta = REOPEN_GAP) -> int:
    """Record the detector's updates; returns how many campaign cases were opened."""
    if not updates:
        return 0
    opened = 0
    now = _now()
    with engine.begin() as conn:
        ids: dict[str, int] = {}
        for upd in updates:
            if upd.merged_into is not None:
                continue
            cid, new = _campaign_for(conn, upd, now, reopen_gap)
            ids[upd.campaign] = cid
            opened += new
            _add_members(conn, cid, upd, now)
        for upd in updates:
            if upd.merged_into is not None:
                _merge(conn, upd.campaign, upd.merged_into, now)
    return opened


def _latest(conn: Connection, key: str) -> Any:
    q = (select(campaigns, cases.c.status.label("case_status"))
         .select_from(campaigns.outerjoin(cases, cases.c.id == campaigns.c.case_id))
         .where(and_(campaigns.c.key_hash == key_hash(key), campaigns.c.status == "active"))
         .order_by(campaigns.c.id.desc()).limit(1))
    return conn.execute(q).mappings().first()


def _campaign_for(conn: Connection, upd: CampaignUpdate, now: datetime, reopen_gap: timedelta) -> tuple[int, int]:
    """The campaign row (and case) this update belongs to; (id, 1 if it was opened now)."""
    first = _ts(min((t for t, _, _ in upd.posts), default=now.timestamp()))
    last = _ts(max((t for t, _, _ in upd.posts), default=now.timestamp()))
    row = _latest(conn, upd.campaign)
    ev = orjson.dumps(upd.evidence).decode()
    if row is not None and row["case_id"] is not None:
        status = row["case_status"]
        if status == "open" or first - _utc(row["last_seen"]) <= reopen_gap:  # type: ignore[operator]
            values: dict[str, Any] = {"score": upd.score, "evidence": ev, "label": upd.label, "reason": upd.reason,
                                      "updated_at": now}
            if last > _utc(row["last_seen"]):  # type: ignore[operator]
                values["last_seen"] = last
            conn.execute(update(campaigns).where(campaigns.c.id == row["id"]).values(**values))
            case_values: dict[str, Any] = {"updated_at": now}
            if status != "open" and upd.posts:
                case_values["status"] = "open"  # new members arrived: someone has to look again
            conn.execute(update(cases).where(cases.c.id == row["case_id"]).values(**case_values))
            return int(row["id"]), 0
    case_id = conn.execute(
        cases.insert().returning(cases.c.id),
        {
            "subject_type": CAMPAIGN_SUBJECT, "subject_id": subject_id(upd.campaign), "account_id": None,
            "status": "open", "queue": CAMPAIGN_QUEUE, "priority": _priority(upd.score), "verdict": "queue",
            "labels": orjson.dumps([upd.label]).decode(), "rules": orjson.dumps([f"campaign:{upd.reason}"]).decode(),
            "event_count": 0, "opened_at": now, "updated_at": now,
        },
    ).scalar_one()
    cid = conn.execute(
        campaigns.insert().returning(campaigns.c.id),
        {
            "key": upd.campaign, "key_hash": key_hash(upd.campaign), "kind": upd.kind, "reason": upd.reason,
            "label": upd.label, "case_id": case_id, "status": "active", "merged_into": None, "score": upd.score,
            "evidence": ev, "member_posts": 0, "member_accounts": 0, "first_seen": first, "last_seen": last,
            "created_at": now, "updated_at": now,
        },
    ).scalar_one()
    return int(cid), 1


def _add_members(conn: Connection, cid: int, upd: CampaignUpdate, now: datetime) -> None:
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for t, post, account in upd.posts:
        joined = _ts(t)
        rows.setdefault(("post", post), {"campaign_id": cid, "member_type": "post", "member_id": post,
                                         "account_id": account, "joined_at": joined, "added_at": now})
        rows.setdefault(("account", account), {"campaign_id": cid, "member_type": "account", "member_id": account,
                                               "account_id": account, "joined_at": joined, "added_at": now})
    for account in upd.accounts:
        rows.setdefault(("account", account), {"campaign_id": cid, "member_type": "account", "member_id": account,
                                               "account_id": account, "joined_at": now, "added_at": now})
    if rows:
        conn.execute(upsert(conn, members_t).on_conflict_do_nothing(), list(rows.values()))
    posts = sorted({p for _, p, _ in upd.posts})
    case_id = conn.execute(select(campaigns.c.case_id).where(campaigns.c.id == cid)).scalar()
    if posts and case_id is not None:
        pks: list[int] = []
        for chunk in _chunks(posts):
            pks += conn.execute(select(events.c.pk).where(
                and_(events.c.subject_type == "post", events.c.subject_id.in_(chunk), events.c.type == "post"))).scalars().all()
        if pks:
            conn.execute(upsert(conn, case_events).on_conflict_do_nothing(),
                         [{"case_id": case_id, "event_pk": pk} for pk in pks])
    counts = dict(conn.execute(select(members_t.c.member_type, func.count()).where(members_t.c.campaign_id == cid)
                               .group_by(members_t.c.member_type)).all())
    n_posts, n_accounts = int(counts.get("post", 0)), int(counts.get("account", 0))
    conn.execute(update(campaigns).where(campaigns.c.id == cid).values(member_posts=n_posts, member_accounts=n_accounts))
    if case_id is not None:
        prio = conn.execute(select(cases.c.priority).where(cases.c.id == case_id)).scalar() or 0
        conn.execute(update(cases).where(cases.c.id == case_id).values(
            event_count=n_posts, priority=max(int(prio), _priority(upd.score))))


def _merge(conn: Connection, absorbed: str, survivor: str, now: datetime) -> None:
    """Two co-sharing clusters joined: the absorbed campaign's members move to the survivor."""
    gone, kept = _latest(conn, absorbed), _latest(conn, survivor)
    if gone is None or kept is None or gone["id"] == kept["id"]:
        return
    moved = conn.execute(select(members_t).where(members_t.c.campaign_id == gone["id"])).mappings().all()
    if moved:
        conn.execute(upsert(conn, members_t).on_conflict_do_nothing(),
                     [{**dict(m), "campaign_id": kept["id"]} for m in moved])
    conn.execute(update(campaigns).where(campaigns.c.id == gone["id"]).values(
        status="merged", merged_into=kept["id"], updated_at=now))
    if gone["case_id"] is not None:
        conn.execute(update(cases).where(and_(cases.c.id == gone["case_id"], cases.c.status == "open"))
                     .values(status="closed", updated_at=now))


# -- reads -------------------------------------------------------------------------------------------
def _campaign_dict(r: Any) -> dict[str, Any]:
    out = {k: r[k] for k in ("id", "key", "kind", "reason", "label", "case_id", "status", "merged_into", "score",
                             "member_posts", "member_accounts")}
    out["evidence"] = orjson.loads(r["evidence"])
    for k in ("first_seen", "last_seen", "created_at", "updated_at"):
        v = _utc(r[k])
        out[k] = v.isoformat() if v else None
    for k in ("case_status", "queue", "priority"):
        if k in r:
            out[k] = r[k]
    return out


def _with_case() -> Any:
    return (select(campaigns, cases.c.status.label("case_status"), cases.c.queue, cases.c.priority)
            .select_from(campaigns.outerjoin(cases, cases.c.id == campaigns.c.case_id)))


def list_campaigns(store: Any, status: str | None = "open", limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    """Campaigns, most recently active first. `status` filters on the case: open | actioned |
    closed; None for all."""
    q = _with_case().where(campaigns.c.status == "active")
    if status:
        q = q.where(cases.c.status == status)
    q = q.order_by(campaigns.c.updated_at.desc(), campaigns.c.id.desc()).limit(limit).offset(offset)
    with store.engine.connect() as conn:
        return [_campaign_dict(r) for r in conn.execute(q).mappings().all()]


def get_campaign(store: Any, campaign_id: int, member_limit: int = 1000) -> dict[str, Any] | None:
    """One campaign with its members (up to member_limit of each kind) and the actions on them."""
    with store.engine.connect() as conn:
        r = conn.execute(_with_case().where(campaigns.c.id == campaign_id)).mappings().first()
        if r is None:
            return None
        out = _campaign_dict(r)
        if r["case_id"] is not None:
            acts = conn.execute(select(actions).where(actions.c.case_id == r["case_id"]).order_by(actions.c.id)).mappings().all()
            out["actions"] = [{"id": a["id"], "kind": a["kind"], "subject_type": a["subject_type"],
                               "subject_id": a["subject_id"], "status": a["status"],
                               "idempotency_key": a["idempotency_key"]} for a in acts]
    out["members"] = _members(store, [campaign_id], member_limit)
    return out


def campaign_for_case(store: Any, case_id: int) -> dict[str, Any] | None:
    with store.engine.connect() as conn:
        r = conn.execute(_with_case().where(campaigns.c.case_id == case_id).order_by(campaigns.c.id.desc())).mappings().first()
    return _campaign_dict(r) if r is not None else None


def campaign_members(store: Any, case_id: int, limit: int = 10_000) -> dict[str, list[dict[str, Any]]]:
    """The members of the campaign whose case is `case_id`: {"posts": [...], "accounts": [...]},
    each post with its author, when it joined and its stored verdict (for the review console)."""
    with store.engine.connect() as conn:
        ids = conn.execute(select(campaigns.c.id).where(campaigns.c.case_id == case_id)).scalars().all()
    if not ids:
        raise LookupError(f"case {case_id} is not a campaign case")
    return _members(store, list(ids), limit)


def _members(store: Any, campaign_ids: list[int], limit: int) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {"posts": [], "accounts": []}
    with store.engine.connect() as conn:
        for kind, bucket in (("post", "posts"), ("account", "accounts")):
            q = (select(members_t).where(and_(members_t.c.campaign_id.in_(campaign_ids), members_t.c.member_type == kind))
                 .order_by(members_t.c.joined_at, members_t.c.member_id).limit(limit))
            seen: set[str] = set()
            for m in conn.execute(q).mappings():
                if m["member_id"] in seen:
                    continue
                seen.add(m["member_id"])
                out[bucket].append({"id": m["member_id"], "account_id": m["account_id"],
                                    "joined_at": _utc(m["joined_at"]).isoformat()})  # type: ignore[union-attr]
        posts = [p["id"] for p in out["posts"]]
        verdict_of: dict[str, str] = {}
        for chunk in _chunks(posts):
            q = (select(events.c.subject_id, verdicts.c.verdict)
                 .select_from(events.join(verdicts, verdicts.c.event_pk == events.c.pk))
                 .where(and_(events.c.subject_type == "post", events.c.type == "post", events.c.subject_id.in_(chunk))))
            verdict_of.update({sid: v for sid, v in conn.execute(q).all()})
    for p in out["posts"]:
        p["verdict"] = verdict_of.get(p["id"])
    return out


def member_ids(conn: Connection, campaign_ids: Iterable[int], kind: str) -> list[tuple[str, str | None]]:
    q = (select(members_t.c.member_id, members_t.c.account_id)
         .where(and_(members_t.c.campaign_id.in_(list(campaign_ids)), members_t.c.member_type == kind))
         .order_by(members_t.c.member_id))
    return list(dict.fromkeys((r[0], r[1]) for r in conn.execute(q).all()))


__all__ = ["campaign_for_case", "campaign_members", "get_campaign", "list_campaigns", "record_updates"]
