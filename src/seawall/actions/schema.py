"""Outbox and evidence tables, on the shared metadata (migration 0004_action_outbox creates exactly
these).

An action itself stays a row of `actions` (created by the pipeline or by a reviewer); the outbox adds
its delivery state (`action_deliveries`, one row per action once it enters the outbox), the history
of every attempt (`action_attempts`) and the preserved evidence (`evidence_holds`).
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Table, Text, false

from seawall.storage.schema import PK, TS, metadata

action_deliveries = Table(
    "action_deliveries",
    metadata,
    Column("action_id", PK, ForeignKey("actions.id", ondelete="CASCADE"), primary_key=True),
    Column("state", String(16), nullable=False),  # pending | delivered | failed (mirrors actions.status)
    Column("attempts", Integer, nullable=False, server_default="0"),  # since the last (re)queue
    Column("next_attempt_at", TS, nullable=False),
    Column("queued_at", TS, nullable=False),  # the start of the retry window (max age counts from here)
    Column("last_attempt_at", TS),
    Column("last_status", Integer),  # the platform's HTTP status (or the adapter's equivalent)
    Column("last_error", Text),
    Column("delivered_at", TS),
    Column("adapter", String(64)),  # the adapter of the last attempt
    # A claim: the dispatcher that holds the row until `lease_until` (longer than a delivery can
    # take), so that two dispatchers never deliver the same action at the same time.
    Column("lease_owner", String(64)),
    Column("lease_until", TS),
)
Index("ix_action_deliveries_state_next_attempt_at", action_deliveries.c.state, action_deliveries.c.next_attempt_at)

action_attempts = Table(
    "action_attempts",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("action_id", PK, ForeignKey("actions.id", ondelete="CASCADE"), nullable=False),
    Column("adapter", String(64), nullable=False),
    Column("dispatcher", String(64), nullable=False),
    Column("started_at", TS, nullable=False),
    Column("duration_ms", Integer, nullable=False),
    Column("outcome", String(16), nullable=False),  # delivered | retry | failed
    Column("status", Integer),
    Column("error", Text),
)
Index("ix_action_attempts_action_id", action_attempts.c.action_id)

evidence_holds = Table(
    "evidence_holds",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("action_id", PK, ForeignKey("actions.id", ondelete="RESTRICT"), nullable=False, unique=True),
    Column("subject_type", String(16), nullable=False),
    Column("subject_id", String(256), nullable=False),
    Column("payload", Text),  # the preserved evidence document (JSON); NULL once purged
    Column("sha256", String(64), nullable=False),  # of the payload's UTF-8 bytes, kept after a purge
    Column("size_bytes", Integer, nullable=False),
    Column("preserved_at", TS, nullable=False),
    Column("hold_until", TS, nullable=False),
    Column("legal_hold", Boolean, nullable=False, server_default=false()),
    Column("legal_hold_reason", Text),
    Column("purged_at", TS),
)
Index("ix_evidence_holds_subject", evidence_holds.c.subject_type, evidence_holds.c.subject_id)
Index("ix_evidence_holds_hold_until", evidence_holds.c.hold_until)
