"""The Store on SQLAlchemy Core: one implementation, two databases (SQLite embedded, PostgreSQL).

Dialect differences are confined to `_insert` (upserts) and engine set-up in the two subclasses.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING, Any, Iterable, Sequence

import orjson
from sqlalchemy import and_, bindparam, func, select, update
from sqlalchemy.engine import Connection, Engine

from seawall.review.media import keep_case_media
from seawall.review.priority import record_reach, score_cases
from seawall.storage import migrate as migrations
from seawall.storage.reads import SqlReads
from seawall.storage.rows import _chunks, _json, _now, _ts, _utc
from seawall.storage.base import ApiKey, CommitSummary, DeadLetter, InboxRow, Store
from seawall.storage.schema import (
    accounts,
    actions,
    api_keys,
    case_events,
    cases,
    dead_letters,
    events,
    inbox,
    signal_hits,
    verdicts,
)

if TYPE_CHECKING:
    from seawall.pipeline.result import ProcessedEvent

# Verdicts that open (or merge into) a case. "label" only annotates the event.
CASE_VERDICTS = {"queue", "remove", "suspend", "escalate"}
SEVERITY = {"allow": 0, "label": 1, "queue": 2, "remove": 3, "suspend": 4, "escalate": 5}
class SqlStore(SqlReads, Store):
    """The store over SQLAlchemy Core; `dialects.py` holds the SQLite and PostgreSQL subclasses
    (engine set-up, upserts, the SQLite fast path)."""

    dialect_insert: Any = None

    def __init__(self, url: str, engine: Engine):
        self.url = url
        self.engine = engine

    # -- lifecycle ---------------------------------------------------------------------------
    def migrate(self) -> None:
        migrations.upgrade(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def _insert(self, table: Any) -> Any:
        return self.dialect_insert(table)

    # -- pipeline ----------------------------------------------------------------------------
    def known_keys(self, keys: Sequence[str]) -> set[str]:
        found: set[str] = set()
        if not keys:
            return found
        with self.engine.connect() as conn:
            for chunk in _chunks(list(keys)):
                found.update(conn.execute(select(events.c.key).where(events.c.key.in_(chunk))).scalars())
        return found

    def commit_batch(self, results: Sequence[ProcessedEvent]) -> CommitSummary:
        summary = CommitSummary()
        if not results:
            return summary
        # The same key twice in one batch is one event.
        unique: dict[str, ProcessedEvent] = {}
        for r in results:
            unique.setdefault(r.item.key, r)
        summary.duplicates = len(results) - len(unique)
        batch = list(unique.values())
        with self.engine.begin() as conn:
            pks = self._insert_events(conn, batch)
            summary.duplicates += len(batch) - len(pks)
            stored = [r for r in batch if r.item.key in pks]
            summary.stored = len(stored)
            summary.hits = self._insert_hits(conn, stored, pks)
            self._insert_verdicts(conn, stored, pks)
            self._apply_account_state(conn, stored)
            record_reach(self, conn, stored)  # priority inputs: followers, reposts (seawall.review)
            opened, merged, created = self._open_cases_and_actions(conn, stored, pks)
            summary.cases_opened, summary.cases_merged, summary.actions_created = opened, merged, created
        summary.verdicts = dict(Counter(r.decision.verdict for r in stored))
        return summary

    def add_findings(
        self, conn: Connection, processed: Sequence[ProcessedEvent], pks: dict[str, int]
    ) -> tuple[int, int, int]:
        """New signal hits on events stored earlier (a retroactive sweep): store the hits and open or
        merge cases and actions exactly as `commit_batch` would, inside the caller's transaction
        (so the caller's own progress is committed with them). Returns (opened, merged, actions)."""
        stored = list(processed)
        self._insert_hits(conn, stored, pks)
        return self._open_cases_and_actions(conn, stored, pks)

    def _insert_events(self, conn: Connection, batch: list[ProcessedEvent]) -> dict[str, int]:
        now = _now()
        rows = []
        stamps: dict[float, datetime] = {}
        for r in batch:
            ev = r.item.event
            received = stamps.get(r.item.received_at) or stamps.setdefault(r.item.received_at, _ts(r.item.received_at))
            subject_type, subject_id = ev.subject
            rows.append(
                {
                    "key": r.item.key,
                    "type": ev.type,
                    "subject_type": subject_type,
                    "subject_id": subject_id,
                    "account_id": _account_of(ev),
                    "occurred_at": ev.occurred_at,
                    "received_at": received,
                    "processed_at": now,
                    "source": r.source[:64],
                    "lang": r.item.lang,
                    "payload": ev.model_dump_json(exclude_none=True),
                }
            )
        return self._insert_new_events(conn, rows)

    def _insert_new_events(self, conn: Connection, rows: list[dict[str, Any]]) -> dict[str, int]:
        """Insert event rows, skipping keys already stored; returns key -> pk of those inserted."""
        stmt = (
            self._insert(events)
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(events.c.pk, events.c.key)
        )
        return {key: pk for pk, key in conn.execute(stmt, rows).all()}

    def _bulk_insert(self, conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
        conn.execute(table.insert(), rows)

    def _insert_hits(self, conn: Connection, stored: list[ProcessedEvent], pks: dict[str, int]) -> int:
        rows = [
            {
                "event_pk": pks[r.item.key],
                "signal": h.signal,
                "version": h.version,
                "label": h.label,
                "score": h.score,
                "evidence": _json(h.evidence),
            }
            for r in stored
            for h in r.hits
        ]
        if rows:
            self._bulk_insert(conn, signal_hits, rows)
        return len(rows)

    def _insert_verdicts(self, conn: Connection, stored: list[ProcessedEvent], pks: dict[str, int]) -> None:
        rows = []
        stamps: dict[float, datetime] = {}
        for r in stored:
            d = r.decision
            decided = stamps.get(r.decided_at) or stamps.setdefault(r.decided_at, _ts(r.decided_at))
            row = {
                "event_pk": pks[r.item.key],
                "verdict": d.verdict,
                "actions": "[]",
                "queue": d.queue,
                "priority": int(d.priority),
                "labels": "[]",
                "rules": "[]",
                "shadow": "[]",
                "policy_version": r.policy_version[:64],
                "decided_at": decided,
                "latency_ms": r.latency_ms,
            }
            if d.matched or d.shadow or d.labels:  # most events match nothing: skip the encoding
                body = d.as_dict()
                row.update(
                    actions=_json(list(d.actions)),
                    labels=_json(list(d.labels)),
                    rules=_json(body["matched"]),
                    shadow=_json(body["shadow"]),
                )
            rows.append(row)
        if rows:
            self._bulk_insert(conn, verdicts, rows)

    def _apply_account_state(self, conn: Connection, stored: list[ProcessedEvent]) -> None:
        profiles: dict[str, dict[str, Any]] = {}
        for r in stored:
            ev = r.item.event
            if ev.type == "account":
                profiles[ev.id] = {
                    "id": ev.id,
                    "handle": ev.handle,
                    "display_name": ev.display_name,
                    "status": "active",
                    "created_at": ev.created_at,
                    "updated_at": ev.occurred_at,
                }
        if profiles:
            stmt = self._insert(accounts)
            stmt = stmt.on_conflict_do_update(
                index_elements=["id"],
                set_={
                    "handle": stmt.excluded.handle,
                    "display_name": stmt.excluded.display_name,
                    "updated_at": stmt.excluded.updated_at,
                },
            )
            conn.execute(stmt, list(profiles.values()))
        for r in stored:
            ev = r.item.event
            if ev.type == "enforcement" and ev.account_id and ev.action in ("suspend", "restore"):
                self._set_account_status(conn, ev.account_id, ev.action, ev.at)
            if "suspend" in r.decision.actions and (acct := _account_of(ev)):
                self._set_account_status(conn, acct, "suspend", _ts(r.decided_at))

    def _set_account_status(self, conn: Connection, account_id: str, action: str, at: datetime) -> None:
        suspended = action == "suspend"
        stmt = self._insert(accounts).values(
            id=account_id,
            status="suspended" if suspended else "active",
            updated_at=at,
            suspended_at=at if suspended else None,
        )
        set_: dict[str, Any] = {"status": stmt.excluded.status, "updated_at": stmt.excluded.updated_at}
        if suspended:
            set_["suspended_at"] = stmt.excluded.suspended_at
        else:
            set_["restore_count"] = accounts.c.restore_count + 1
        conn.execute(stmt.on_conflict_do_update(index_elements=["id"], set_=set_))

    def _open_cases_and_actions(
        self, conn: Connection, stored: list[ProcessedEvent], pks: dict[str, int]
    ) -> tuple[int, int, int]:
        """Merge each case-worthy event into its subject's open case, or open one. Cases are
        merged in memory for the whole batch and written with one statement per kind of change."""
        wanted = [r for r in stored if r.decision.verdict in CASE_VERDICTS]
        if not wanted:
            return 0, 0, 0
        now = _now()
        subjects = {r.item.event.subject for r in wanted}
        self._lock_subjects(conn, subjects)
        open_cases = self._open_cases_for(conn, subjects)
        fresh: dict[tuple[str, str], dict[str, Any]] = {}
        touched: dict[int, dict[str, Any]] = {}
        target: list[tuple[ProcessedEvent, Any]] = []
        opened = merged = 0
        for r in wanted:
            d = r.decision
            subject = r.item.event.subject
            case = open_cases.get(subject)
            if case is not None:
                touched[case["id"]] = case
            else:
                case = fresh.get(subject)
            if case is None:
                fresh[subject] = case = {
                    "subject_type": subject[0], "subject_id": subject[1],
                    "account_id": _account_of(r.item.event), "status": "actioned", "queue": None,
                    "priority": 0, "verdict": "allow", "labels": [], "rules": [], "event_count": 0,
                    "opened_at": now, "updated_at": now,
                }
                opened += 1
            else:
                merged += 1
            _merge_into_case(case, d, now)
            target.append((r, case))
        if fresh:
            rows = [{**c, "labels": _json(c["labels"]), "rules": _json(c["rules"])} for c in fresh.values()]
            stmt = cases.insert().returning(cases.c.id, sort_by_parameter_order=True)
            for case, case_id in zip(fresh.values(), conn.execute(stmt, rows).scalars().all()):
                case["id"] = case_id
        if touched:
            stmt = (
                update(cases)
                .where(cases.c.id == bindparam("b_id"))
                .values({k: bindparam(f"b_{k}") for k in _CASE_MUTABLE})
            )
            conn.execute(stmt, [
                {"b_id": c["id"], **{f"b_{k}": _json(c[k]) if k in ("labels", "rules") else c[k] for k in _CASE_MUTABLE}}
                for c in touched.values()
            ])
        links = {pks[r.item.key]: case["id"] for r, case in target}
        conn.execute(
            self._insert(case_events).on_conflict_do_nothing(),
            [{"case_id": cid, "event_pk": epk} for epk, cid in links.items()],
        )
        created = self._create_actions(conn, wanted, pks, links)
        # Review: priority = severity x reach, and the media reviewers will need to see.
        score_cases(self, conn, {case["id"] for _, case in target})
        keep_case_media(self, conn, target, pks)
        return opened, merged, created

    def _lock_subjects(self, conn: Connection, subjects: set[tuple[str, str]]) -> None:
        """Hold the subjects' case locks until the transaction ends, so that concurrent writers
        (stream workers) neither both open a case for one subject nor overwrite each other's merge.
        Nothing to do on SQLite, which has one writer at a time; PostgreSQL overrides this."""

    def _open_cases_for(self, conn: Connection, subjects: set[tuple[str, str]]) -> dict[tuple[str, str], dict]:
        found: dict[tuple[str, str], dict] = {}
        by_type: dict[str, list[str]] = {}
        for st, sid in subjects:
            by_type.setdefault(st, []).append(sid)
        for st, ids in by_type.items():
            for chunk in _chunks(ids):
                q = select(cases).where(
                    and_(cases.c.subject_type == st, cases.c.subject_id.in_(chunk), cases.c.status == "open")
                )
                for row in conn.execute(q).mappings():
                    case = dict(row)
                    case["labels"] = orjson.loads(case["labels"])
                    case["rules"] = orjson.loads(case["rules"])
                    found[(row["subject_type"], row["subject_id"])] = case
        return found

    def _create_actions(
        self, conn: Connection, wanted: list[ProcessedEvent], pks: dict[str, int], case_of: dict[int, int]
    ) -> int:
        now = _now()
        rows: dict[str, dict[str, Any]] = {}
        restores: dict[str, int] = {}
        for r in wanted:
            ev = r.item.event
            event_pk = pks[r.item.key]
            rule_by_verdict = {m.get("verdict"): m.get("rule") for m in reversed(r.decision.as_dict().get("matched", []))}
            for kind in r.decision.actions:
                if kind not in ("remove", "suspend", "escalate"):
                    continue
                if kind == "suspend":
                    account = _account_of(ev)
                    if not account:
                        continue
                    if account not in restores:
                        restores[account] = self._restore_count(conn, account)
                    subject = ("account", account)
                    key = f"suspend:account:{account}:{restores[account]}"
                elif kind == "remove":
                    subject = ev.subject
                    key = f"remove:{subject[0]}:{subject[1]}"
                else:
                    subject = ev.subject
                    key = f"escalate:{subject[0]}:{subject[1]}:{case_of[event_pk]}"
                rows.setdefault(
                    key,
                    {
                        "idempotency_key": key[:400],
                        "kind": kind,
                        "subject_type": subject[0],
                        "subject_id": subject[1],
                        "event_pk": event_pk,
                        "case_id": case_of[event_pk],
                        "rule": rule_by_verdict.get(kind),
                        "status": "pending",
                        "attempts": 0,
                        "created_at": now,
                        "updated_at": now,
                    },
                )
        if not rows:
            return 0
        stmt = (
            self._insert(actions)
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
            .returning(actions.c.id)
        )
        return len(conn.execute(stmt, list(rows.values())).all())

    def _restore_count(self, conn: Connection, account_id: str) -> int:
        value = conn.execute(select(accounts.c.restore_count).where(accounts.c.id == account_id)).scalar()
        return int(value or 0)

    # -- durable intake queue ----------------------------------------------------------------
    def enqueue(self, rows: Sequence[tuple[str, str, str]]) -> tuple[int, int]:
        if not rows:
            return 0, 0
        now = _now()
        unique = {key: (key, source, payload) for key, source, payload in rows}
        processed = self.known_keys(list(unique))
        fresh = [
            {"key": k, "source": s[:64], "payload": p, "received_at": now, "attempts": 0}
            for k, s, p in unique.values()
            if k not in processed
        ]
        accepted = 0
        if fresh:
            stmt = self._insert(inbox).on_conflict_do_nothing(index_elements=["key"]).returning(inbox.c.id)
            with self.engine.begin() as conn:
                accepted = len(conn.execute(stmt, fresh).all())
        return accepted, len(rows) - accepted

    def inbox_batch(self, limit: int, after_id: int = 0) -> list[InboxRow]:
        with self.engine.connect() as conn:
            q = select(inbox).where(inbox.c.id > after_id).order_by(inbox.c.id).limit(limit)
            rows = conn.execute(q).mappings().all()
        return [
            InboxRow(r["id"], r["key"], r["source"], r["payload"], _utc(r["received_at"]), r["attempts"])
            for r in rows
        ]

    def inbox_done(self, ids: Sequence[int]) -> None:
        if not ids:
            return
        with self.engine.begin() as conn:
            for chunk in _chunks(list(ids)):
                conn.execute(inbox.delete().where(inbox.c.id.in_(chunk)))

    def inbox_size(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(inbox)).scalar() or 0)

    # -- dead letters ------------------------------------------------------------------------
    def add_dead_letters(self, letters: Iterable[DeadLetter]) -> int:
        now = _now()
        rows = [
            {
                "kind": d.kind,
                "source": d.source[:200],
                "format": d.format[:32],
                "line_no": d.line_no,
                "raw": d.raw,
                "field": (d.field or None) and d.field[:300],
                "reason": d.reason,
                "status": "open",
                "received_at": d.received_at or now,
                "attempts": d.attempts,
            }
            for d in letters
        ]
        if rows:
            with self.engine.begin() as conn:
                conn.execute(dead_letters.insert(), rows)
        return len(rows)

    def list_dead_letters(
        self, status: str | None = "open", kind: str | None = None, limit: int = 100, after_id: int = 0
    ) -> list[DeadLetter]:
        q = select(dead_letters).where(dead_letters.c.id > after_id).order_by(dead_letters.c.id).limit(limit)
        if status:
            q = q.where(dead_letters.c.status == status)
        if kind:
            q = q.where(dead_letters.c.kind == kind)
        with self.engine.connect() as conn:
            rows = conn.execute(q).mappings().all()
        return [
            DeadLetter(
                kind=r["kind"],
                source=r["source"],
                format=r["format"],
                raw=r["raw"],
                reason=r["reason"],
                field=r["field"],
                line_no=r["line_no"],
                id=r["id"],
                status=r["status"],
                received_at=_utc(r["received_at"]),
                replayed_at=_utc(r["replayed_at"]),
                attempts=r["attempts"],
            )
            for r in rows
        ]

    def mark_dead_letters(self, ids: Sequence[int], status: str) -> None:
        if not ids:
            return
        now = _now()
        with self.engine.begin() as conn:
            for chunk in _chunks(list(ids)):
                conn.execute(
                    update(dead_letters)
                    .where(dead_letters.c.id.in_(chunk))
                    .values(
                        status=status,
                        replayed_at=now if status == "replayed" else None,
                        attempts=dead_letters.c.attempts + 1,
                    )
                )

    # -- API keys ----------------------------------------------------------------------------
    def add_api_key(self, key: ApiKey) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                api_keys.insert().values(
                    key_id=key.key_id,
                    secret_hash=key.secret_hash,
                    role=key.role,
                    name=key.name,
                    created_at=key.created_at,
                )
            )

    def get_api_key(self, key_id: str) -> ApiKey | None:
        with self.engine.connect() as conn:
            r = conn.execute(select(api_keys).where(api_keys.c.key_id == key_id)).mappings().first()
        return _api_key(r) if r else None

    def list_api_keys(self) -> list[ApiKey]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(api_keys).order_by(api_keys.c.id)).mappings().all()
        return [_api_key(r) for r in rows]

    def revoke_api_key(self, key_id: str) -> bool:
        with self.engine.begin() as conn:
            res = conn.execute(
                update(api_keys)
                .where(and_(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None)))
                .values(revoked_at=_now())
            )
        return res.rowcount > 0

    def touch_api_key(self, key_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(api_keys).where(api_keys.c.key_id == key_id).values(last_used_at=_now()))


