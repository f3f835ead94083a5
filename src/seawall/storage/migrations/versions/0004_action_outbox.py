"""action outbox: delivery state, attempts and evidence holds for platform actions

Revision ID: 0004
Revises: 0003
"""

from alembic import op
import sqlalchemy as sa


revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "action_deliveries",
        sa.Column("action_id", PK, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("queued_at", TS, nullable=False),
        sa.Column("last_attempt_at", TS, nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", TS, nullable=True),
        sa.Column("adapter", sa.String(length=64), nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", TS, nullable=True),
        sa.ForeignKeyConstraint(["action_id"], ["actions.id"], name=op.f("fk_action_deliveries_action_id_actions"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("action_id", name=op.f("pk_action_deliveries")),
    )
    op.create_index("ix_action_deliveries_state_next_attempt_at", "action_deliveries", ["state", "next_attempt_at"])

    op.create_table(
        "action_attempts",
        sa.Column("id", PK, autoincrement=True, nullable=False),
        sa.Column("action_id", PK, nullable=False),
        sa.Column("adapter", sa.String(length=64), nullable=False),
        sa.Column("dispatcher", sa.String(length=64), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["action_id"], ["actions.id"], name=op.f("fk_action_attempts_action_id_actions"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_attempts")),
    )
    op.create_index("ix_action_attempts_action_id", "action_attempts", ["action_id"])

    op.create_table(
        "evidence_holds",
        sa.Column("id", PK, autoincrement=True, nullable=False),
        sa.Column("action_id", PK, nullable=False),
        sa.Column("subject_type", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.String(length=256), nullable=False),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("preserved_at", TS, nullable=False),
        sa.Column("hold_until", TS, nullable=False),
        sa.Column("legal_hold", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("legal_hold_reason", sa.Text(), nullable=True),
        sa.Column("purged_at", TS, nullable=True),
        sa.ForeignKeyConstraint(["action_id"], ["actions.id"], name=op.f("fk_evidence_holds_action_id_actions"),
                                ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_holds")),
        sa.UniqueConstraint("action_id", name=op.f("uq_evidence_holds_action_id")),
    )
    op.create_index("ix_evidence_holds_subject", "evidence_holds", ["subject_type", "subject_id"])
    op.create_index("ix_evidence_holds_hold_until", "evidence_holds", ["hold_until"])


def downgrade() -> None:
    op.drop_index("ix_evidence_holds_hold_until", table_name="evidence_holds")
    op.drop_index("ix_evidence_holds_subject", table_name="evidence_holds")
    op.drop_table("evidence_holds")
    op.drop_index("ix_action_attempts_action_id", table_name="action_attempts")
    op.drop_table("action_attempts")
    op.drop_index("ix_action_deliveries_state_next_attempt_at", table_name="action_deliveries")
    op.drop_table("action_deliveries")
