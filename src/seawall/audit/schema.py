"""Audit log tables, on the shared metadata (migration 0006_audit_log creates exactly these)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from seawall.storage.schema import TS, metadata

audit_log = Table(
    "audit_log",
    metadata,
    # seq is assigned under the head row's lock, not by a sequence: sequences skip numbers on
    # rollback, and a gap must mean a deleted row.
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at", TS, nullable=False),
    Column("actor", String(200), nullable=False),  # user:<id> | key:<key id> | cli:<os user> | system
    Column("action", String(64), nullable=False),  # case.view, case.decide, key.create, ...
    Column("target", String(300), nullable=False),  # case:42, key:ab12..., setting:...
    Column("details", Text, nullable=False),  # canonical JSON
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)
Index("ix_audit_log_target", audit_log.c.target)
Index("ix_audit_log_actor", audit_log.c.actor)

audit_head = Table(
    "audit_head",
    metadata,
    # One row. Every writer updates it first, which serialises writers on both databases (a row
    # lock in PostgreSQL, the write lock in SQLite), and it remembers the last row, so deleting
    # the newest rows is caught too.
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("last_seq", BigInteger, nullable=False),
    Column("last_hash", String(64), nullable=False),
)
