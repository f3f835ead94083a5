"""bank sweeps: resumable retroactive sweeps of stored history against a bank

Revision ID: 0003
Revises: 0002
"""

from alembic import op
import sqlalchemy as sa


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "bank_sweeps",
        sa.Column("id", PK, autoincrement=True, nullable=False),
        sa.Column("bank_id", PK, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("entry_from", PK, nullable=False),
        sa.Column("entry_to", PK, nullable=False),
        sa.Column("event_to", PK, nullable=False),
        sa.Column("since", TS, nullable=True),
        sa.Column("cursor", PK, nullable=False),
        sa.Column("scanned", sa.Integer(), server_default="0", nullable=False),
        sa.Column("matched", sa.Integer(), server_default="0", nullable=False),
        sa.Column("cases_opened", sa.Integer(), server_default="0", nullable=False),
        sa.Column("cases_merged", sa.Integer(), server_default="0", nullable=False),
        sa.Column("actions_created", sa.Integer(), server_default="0", nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=True),
        sa.ForeignKeyConstraint(["bank_id"], ["banks.id"], name=op.f("fk_bank_sweeps_bank_id_banks"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_sweeps")),
    )
    with op.batch_alter_table("bank_sweeps", schema=None) as batch_op:
        batch_op.create_index("ix_bank_sweeps_bank_id_status", ["bank_id", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("bank_sweeps", schema=None) as batch_op:
        batch_op.drop_index("ix_bank_sweeps_bank_id_status")
    op.drop_table("bank_sweeps")
