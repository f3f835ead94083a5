"""Hash bank tables, on the shared metadata (migrations 0002_hash_banks and 0003_bank_sweeps create
exactly these)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from seawall.storage.schema import PK, TS, metadata

banks = Table(
    "banks",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("label", String(128), nullable=False),
    Column("kind", String(16), nullable=False),  # block | negative
    Column("source", String(200)),
    Column("severity", String(16), nullable=False),  # low | medium | high | critical
    Column("enabled", Boolean, nullable=False),
    Column("dihedral", Boolean, nullable=False),
    Column("pdq_threshold", Integer, nullable=False),
    Column("description", Text),
    Column("tags", Text, nullable=False),  # JSON list
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
)

bank_entries = Table(
    "bank_entries",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("bank_id", PK, ForeignKey("banks.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),  # pdq | md5 | sha256 | url | domain | text
    Column("value", Text, nullable=False),  # normalised: lower-case hex, canonical URL, normalised text
    Column("value_key", String(64), nullable=False),  # the value, or sha256 of it when longer than 64
    Column("status", String(16), nullable=False),  # active | disabled | quarantined
    Column("tags", Text, nullable=False),  # JSON list
    Column("note", Text),
    Column("ref", String(256)),  # the supplier's id for the item
    Column("original", Text),  # the supplier's form when normalisation changed it
    Column("hits", Integer, nullable=False, server_default="0"),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    UniqueConstraint("bank_id", "kind", "value_key", name="uq_bank_entries_bank_kind_value"),
)
Index("ix_bank_entries_kind_value_key", bank_entries.c.kind, bank_entries.c.value_key)
Index("ix_bank_entries_updated_at", bank_entries.c.updated_at)

# One row per retroactive sweep of stored history against a bank's entries (seawall.banks.sweep):
# which entries (entry id in (entry_from, entry_to]), which events (pk up to event_to, occurred at or
# after `since`), how far it got (`cursor`: the last event pk done, committed with each chunk's
# cases) and what it found.
bank_sweeps = Table(
    "bank_sweeps",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("bank_id", PK, ForeignKey("banks.id", ondelete="CASCADE"), nullable=False),
    Column("status", String(16), nullable=False),  # running | done
    Column("entry_from", PK, nullable=False),
    Column("entry_to", PK, nullable=False),
    Column("event_to", PK, nullable=False),
    Column("since", TS),
    Column("cursor", PK, nullable=False),
    Column("scanned", Integer, nullable=False, server_default="0"),
    Column("matched", Integer, nullable=False, server_default="0"),
    Column("cases_opened", Integer, nullable=False, server_default="0"),
    Column("cases_merged", Integer, nullable=False, server_default="0"),
    Column("actions_created", Integer, nullable=False, server_default="0"),
    Column("started_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    Column("finished_at", TS),
)
Index("ix_bank_sweeps_bank_id_status", bank_sweeps.c.bank_id, bank_sweeps.c.status)
