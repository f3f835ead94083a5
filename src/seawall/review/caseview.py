"""Everything a reviewer needs on one case: the post and its account, the account's history, each
signal's evidence (watch terms, classifier n-grams, targets, bank entries, linked accounts),
notes, decisions, appeals and the media (ids only: the pictures come through the media routes)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import orjson
from sqlalchemy import and_, select

from seawall.review.media import media_of_case
from seawall.review.people import display_names
from seawall.review.queues import _base, _decorate
from seawall.review.schema import account_reach, appeals, case_decisions, case_notes
from seawall.review.settings import ReviewSettings
from seawall.review.workflow import open_appeal
from seawall.storage.schema import accounts, cases, events

HISTORY = 25


def _iso(v: Any) -> Any:
    if isinstance(v, datetime):
        return (v if v.tzinfo else v.replace(tzinfo=timezone.utc)).isoformat()
    return v


def case_view(store: Any, settings: ReviewSettings, case_id: int) -> dict[str, Any] | None:
    case = store.get_case(case_id)
    if case is None:
        return None
    with store.engine.connect() as conn:
        row = conn.execute(_base(cases.c.id == case_id)).mappings().first()
        review = _decorate(conn, settings, [dict(row)], None)[0]
        notes = [dict(r) for r in conn.execute(select(case_notes).where(case_notes.c.case_id == case_id)
                                                .order_by(case_notes.c.id)).mappings()]
        decisions = [dict(r) for r in conn.execute(select(case_decisions).where(case_decisions.c.case_id == case_id)
                                                    .order_by(case_decisions.c.id)).mappings()]
        appeal_rows = [dict(r) for r in conn.execute(select(appeals).where(appeals.c.case_id == case_id)
                                                      .order_by(appeals.c.id)).mappings()]
        account = _account(conn, case["account_id"], case_id) if case["account_id"] else None
        media = media_of_case(conn, case_id)
        actors = {n["actor"] for n in notes} | {d["actor"] for d in decisions} | {
            d["confirmed_by"] for d in decisions if d["confirmed_by"]} | {a["resolved_by"] for a in appeal_rows if a["resolved_by"]}
        names = display_names(conn, actors)
        current_appeal = open_appeal(conn, case_id)
    for n in notes:
        n["actor_name"] = names.get(n["actor"])
        n["created_at"] = _iso(n["created_at"])
    for d in decisions:
        d["actor_name"] = names.get(d["actor"])
        d["confirmed_by_name"] = names.get(d["confirmed_by"]) if d["confirmed_by"] else None
        d["action_ids"] = orjson.loads(d["action_ids"])
        d["created_at"], d["decided_at"] = _iso(d["created_at"]), _iso(d["decided_at"])
    for a in appeal_rows:
        a.pop("key", None)
        a["resolved_by_name"] = names.get(a["resolved_by"]) if a["resolved_by"] else None
        a["created_at"], a["resolved_at"] = _iso(a["created_at"]), _iso(a["resolved_at"])
    evidence = _evidence(case["events"])
    media_by_event: dict[str, list[dict[str, Any]]] = {}
    for m in media:
        media_by_event.setdefault(str(m["event_pk"]), []).append(m)
    return {
        **case,
        "campaign": _campaign(store, case_id) if case["subject"]["type"] == "campaign" else None,
        "review": review,
        "notes": notes,
        "decisions": decisions,
        "appeals": appeal_rows,
        "open_appeal_id": current_appeal["id"] if current_appeal else None,
        "account": account,
        "media": media,
        "evidence": evidence,
    }


def _campaign(store: Any, case_id: int) -> dict[str, Any] | None:
    """A campaign case's member posts and accounts (seawall.campaigns), for bulk decisions."""
    try:
        from seawall.campaigns.store import campaign_members

        return campaign_members(store, case_id, limit=500)
    except (ImportError, LookupError):
        return None


def _account(conn: Any, account_id: str, case_id: int) -> dict[str, Any]:
    acct = conn.execute(select(accounts).where(accounts.c.id == account_id)).mappings().first()
    reach = conn.execute(select(account_reach).where(account_reach.c.account_id == account_id)).mappings().first()
    profile = conn.execute(select(events.c.payload).where(and_(
        events.c.type == "account", events.c.subject_type == "account", events.c.subject_id == account_id))
        .order_by(events.c.pk.desc()).limit(1)).scalar()
    history = conn.execute(select(events.c.key, events.c.type, events.c.occurred_at, events.c.payload)
                           .where(events.c.account_id == account_id)
                           .order_by(events.c.occurred_at.desc(), events.c.pk.desc()).limit(HISTORY)).all()
    other_cases = conn.execute(select(cases.c.id, cases.c.status, cases.c.verdict, cases.c.queue, cases.c.subject_type,
                                      cases.c.subject_id, cases.c.opened_at)
                               .where(and_(cases.c.account_id == account_id, cases.c.id != case_id))
                               .order_by(cases.c.id.desc()).limit(HISTORY)).mappings().all()
    p = orjson.loads(profile) if profile else {}
    return {
        "id": account_id,
        "handle": (acct["handle"] if acct else None) or p.get("handle"),
        "display_name": (acct["display_name"] if acct else None) or p.get("display_name"),
        "status": acct["status"] if acct else "unknown",
        "created_at": _iso(acct["created_at"]) if acct else p.get("created_at"),
        "suspended_at": _iso(acct["suspended_at"]) if acct else None,
        "restore_count": acct["restore_count"] if acct else 0,
        "followers": reach["followers"] if reach else p.get("followers_count"),
        "bio": p.get("bio"),
        "verified": p.get("verified"),
        "history": [{"key": h.key, "type": h.type, "occurred_at": _iso(h.occurred_at),
                     "text": (orjson.loads(h.payload).get("text") or orjson.loads(h.payload).get("action") or "")[:280]}
                    for h in history],
        "cases": [{k: _iso(v) for k, v in dict(c).items()} for c in other_cases],
    }


def _evidence(evs: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The signals' evidence, gathered by kind for the console's evidence panel."""
    out: dict[str, list[dict[str, Any]]] = {"watchterms": [], "classifier": [], "targets": [], "banks": [],
                                             "links": [], "linked_accounts": [], "other": []}
    for e in evs:
        for h in e["signals"]:
            ev = h.get("evidence") or {}
            item = {"event": e["key"], "label": h["label"], "score": h["score"], "evidence": ev}
            sig = h["signal"]
            if sig == "watchterms":
                out["watchterms"].append(item)
            elif sig == "classifier":
                out["classifier"].append(item)
            elif sig == "targets":
                out["targets"].append(item)
            elif sig == "hashbank":
                out["banks"].append(item)
            elif sig == "linkdomain":
                out["links"].append(item)
            elif sig == "account_link" or h["label"] == "returning_account" or "linked_accounts" in ev:
                out["linked_accounts"].append(item)
            else:
                out["other"].append({**item, "signal": sig})
    return out
