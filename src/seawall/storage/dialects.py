"""The two databases behind the SQL store: engine set-up and the SQLite fast path for hot inserts."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import DateTime, and_, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from seawall.storage.schema import events, metadata
from seawall.storage.rows import _chunks
from seawall.storage.sql import SqlStore


class SQLiteStore(SqlStore):
    dialect_insert = staticmethod(sqlite.insert)

    def __init__(self, url: str):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            # WAL lets the API and stats read while the pipeline writes; NORMAL sync is durable
            # across process crashes (only an OS crash can lose the last transactions).
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            # A larger page cache and fewer, larger WAL checkpoints: the firehose writes in big
            # batches, and each checkpoint stalls the committing thread.
            cur.execute("PRAGMA cache_size=-65536")
            cur.execute("PRAGMA wal_autocheckpoint=10000")
            cur.execute("PRAGMA temp_store=MEMORY")
            cur.close()

        super().__init__(url, engine)

    # The hot inserts (events, hits, verdicts: one row per event) go straight to the DB-API's
    # executemany: SQLAlchemy's per-row parameter processing costs more than SQLite itself.
    def _bulk_insert(self, conn: Connection, table: Any, rows: list[dict[str, Any]], suffix: str = "") -> int:
        cols = list(rows[0])
        sql = f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}){suffix}"
        return conn.exec_driver_sql(sql, _sqlite_rows(rows, cols)).rowcount

    def _insert_new_events(self, conn: Connection, rows: list[dict[str, Any]]) -> dict[str, int]:
        inserted = self._bulk_insert(conn, events, rows, " ON CONFLICT(key) DO NOTHING")
        if inserted != len(rows):
            # Another writer stored some of these keys since our check: rare, so take the slower
            # statement that says exactly which rows are ours (after undoing this one).
            keys = [r["key"] for r in rows]
            for chunk in _chunks(keys):
                conn.execute(events.delete().where(and_(events.c.key.in_(chunk),
                                                        events.c.processed_at == rows[0]["processed_at"])))
            return super()._insert_new_events(conn, rows)
        found: dict[str, int] = {}
        for chunk in _chunks([r["key"] for r in rows]):
            marks = ", ".join("?" * len(chunk))
            found.update((k, pk) for pk, k in conn.exec_driver_sql(
                f"SELECT pk, key FROM events WHERE key IN ({marks})", tuple(chunk)))
        return found


_SQLITE_TS = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's own SQLite DateTime storage format
_TIME_COLUMNS = {c.name for t in metadata.tables.values() for c in t.columns if isinstance(c.type, DateTime)}


def _sqlite_rows(rows: list[dict[str, Any]], cols: list[str]) -> list[tuple[Any, ...]]:
    """Rows as tuples, datetimes as SQLAlchemy's SQLite text format (UTC). Built column by column
    (the caller's dicts are left alone); most timestamps in a batch are shared, so formatted
    strings are memoised."""
    memo: dict[datetime, str] = {}

    def fmt(v: Any) -> Any:
        if not isinstance(v, datetime):
            return v
        out = memo.get(v)
        if out is None:
            u = v if v.tzinfo is timezone.utc or v.tzinfo is None else v.astimezone(timezone.utc)
            out = memo[v] = u.strftime(_SQLITE_TS)
        return out

    columns = []
    for c in cols:
        values = [r[c] for r in rows]
        if c in _TIME_COLUMNS:
            values = [fmt(v) for v in values]
        columns.append(values)
    return list(zip(*columns))


class PostgresStore(SqlStore):
    dialect_insert = staticmethod(postgresql.insert)

    def __init__(self, url: str):
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            # psycopg 3 is the driver we ship; plain URLs from operators should just work.
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)
        super().__init__(url, engine)

    def _lock_subjects(self, conn: Connection, subjects: set[tuple[str, str]]) -> None:
        # Transaction-scoped advisory locks on a 64-bit hash of each subject, taken in one sorted
        # order by every worker (no deadlock between batches); a hash collision only serialises
        # two unrelated subjects. Unlike retrying on a unique-index violation, this also stops two
        # workers from each merging into a stale copy of the same open case (a lost update).
        if not subjects:
            return
        keys = sorted({_lock_key(st, sid) for st, sid in subjects})
        conn.exec_driver_sql(
            "SELECT pg_advisory_xact_lock(k) FROM (SELECT unnest(%(keys)s::bigint[]) AS k ORDER BY 1) AS s",
            {"keys": keys},
        )


def _lock_key(subject_type: str, subject_id: str) -> int:
    digest = hashlib.blake2b(f"case:{subject_type}:{subject_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
