"""Priority = severity x predicted reach, so that what would spread furthest is seen first.

    severity = the case's rule priority (0-100; 10 x the verdict's rank when no rule gave one)
    reach    = (1 + log10(1 + followers))            audience of the account
             x (1 + log2(1 + reposts per hour))      how fast the post is being passed on
             x age factor                            0.5 for a day-old account, rising to 1 at 30 days
    score    = severity x reach

Unknown inputs count as neutral (factor 1). The inputs are kept as events arrive (`record_reach`,
called in the store's commit) and a case is rescored when it opens, merges, or its post is
reposted, inside the same transaction.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from sqlalchemy import and_, case, select
from sqlalchemy.engine import Connection

from seawall.review.schema import account_reach, case_review, post_reach
from seawall.storage.schema import accounts, cases, events

if TYPE_CHECKING:
    from seawall.pipeline.result import ProcessedEvent

VERDICT_RANK = {"allow": 0, "label": 1, "queue": 2, "remove": 3, "suspend": 4, "escalate": 5}
AGE_FULL_DAYS = 30.0


def reach_factor(followers: int | None, reposts_per_hour: float, account_age_days: float | None) -> float:
    audience = 1.0 + math.log10(1 + followers) if followers else 1.0
    spread = 1.0 + math.log2(1.0 + max(0.0, reposts_per_hour))
    age = 1.0 if account_age_days is None else 0.5 + 0.5 * min(1.0, max(0.0, account_age_days) / AGE_FULL_DAYS)
    return audience * spread * age


def severity_of(rule_priority: int, verdict: str) -> float:
    return float(rule_priority) if rule_priority > 0 else 10.0 * VERDICT_RANK.get(verdict, 0)


def _utc(v: datetime | None) -> datetime | None:
    return None if v is None else (v if v.tzinfo else v.replace(tzinfo=timezone.utc))


def record_reach(store: Any, conn: Connection, stored: Sequence[ProcessedEvent]) -> None:
    """Keep followers and account creation times from account events, and count reposts and
    quotes per original post; rescore open cases on reposted posts."""
    profiles: dict[str, dict[str, Any]] = {}
    reposts: dict[str, list[datetime]] = {}
    for r in stored:
        ev = r.item.event
        if ev.type == "account":
            profiles[ev.id] = {"account_id": ev.id, "followers": ev.followers_count, "created_at": ev.created_at,
                               "updated_at": ev.occurred_at}
        elif ev.type == "post":
            for original in {ev.repost_of, ev.quote_of} - {None}:
                reposts.setdefault(original, []).append(ev.created_at)
    if profiles:
        stmt = store._insert(account_reach)
        stmt = stmt.on_conflict_do_update(index_elements=["account_id"], set_={
            "followers": stmt.excluded.followers, "created_at": stmt.excluded.created_at,
            "updated_at": stmt.excluded.updated_at})
        conn.execute(stmt, list(profiles.values()))
    if not reposts:
        return
    # One upsert for the batch: counts add up, the window widens.
    stmt = store._insert(post_reach)
    ex = stmt.excluded
    stmt = stmt.on_conflict_do_update(index_elements=["post_id"], set_={
        "reposts": post_reach.c.reposts + ex.reposts,
        "first_at": case((ex.first_at < post_reach.c.first_at, ex.first_at), else_=post_reach.c.first_at),
        "last_at": case((ex.last_at > post_reach.c.last_at, ex.last_at), else_=post_reach.c.last_at),
    })
    conn.execute(stmt, [{"post_id": pid, "reposts": len(t), "first_at": min(t), "last_at": max(t)}
                        for pid, t in reposts.items()])
    open_ids = conn.execute(select(cases.c.id).where(and_(
        cases.c.subject_type == "post", cases.c.subject_id.in_(list(reposts)), cases.c.status == "open"))).scalars().all()
    if open_ids:
        score_cases(store, conn, open_ids)


def score_cases(store: Any, conn: Connection, case_ids: Iterable[int]) -> None:
    """(Re)compute severity, reach and score of these cases and upsert their `case_review` rows."""
    ids = sorted(set(case_ids))
    if not ids:
        return
    rows = conn.execute(select(cases.c.id, cases.c.subject_type, cases.c.subject_id, cases.c.account_id,
                               cases.c.priority, cases.c.verdict, cases.c.opened_at)
                        .where(cases.c.id.in_(ids))).all()
    acct_ids = {r.account_id for r in rows if r.account_id}
    post_ids = {r.subject_id for r in rows if r.subject_type == "post"}
    reach_by_acct = {a.account_id: a for a in conn.execute(
        select(account_reach).where(account_reach.c.account_id.in_(acct_ids)))} if acct_ids else {}
    created_by_acct = dict(conn.execute(select(accounts.c.id, accounts.c.created_at).where(
        accounts.c.id.in_(acct_ids))).all()) if acct_ids else {}
    reposts_by_post = {p.post_id: p for p in conn.execute(
        select(post_reach).where(post_reach.c.post_id.in_(post_ids)))} if post_ids else {}
    post_times = dict(conn.execute(select(events.c.subject_id, events.c.occurred_at).where(and_(
        events.c.subject_type == "post", events.c.type == "post", events.c.subject_id.in_(post_ids)))).all()) if post_ids else {}
    now = datetime.now(timezone.utc)
    out = []
    for r in rows:
        acct = reach_by_acct.get(r.account_id)
        followers = acct.followers if acct is not None else None
        created = _utc((acct.created_at if acct is not None else None) or created_by_acct.get(r.account_id))
        posted = _utc(post_times.get(r.subject_id)) if r.subject_type == "post" else None
        # Age and velocity are measured in event time (the post's own clock), so a replay of old
        # data is ordered as it would have been live.
        ref = posted or _utc(r.opened_at)
        age_days = (ref - created).total_seconds() / 86400 if created is not None else None
        rp = reposts_by_post.get(r.subject_id) if r.subject_type == "post" else None
        count = int(rp.reposts) if rp is not None else 0
        velocity = 0.0
        if rp is not None:
            start = posted or _utc(rp.first_at)
            hours = max(1.0, (_utc(rp.last_at) - start).total_seconds() / 3600)
            velocity = count / hours
        severity = severity_of(int(r.priority), r.verdict)
        reach = reach_factor(followers, velocity, age_days)
        out.append({"case_id": r.id, "severity": severity, "reach": round(reach, 4), "score": round(severity * reach, 2),
                    "followers": followers, "reposts": count, "repost_velocity": round(velocity, 3),
                    "account_age_days": None if age_days is None else round(age_days, 2), "updated_at": now})
    stmt = store._insert(case_review)
    stmt = stmt.on_conflict_do_update(index_elements=["case_id"], set_={
        k: getattr(stmt.excluded, k) for k in ("severity", "reach", "score", "followers", "reposts",
                                                "repost_velocity", "account_age_days", "updated_at")})
    conn.execute(stmt, out)
