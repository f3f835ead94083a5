"""Evidence preservation: before a removal, suspension or escalation reaches the platform, Seawall
keeps its own copy of what was acted on, under a retention hold.

The copy is one JSON document: the action, every event behind it (the action's own event and the
other events of its case, up to `max_events`) with its stored payload, the SHA-256 of that stored
payload, the verdict and every signal hit with its evidence, the case and the account. Media bytes
are never stored by Seawall, so media is preserved as the hashes in the payload (SHA-256, MD5, PDQ).
The document's SHA-256 is stored beside it and kept after a purge, so a copy produced later can be
checked against it.

Holds are written when the action enters the outbox, in the same transaction, so no action is ever
delivered (and the content taken down) before its evidence is committed. A hold lasts until
`hold_until` (action creation + `retention_days`); a legal hold keeps it regardless. Nothing is
purged automatically: only `seawall actions purge-expired` deletes the copy of expired holds, and it
leaves the row (hash, dates) as a record that the evidence existed.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any, Mapping, Sequence

import orjson
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.engine import Connection, Engine

from seawall.actions.schema import evidence_holds
from seawall.actions.settings import EvidenceSettings
from seawall.storage.rows import _chunks, _now, _plain, _utc
from seawall.storage.schema import accounts, case_events, cases, events, signal_hits, verdicts

FORMAT = "seawall.evidence/1"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _canonical(doc: dict[str, Any]) -> bytes:
    return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)


def _iso(v: datetime | None) -> str | None:
    return _utc(v).isoformat() if v is not None else None


def build_documents(conn: Connection, rows: Sequence[Mapping[str, Any]], settings: EvidenceSettings
                    ) -> dict[int, dict[str, Any]]:
    """The evidence for several action rows (by action id), read inside the caller's transaction
    with one query per table rather than per action."""
    pks_of: dict[int, list[int]] = {}
    for a in rows:
        pks_of[a["id"]] = [a["event_pk"]] if a["event_pk"] is not None else []
    case_ids = sorted({a["case_id"] for a in rows if a["case_id"] is not None})
    case_pks: dict[int, list[int]] = {}
    case_rows: dict[int, dict[str, Any]] = {}
    for chunk in _chunks(case_ids):
        q = select(case_events.c.case_id, case_events.c.event_pk).where(case_events.c.case_id.in_(chunk))
        for cid, pk in conn.execute(q.order_by(case_events.c.case_id, case_events.c.event_pk)):
            case_pks.setdefault(cid, []).append(pk)
        for r in conn.execute(select(cases).where(cases.c.id.in_(chunk))).mappings():
            case = _plain(r)
            case["labels"], case["rules"] = orjson.loads(case["labels"]), orjson.loads(case["rules"])
            case_rows[r["id"]] = case
    for a in rows:
        pks = pks_of[a["id"]]
        pks.extend(pk for pk in case_pks.get(a["case_id"], ()) if pk not in pks)
        del pks[settings.max_events:]
    all_pks = sorted({pk for pks in pks_of.values() for pk in pks})
    evs: dict[int, Any] = {}
    verdict_rows: dict[int, Any] = {}
    hits: dict[int, list[dict[str, Any]]] = {}
    for chunk in _chunks(all_pks):
        evs.update((r["pk"], r) for r in conn.execute(select(events).where(events.c.pk.in_(chunk))).mappings())
        verdict_rows.update((r["event_pk"], r) for r in
                            conn.execute(select(verdicts).where(verdicts.c.event_pk.in_(chunk))).mappings())
        q = select(signal_hits).where(signal_hits.c.event_pk.in_(chunk)).order_by(signal_hits.c.id)
        for h in conn.execute(q).mappings():
            hits.setdefault(h["event_pk"], []).append({
                "signal": h["signal"], "version": h["version"], "label": h["label"], "score": h["score"],
                "evidence": orjson.loads(h["evidence"]),
            })
    documented = {pk: _event_doc(evs[pk], verdict_rows.get(pk), hits.get(pk, [])) for pk in all_pks if pk in evs}
    account_of: dict[int, str | None] = {}
    for a in rows:
        if a["subject_type"] == "account":
            account_of[a["id"]] = a["subject_id"]
        else:
            account_of[a["id"]] = next((documented[pk]["account_id"] for pk in pks_of[a["id"]]
                                        if pk in documented and documented[pk]["account_id"]), None)
    account_rows: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(sorted({x for x in account_of.values() if x})):
        account_rows.update((r["id"], _plain(r)) for r in conn.execute(select(accounts).where(accounts.c.id.in_(chunk))).mappings())
    out = {}
    for a in rows:
        acct = account_of[a["id"]]
        out[a["id"]] = {
            "format": FORMAT,
            "action": {
                "id": a["id"], "idempotency_key": a["idempotency_key"], "kind": a["kind"],
                "subject": {"type": a["subject_type"], "id": a["subject_id"]},
                "case_id": a["case_id"], "rule": a["rule"], "created_at": _iso(a["created_at"]),
            },
            "events": [documented[pk] for pk in pks_of[a["id"]] if pk in documented],
            "account": None if acct is None else account_rows.get(acct, {"id": acct}),
            "case": case_rows.get(a["case_id"]) if a["case_id"] is not None else None,
        }
    return out


def _event_doc(e: Any, v: Any, hits: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "pk": e["pk"],
        "key": e["key"],
        "type": e["type"],
        "subject": {"type": e["subject_type"], "id": e["subject_id"]},
        "account_id": e["account_id"],
        "occurred_at": _iso(e["occurred_at"]),
        "received_at": _iso(e["received_at"]),
        "source": e["source"],
        "lang": e["lang"],
        "payload": orjson.loads(e["payload"]),
        "payload_sha256": _sha256(e["payload"].encode()),
        "verdict": None if v is None else {
            "verdict": v["verdict"], "actions": orjson.loads(v["actions"]), "labels": orjson.loads(v["labels"]),
            "rules": orjson.loads(v["rules"]), "policy_version": v["policy_version"],
            "decided_at": _iso(v["decided_at"]),
        },
        "signals": hits,
    }


def preserve_many(conn: Connection, rows: Sequence[Mapping[str, Any]], settings: EvidenceSettings, insert: Any,
                  now: datetime | None = None) -> int:
    """Write the holds for these action rows (inside the caller's transaction), skipping actions that
    have one already. `insert` is the dialect's insert (for ON CONFLICT DO NOTHING). Returns how
    many were written."""
    if not rows:
        return 0
    now = now or _now()
    values = []
    by_id = {r["id"]: r for r in rows}
    for action_id, doc in build_documents(conn, rows, settings).items():
        a = by_id[action_id]
        doc["preserved_at"] = now.isoformat()
        data = _canonical(doc)
        created = _utc(a["created_at"]) or now
        values.append({
            "action_id": action_id, "subject_type": a["subject_type"], "subject_id": a["subject_id"],
            "payload": data.decode(), "sha256": _sha256(data), "size_bytes": len(data), "preserved_at": now,
            "hold_until": created + timedelta(days=settings.retention_days), "legal_hold": False,
        })
    stmt = insert(evidence_holds).on_conflict_do_nothing(index_elements=["action_id"]).returning(evidence_holds.c.id)
    return len(conn.execute(stmt, values).all())


def _audit(conn: Connection, actor: str, action: str, action_id: int, details: dict[str, Any]) -> None:
    from seawall.audit import record

    record(conn, actor=actor, action=action, target=f"action:{action_id}", details=details)


def get_hold(engine: Engine, action_id: int, actor: str | None = None) -> dict[str, Any] | None:
    """The hold of an action with its document and whether the document still matches its hash.
    With `actor`, the view (of content) is written to the audit log."""
    with engine.begin() as conn:
        row = conn.execute(select(evidence_holds).where(evidence_holds.c.action_id == action_id)).mappings().first()
        if row is not None and actor:
            _audit(conn, actor, "evidence.view", action_id, {"sha256": row["sha256"]})
    if row is None:
        return None
    out = _plain(row)
    payload = out.pop("payload")
    out["purged"] = payload is None
    out["intact"] = None if payload is None else _sha256(payload.encode()) == row["sha256"]
    out["document"] = None if payload is None else orjson.loads(payload)
    return out


def set_legal_hold(engine: Engine, action_id: int, on: bool, reason: str | None = None,
                   actor: str | None = None) -> bool:
    """Set or release a legal hold (kept past `hold_until` until released). False if there is no
    hold for that action, or it was already purged."""
    with engine.begin() as conn:
        res = conn.execute(
            update(evidence_holds)
            .where(and_(evidence_holds.c.action_id == action_id, evidence_holds.c.purged_at.is_(None)))
            .values(legal_hold=on, legal_hold_reason=reason if on else None)
        )
        if res.rowcount and actor:
            _audit(conn, actor, "evidence.legal_hold" if on else "evidence.release", action_id, {"reason": reason})
    return res.rowcount > 0


def purge_expired(engine: Engine, now: datetime | None = None, dry_run: bool = False,
                  actor: str | None = None) -> list[int]:
    """Delete the preserved copy of every hold past `hold_until` without a legal hold; keep the row
    (subject, hash, dates, purged_at). Returns the action ids purged (or that would be)."""
    now = now or _now()
    due = and_(evidence_holds.c.hold_until < now, evidence_holds.c.legal_hold.is_(False),
               evidence_holds.c.purged_at.is_(None))
    with engine.begin() as conn:
        ids = list(conn.execute(select(evidence_holds.c.action_id).where(due).order_by(evidence_holds.c.action_id)).scalars())
        if not dry_run:
            for chunk in _chunks(ids):
                conn.execute(update(evidence_holds).where(and_(due, evidence_holds.c.action_id.in_(chunk)))
                             .values(payload=None, purged_at=now))
            if actor:
                for action_id in ids:
                    _audit(conn, actor, "evidence.purge", action_id, {})
    return ids


def hold_counts(engine: Engine, now: datetime | None = None) -> dict[str, int]:
    now = now or _now()
    live = evidence_holds.c.purged_at.is_(None)
    with engine.connect() as conn:
        def count(where: Any) -> int:
            return int(conn.execute(select(func.count()).select_from(evidence_holds).where(where)).scalar() or 0)
        return {
            "held": count(and_(live, or_(evidence_holds.c.hold_until >= now, evidence_holds.c.legal_hold.is_(True)))),
            "legal_hold": count(and_(live, evidence_holds.c.legal_hold.is_(True))),
            "expired": count(and_(live, evidence_holds.c.hold_until < now, evidence_holds.c.legal_hold.is_(False))),
            "purged": count(evidence_holds.c.purged_at.isnot(None)),
        }