def _api_key(r: Any) -> ApiKey:
    return ApiKey(
        key_id=r["key_id"],
        role=r["role"],
        name=r["name"],
        created_at=_utc(r["created_at"]),
        secret_hash=r["secret_hash"],
        revoked_at=_utc(r["revoked_at"]),
        last_used_at=_utc(r["last_used_at"]),
    )


_CASE_MUTABLE = ("status", "queue", "priority", "verdict", "labels", "rules", "event_count", "updated_at")


def _merge_into_case(case: dict[str, Any], d: Any, now: datetime) -> None:
    """Fold one decision into a case: the highest priority wins the queue, the most severe verdict
    stands, labels and rules accumulate; any queued event keeps (or makes) the case open."""
    priority = int(d.priority)
    if d.queue and (priority > case["priority"] or not case["queue"]):
        case["queue"] = d.queue
    case["priority"] = max(priority, case["priority"])
    if SEVERITY[d.verdict] > SEVERITY[case["verdict"]]:
        case["verdict"] = d.verdict
    if d.queue:
        case["status"] = "open"
    case["labels"] = sorted(set(case["labels"]) | set(d.labels))
    case["rules"] = list(dict.fromkeys(case["rules"] + d.rules))
    case["event_count"] += 1
    case["updated_at"] = now


def _account_of(ev: Any) -> str | None:
    if ev.type == "account":
        return ev.id
    if ev.type == "post":
        return ev.account_id
    if ev.type == "enforcement":
        return ev.account_id
    if ev.type == "follow":
        return ev.follower_id
    if ev.type == "report" and ev.target_type == "account":
        return ev.target_id
    return None


def open_store(url: str, migrate: bool = True) -> SqlStore:
    """Open a store by URL: sqlite:///path or postgresql://user@host:port/db."""
    from seawall.storage.dialects import PostgresStore, SQLiteStore

    if url.startswith("sqlite"):
        store: SqlStore = SQLiteStore(url)
    elif url.startswith("postgres"):
        store = PostgresStore(url)
    else:
        raise ValueError(f"database URL must start with sqlite:// or postgresql://, got {url.split(':', 1)[0]!r}")
    if migrate:
        store.migrate()
    return store
