"""Campaign and crisis tables, on the shared metadata (migration 0008_campaigns creates exactly
these)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, ForeignKey, Index, Integer, String, Table, Text, text

from seawall.storage.schema import PK, TS, metadata

# One row per campaign episode: the key (hashtag, URL, domain, text hash, cluster) and its case.
campaigns = Table(
    "campaigns",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("key", Text, nullable=False),  # the full key ("url:https://...")
    Column("key_hash", String(64), nullable=False),  # sha256 of the key: what lookups use
    Column("kind", String(16), nullable=False),  # hashtag | url | domain | text | cluster
    Column("reason", String(32), nullable=False),  # burst | young_accounts | cosharing
    Column("label", String(32), nullable=False),  # campaign | coordinated
    Column("case_id", PK, ForeignKey("cases.id", ondelete="SET NULL")),
    Column("status", String(16), nullable=False),  # active | merged
    Column("merged_into", PK),
    Column("score", Float, nullable=False),
    Column("evidence", Text, nullable=False),  # JSON: the detector's figures when last updated
    Column("member_posts", Integer, nullable=False, server_default="0"),
    Column("member_accounts", Integer, nullable=False, server_default="0"),
    Column("first_seen", TS, nullable=False),  # stream time of its first member
    Column("last_seen", TS, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
)
Index("ix_campaigns_key_hash", campaigns.c.key_hash)
Index("ix_campaigns_case_id", campaigns.c.case_id)

campaign_members = Table(
    "campaign_members",
    metadata,
    Column("campaign_id", PK, ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True),
    Column("member_type", String(16), primary_key=True),  # post | account
    Column("member_id", String(256), primary_key=True),
    Column("account_id", String(256)),  # a post's author
    Column("joined_at", TS, nullable=False),  # stream time (the post's time)
    Column("added_at", TS, nullable=False),
)
Index("ix_campaign_members_member", campaign_members.c.member_type, campaign_members.c.member_id)

# Named incidents: while one is active its bank is enabled and thresholds are lowered.
crises = Table(
    "crises",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # active | stopped
    Column("bank", String(64)),
    Column("bank_was_enabled", Boolean),  # restored on stop
    Column("threshold_delta", Float, nullable=False),
    Column("hashtags", Text, nullable=False),  # JSON list, normalised, without '#'
    Column("signals", Text, nullable=False),  # JSON list: whose rule thresholds are lowered
    Column("started_at", TS, nullable=False),
    Column("stopped_at", TS),
    Column("started_by", String(200), nullable=False),
    Column("stopped_by", String(200)),
)
# At most one active crisis at a time.
Index(
    "uq_crises_active",
    crises.c.status,
    unique=True,
    sqlite_where=text("status = 'active'"),
    postgresql_where=text("status = 'active'"),
)

# Posts matching an active crisis, per minute of stream time: the dashboard's series.
crisis_volume = Table(
    "crisis_volume",
    metadata,
    Column("crisis_id", PK, ForeignKey("crises.id", ondelete="CASCADE"), primary_key=True),
    Column("minute", TS, primary_key=True),
    Column("posts", Integer, nullable=False),
    Column("by_hashtag", Integer, nullable=False, server_default="0"),
    Column("by_bank", Integer, nullable=False, server_default="0"),
)
