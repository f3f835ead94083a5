"""Review tables, on the shared metadata (migration 0005_review creates exactly these).

People (`users`, `sessions`), the review state of a case (`case_review`: priority inputs and score,
claim, the reviewer an appeal must avoid), what reviewers wrote and decided (`case_notes`,
`case_decisions`), appeals, the media bytes kept for review (`case_media`) and reveals of media
(`media_reveals`, which are also the per-reviewer daily exposure counter). Reach inputs
(`account_reach`, `post_reach`) are kept as events arrive so that priority needs no payload scans.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, ForeignKey, Index, Integer, LargeBinary, String, Table, Text, UniqueConstraint

from seawall.storage.schema import PK, TS, metadata

users = Table(
    "users",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("role", String(32), nullable=False),
    Column("password_hash", String(300), nullable=False),  # scrypt$n$r$p$salt$hash; never the password
    # Shown instead of the username in anything that leaves the team (webhooks, exports).
    Column("pseudonym", String(32), nullable=False, unique=True),
    Column("created_at", TS, nullable=False),
    Column("disabled_at", TS),
    Column("last_login_at", TS),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),  # sha256 of the cookie value
    Column("user_id", PK, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("csrf_token", String(64), nullable=False),  # synchronizer token, sent back in X-CSRF-Token
    Column("created_at", TS, nullable=False),
    Column("expires_at", TS, nullable=False),
    Column("last_seen_at", TS, nullable=False),
    Column("revoked_at", TS),
)
Index("ix_sessions_user_id", sessions.c.user_id)

case_review = Table(
    "case_review",
    metadata,
    Column("case_id", PK, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    Column("severity", Float, nullable=False, server_default="0"),
    Column("reach", Float, nullable=False, server_default="1"),
    Column("score", Float, nullable=False, server_default="0"),  # severity x reach: the queue order
    Column("followers", Integer),
    Column("reposts", Integer, nullable=False, server_default="0"),
    Column("repost_velocity", Float, nullable=False, server_default="0"),  # reposts per hour
    Column("account_age_days", Float),
    Column("claimed_by", String(64)),  # actor: user:<id> or key:<key id>
    Column("claimed_at", TS),
    Column("claim_expires_at", TS),
    Column("avoid_actor", String(64)),  # an appealed case goes to anyone but the original decider
    Column("pending_decision_id", PK),  # a two-person proposal waiting for confirmation
    Column("updated_at", TS, nullable=False),
)
Index("ix_case_review_score", case_review.c.score)

account_reach = Table(
    "account_reach",
    metadata,
    Column("account_id", String(256), primary_key=True),
    Column("followers", Integer),
    Column("created_at", TS),
    Column("updated_at", TS, nullable=False),
)

post_reach = Table(
    "post_reach",
    metadata,
    Column("post_id", String(256), primary_key=True),
    Column("reposts", Integer, nullable=False, server_default="0"),  # reposts and quotes seen
    Column("first_at", TS, nullable=False),
    Column("last_at", TS, nullable=False),
)

case_notes = Table(
    "case_notes",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("case_id", PK, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", TS, nullable=False),
)
Index("ix_case_notes_case_id", case_notes.c.case_id)

case_decisions = Table(
    "case_decisions",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("case_id", PK, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),  # remove | suspend | label | no_violation | escalate
    Column("status", String(16), nullable=False),  # proposed | applied | rejected
    Column("actor", String(64), nullable=False),
    Column("confirmed_by", String(64)),  # the second person, under the two-person rule
    Column("label", String(128)),
    Column("escalate_to", String(32)),  # security | law_enforcement
    Column("notes", Text, nullable=False),
    Column("action_ids", Text, nullable=False),  # JSON list of `actions` rows this decision created
    Column("appeal_id", PK),  # set when the decision resolves an appeal
    Column("created_at", TS, nullable=False),
    Column("decided_at", TS),
)
Index("ix_case_decisions_case_id", case_decisions.c.case_id)

appeals = Table(
    "appeals",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("key", String(320), nullable=False, unique=True),  # the platform's appeal id: redelivery is idempotent
    Column("case_id", PK, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("decision_id", PK, ForeignKey("case_decisions.id", ondelete="SET NULL")),
    Column("subject_type", String(16), nullable=False),
    Column("subject_id", String(256), nullable=False),
    Column("text", Text, nullable=False),
    Column("appellant", String(256)),
    Column("status", String(16), nullable=False),  # open | upheld | overturned
    Column("avoid_actor", String(64)),
    Column("resolved_by", String(64)),
    Column("resolution_notes", Text),
    Column("restore_action_id", PK),
    Column("created_at", TS, nullable=False),
    Column("resolved_at", TS),
)
Index("ix_appeals_status", appeals.c.status)

case_media = Table(
    "case_media",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("case_id", PK, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("event_pk", PK, ForeignKey("events.pk", ondelete="CASCADE"), nullable=False),
    Column("field", String(64), nullable=False),  # media[0], avatar, banner
    Column("kind", String(16), nullable=False),
    Column("mime", String(128)),
    Column("sha256", String(64)),
    Column("size_bytes", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),  # empty until fetched, for media given by URL
    Column("url", Text),  # fetched (allow-listed hosts only) the first time a reviewer opens it
    Column("created_at", TS, nullable=False),
    UniqueConstraint("case_id", "event_pk", "field"),
)
Index("ix_case_media_case_id", case_media.c.case_id)

media_reveals = Table(
    "media_reveals",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("actor", String(64), nullable=False),
    Column("media_id", PK, ForeignKey("case_media.id", ondelete="CASCADE"), nullable=False),
    Column("day", String(10), nullable=False),  # UTC date: the exposure cap is per reviewer per day
    Column("revealed_at", TS, nullable=False),
    UniqueConstraint("actor", "media_id", "day"),
)
Index("ix_media_reveals_actor_day", media_reveals.c.actor, media_reveals.c.day)
