"""Writing and verifying the audit hash chain.

Each row's hash covers its own fields and the previous row's hash, so editing a row breaks its
hash, deleting or reordering rows breaks the chain, and deleting the newest rows disagrees with the
head row. Someone able to rewrite the whole table and the head could recompute a consistent chain;
two defences against that: a secret chain key (`SEAWALL_AUDIT_KEY`: the hash becomes an HMAC that
cannot be recomputed without it) and anchors (`seawall audit anchor` prints the head, to be kept
outside the database, and `seawall audit verify --anchor SEQ:HASH` checks the log still contains
it).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterator

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from seawall.audit.schema import audit_head, audit_log

GENESIS = "0" * 64
KEY_ENV = "SEAWALL_AUDIT_KEY"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    at: datetime
    actor: str
    action: str
    target: str
    details: dict[str, Any]
    prev_hash: str
    hash: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
            "details": self.details,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


@dataclass(frozen=True, slots=True)
class Problem:
    seq: int | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "reason": self.reason}


def _canonical(details: dict[str, Any]) -> str:
    return json.dumps(details, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _stamp(at: datetime) -> str:
    # Microsecond UTC text: both databases give the same value back, so the hash is stable.
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _hash(key: bytes | None, prev: str, seq: int, at: datetime, actor: str, action: str, target: str,
          details: str) -> str:
    material = "\x1f".join((prev, str(seq), _stamp(at), actor, action, target, details)).encode()
    if key:
        return hmac.new(key, material, hashlib.sha256).hexdigest()
    return hashlib.sha256(material).hexdigest()


def _chain_key() -> bytes | None:
    value = os.environ.get(KEY_ENV, "")
    return value.encode() if value else None


def _check(name: str, value: str, limit: int) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"audit {name}: must be a non-empty string")
    if len(value) > limit:
        raise ValueError(f"audit {name}: longer than {limit} characters")
    return value


def record(
    conn: Connection,
    *,
    actor: str,
    action: str,
    target: str,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> int:
    """Append one entry inside the caller's transaction; returns its sequence number."""
    _check("actor", actor, 200)
    _check("action", action, 64)
    _check("target", target, 300)
    body = _canonical(details or {})
    # Drop sub-microsecond precision and timezone differences before hashing.
    at = (at or datetime.now(timezone.utc)).astimezone(timezone.utc)
    # Take the head's lock first (see schema): concurrent writers queue here, so each sees the
    # previous writer's row.
    bump = update(audit_head).where(audit_head.c.id == 1).values(last_seq=audit_head.c.last_seq + 1)
    if conn.execute(bump).rowcount == 0:
        # The migration creates the head row; it is only missing from a database emptied by hand
        # (e.g. TRUNCATE in tests), where the log starts again from the genesis. If rows remain
        # (the head was deleted), the insert of row 1 below fails: the log is never silently restarted.
        _insert_head(conn)
        conn.execute(bump)
    seq, prev = conn.execute(select(audit_head.c.last_seq, audit_head.c.last_hash)
                             .where(audit_head.c.id == 1)).one()
    digest = _hash(_chain_key(), prev, seq, at, actor, action, target, body)
    conn.execute(audit_log.insert().values(seq=seq, at=at, actor=actor, action=action, target=target,
                                           details=body, prev_hash=prev, hash=digest))
    conn.execute(update(audit_head).where(audit_head.c.id == 1).values(last_hash=digest))
    return int(seq)


def _insert_head(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    conn.execute(insert(audit_head).values(id=1, last_seq=0, last_hash=GENESIS).on_conflict_do_nothing())


def record_store(store: Any, **fields: Any) -> int:
    """`record` in a transaction of its own, for callers that change nothing else in the database."""
    with store.engine.begin() as conn:
        return record(conn, **fields)


def _entry(row: Any) -> AuditEntry:
    at = row.at if row.at.tzinfo else row.at.replace(tzinfo=timezone.utc)
    return AuditEntry(seq=int(row.seq), at=at, actor=row.actor, action=row.action, target=row.target,
                      details=json.loads(row.details), prev_hash=row.prev_hash, hash=row.hash)


def entries(
    store: Any,
    *,
    target: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    after_seq: int = 0,
    limit: int = 100,
) -> list[AuditEntry]:
    query = select(audit_log).where(audit_log.c.seq > after_seq)
    if target:
        query = query.where(audit_log.c.target == target)
    if actor:
        query = query.where(audit_log.c.actor == actor)
    if action:
        query = query.where(audit_log.c.action == action)
    with store.engine.connect() as conn:
        rows = conn.execute(query.order_by(audit_log.c.seq).limit(limit)).all()
    return [_entry(r) for r in rows]


def _all_rows(conn: Connection, page: int = 5000) -> Iterator[Any]:
    last = 0
    while True:
        rows = conn.execute(select(audit_log).where(audit_log.c.seq > last)
                            .order_by(audit_log.c.seq).limit(page)).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def verify(store: Any, anchors: list[tuple[int, str]] | None = None, max_problems: int = 100) -> dict[str, Any]:
    """Recompute the chain. Returns {"ok", "entries", "head", "problems": [...]} naming each bad row."""
    key = _chain_key()
    problems: list[Problem] = []
    wanted = dict(anchors or [])
    seen_anchors: set[int] = set()
    prev, expected_seq, count = GENESIS, 1, 0

    def problem(seq: int | None, reason: str) -> None:
        if len(problems) < max_problems:
            problems.append(Problem(seq, reason))

    with store.engine.connect() as conn:
        for row in _all_rows(conn):
            count += 1
            seq = int(row.seq)
            if seq != expected_seq:
                problem(seq, f"rows {expected_seq}..{seq - 1} are missing (deleted)" if seq > expected_seq
                        else f"sequence goes back to {seq} after {expected_seq - 1}")
            if row.prev_hash != prev:
                problem(seq, "prev_hash does not match the previous row's hash (a row before it was "
                             "edited, deleted or inserted)")
            at = row.at if row.at.tzinfo else row.at.replace(tzinfo=timezone.utc)
            if _hash(key, row.prev_hash, seq, at, row.actor, row.action, row.target, row.details) != row.hash:
                problem(seq, "hash does not match the row's contents (the row was edited)")
            if seq in wanted:
                seen_anchors.add(seq)
                if wanted[seq] != row.hash:
                    problem(seq, "differs from the anchor kept outside the database")
            prev, expected_seq = row.hash, seq + 1
        head = conn.execute(select(audit_head.c.last_seq, audit_head.c.last_hash)
                            .where(audit_head.c.id == 1)).first()
    last_seq = expected_seq - 1
    if head is None:
        if count:
            problem(None, "the head row is missing")
    else:
        if int(head.last_seq) != last_seq:
            problem(int(head.last_seq), f"the head says the log ends at row {head.last_seq}, "
                                        f"but the last row is {last_seq} (newest rows deleted?)")
        elif head.last_hash != prev:
            problem(last_seq, "the head's hash differs from the last row's (last row replaced?)")
    for seq in sorted(set(wanted) - seen_anchors):
        problem(seq, "anchored row is missing")
    return {
        "ok": not problems,
        "entries": count,
        "head": {"seq": last_seq, "hash": prev},
        "keyed": key is not None,
        "problems": [p.as_dict() for p in problems],
    }
