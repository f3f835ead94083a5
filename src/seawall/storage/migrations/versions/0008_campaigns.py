"""campaigns and crisis mode: campaign episodes with their members, named crises, crisis volume

Revision ID: 0008
Revises: 0003
"""

from alembic import op
import sqlalchemy as sa


revision = "0008"
down_revision = "0003"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", PK, autoincrement=True, nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=32), nullable=False),
        sa.Column("case_id", PK, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("merged_into", PK, nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("member_posts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("member_accounts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("first_seen", TS, nullable=False),
        sa.Column("last_seen", TS, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_campaigns_case_id_cases"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.create_index("ix_campaigns_key_hash", ["key_hash"], unique=False)
        batch_op.create_index("ix_campaigns_case_id", ["case_id"], unique=False)

    op.create_table(
        "campaign_members",
        sa.Column("campaign_id", PK, nullable=False),
        sa.Column("member_type", sa.String(length=16), nullable=False),
        sa.Column("member_id", sa.String(length=256), nullable=False),
        sa.Column("account_id", sa.String(length=256), nullable=True),
        sa.Column("joined_at", TS, nullable=False),
        sa.Column("added_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"],
                                name=op.f("fk_campaign_members_campaign_id_campaigns"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("campaign_id", "member_type", "member_id", name=op.f("pk_campaign_members")),
    )
    with op.batch_alter_table("campaign_members", schema=None) as batch_op:
        batch_op.create_index("ix_campaign_members_member", ["member_type", "member_id"], unique=False)

    op.create_table(
        "crises",
        sa.Column("id", PK, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("bank", sa.String(length=64), nullable=True),
        sa.Column("bank_was_enabled", sa.Boolean(), nullable=True),
        sa.Column("threshold_delta", sa.Float(), nullable=False),
        sa.Column("hashtags", sa.Text(), nullable=False),
        sa.Column("signals", sa.Text(), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("stopped_at", TS, nullable=True),
        sa.Column("started_by", sa.String(length=200), nullable=False),
        sa.Column("stopped_by", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crises")),
    )
    with op.batch_alter_table("crises", schema=None) as batch_op:
        batch_op.create_index("uq_crises_active", ["status"], unique=True,
                              sqlite_where=sa.text("status = 'active'"),
                              postgresql_where=sa.text("status = 'active'"))

    op.create_table(
        "crisis_volume",
        sa.Column("crisis_id", PK, nullable=False),
        sa.Column("minute", TS, nullable=False),
        sa.Column("posts", sa.Integer(), nullable=False),
        sa.Column("by_hashtag", sa.Integer(), server_default="0", nullable=False),
        sa.Column("by_bank", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(["crisis_id"], ["crises.id"], name=op.f("fk_crisis_volume_crisis_id_crises"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("crisis_id", "minute", name=op.f("pk_crisis_volume")),
    )


def downgrade() -> None:
    op.drop_table("crisis_volume")
    with op.batch_alter_table("crises", schema=None) as batch_op:
        batch_op.drop_index("uq_crises_active")
    op.drop_table("crises")
    with op.batch_alter_table("campaign_members", schema=None) as batch_op:
        batch_op.drop_index("ix_campaign_members_member")
    op.drop_table("campaign_members")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_index("ix_campaigns_case_id")
        batch_op.drop_index("ix_campaigns_key_hash")
    op.drop_table("campaigns")
