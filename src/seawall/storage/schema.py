"""The tables, as SQLAlchemy Core metadata. Alembic migrations create exactly this schema.

One schema serves SQLite (embedded) and PostgreSQL (scale-out); JSON columns are stored as text so
that both behave the same and a row can be exported byte for byte.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

# Fixed constraint names keep migrations identical on both databases.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL wants 64-bit ids at firehose scale.
PK = BigInteger().with_variant(Integer(), "sqlite")
TS = DateTime(timezone=True)

events = Table(
    "events",
    metadata,
    Column("pk", PK, primary_key=True, autoincrement=True),
    Column("key", String(320), nullable=False, unique=True),
    Column("type", String(16), nullable=False),
    Column("subject_type", String(16), nullable=False),
    Column("subject_id", String(256), nullable=False),
    Column("account_id", String(256)),
    Column("occurred_at", TS, nullable=False),
    Column("received_at", TS, nullable=False),
    Column("processed_at", TS, nullable=False),
    Column("source", String(64), nullable=False),
    Column("lang", String(8)),
    Column("payload", Text, nullable=False),
)
Index("ix_events_subject", events.c.subject_type, events.c.subject_id)
Index("ix_events_account_id", events.c.account_id)
Index("ix_events_occurred_at", events.c.occurred_at)

signal_hits = Table(
    "signal_hits",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("event_pk", PK, ForeignKey("events.pk", ondelete="CASCADE"), nullable=False),
    Column("signal", String(64), nullable=False),
    Column("version", String(32), nullable=False),
    Column("label", String(128), nullable=False),
    Column("score", Float, nullable=False),
    Column("evidence", Text, nullable=False),
)
Index("ix_signal_hits_event_pk", signal_hits.c.event_pk)
Index("ix_signal_hits_signal_label", signal_hits.c.signal, signal_hits.c.label)

verdicts = Table(
    "verdicts",
    metadata,
    Column("event_pk", PK, ForeignKey("events.pk", ondelete="CASCADE"), primary_key=True),
    Column("verdict", String(16), nullable=False),
    Column("actions", Text, nullable=False),  # JSON list of enforced verdicts
    Column("queue", String(64)),
    Column("priority", Integer, nullable=False),
    Column("labels", Text, nullable=False),  # JSON list
    Column("rules", Text, nullable=False),  # JSON list of enforced rule matches
    Column("shadow", Text, nullable=False),  # JSON list of shadow-mode rule matches
    Column("policy_version", String(64), nullable=False),
    Column("decided_at", TS, nullable=False),
    Column("latency_ms", Float, nullable=False),
)
Index("ix_verdicts_verdict", verdicts.c.verdict)

cases = Table(
    "cases",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("subject_type", String(16), nullable=False),
    Column("subject_id", String(256), nullable=False),
    Column("account_id", String(256)),
    Column("status", String(16), nullable=False),  # open | actioned | closed
    Column("queue", String(64)),
    Column("priority", Integer, nullable=False),
    Column("verdict", String(16), nullable=False),
    Column("labels", Text, nullable=False),
    Column("rules", Text, nullable=False),  # JSON list of rule names that contributed
    Column("event_count", Integer, nullable=False),
    Column("opened_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
)
# At most one open case per subject: new signals merge into it.
Index(
    "uq_cases_open_subject",
    cases.c.subject_type,
    cases.c.subject_id,
    unique=True,
    sqlite_where=text("status = 'open'"),
    postgresql_where=text("status = 'open'"),
)
Index("ix_cases_queue_status_priority", cases.c.queue, cases.c.status, cases.c.priority)

case_events = Table(
    "case_events",
    metadata,
    Column("case_id", PK, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    Column("event_pk", PK, ForeignKey("events.pk", ondelete="CASCADE"), primary_key=True),
)

actions = Table(
    "actions",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    # The same decision delivered twice must never act twice: the key is derived from what is
    # done to what, so a redelivered event maps to the row that already exists.
    Column("idempotency_key", String(400), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),  # remove | suspend | escalate | restore
    Column("subject_type", String(16), nullable=False),
    Column("subject_id", String(256), nullable=False),
    Column("event_pk", PK, ForeignKey("events.pk", ondelete="SET NULL")),
    Column("case_id", PK, ForeignKey("cases.id", ondelete="SET NULL")),
    Column("rule", String(128)),
    Column("status", String(16), nullable=False),  # pending | delivered | failed
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
)
Index("ix_actions_status", actions.c.status)

accounts = Table(
    "accounts",
    metadata,
    Column("id", String(256), primary_key=True),
    Column("handle", String(256)),
    Column("display_name", String(2000)),
    Column("status", String(16), nullable=False),  # active | suspended
    Column("created_at", TS),
    Column("updated_at", TS, nullable=False),
    Column("suspended_at", TS),
    # Bumped on every restore so that a later suspension is a new action, not a duplicate.
    Column("restore_count", Integer, nullable=False, server_default="0"),
)
Index("ix_accounts_handle", accounts.c.handle)
Index("ix_accounts_status", accounts.c.status)

inbox = Table(
    "inbox",
    metadata,
    # Durable in-process queue: an event accepted over HTTP is here before the caller hears "202".
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("key", String(320), nullable=False, unique=True),
    Column("source", String(64), nullable=False),
    Column("payload", Text, nullable=False),
    Column("received_at", TS, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
)

dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # rejected (bad input) | failed (processing error)
    Column("source", String(200), nullable=False),  # api, replay:<file>, ...
    Column("format", String(32), nullable=False),
    Column("line_no", Integer),
    Column("raw", Text, nullable=False),  # the input as received (invalid UTF-8 escaped)
    Column("field", String(300)),
    Column("reason", Text, nullable=False),
    Column("status", String(16), nullable=False),  # open | replayed | discarded
    Column("received_at", TS, nullable=False),
    Column("replayed_at", TS),
    Column("attempts", Integer, nullable=False, server_default="0"),
)
Index("ix_dead_letters_status", dead_letters.c.status)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("key_id", String(32), nullable=False, unique=True),  # public part, shown in lists
    Column("secret_hash", String(128), nullable=False),  # sha256 of the secret; the secret is never stored
    Column("role", String(32), nullable=False),
    Column("name", String(200), nullable=False),
    Column("created_at", TS, nullable=False),
    Column("revoked_at", TS),
    Column("last_used_at", TS),
)

from seawall.banks import schema as _bank_schema  # noqa: E402,F401  (hash bank tables, same metadata)
from seawall.audit import schema as _audit_schema  # noqa: E402,F401  (audit log tables, same metadata)
from seawall.review import schema as _review_schema  # noqa: E402,F401  (review tables, same metadata)
from seawall.actions import schema as _actions_schema  # noqa: E402,F401  (outbox and evidence tables)
from seawall.campaigns import schema as _campaign_schema  # noqa: E402,F401  (campaign and crisis tables, same metadata)
