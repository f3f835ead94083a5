"""review: people and sessions, case review state (priority, claims), notes, decisions, appeals,
media kept for review and the reveals that count against each reviewer's daily exposure cap

Revision ID: 0005
Revises: 0003
"""

from alembic import op
import sqlalchemy as sa


revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('account_reach',
    sa.Column('account_id', sa.String(length=256), nullable=False),
    sa.Column('followers', sa.Integer(), nullable=True),
    sa.Column('created_at', TS, nullable=True),
    sa.Column('updated_at', TS, nullable=False),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_account_reach'))
    )
    op.create_table('post_reach',
    sa.Column('post_id', sa.String(length=256), nullable=False),
    sa.Column('reposts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('first_at', TS, nullable=False),
    sa.Column('last_at', TS, nullable=False),
    sa.PrimaryKeyConstraint('post_id', name=op.f('pk_post_reach'))
    )
    op.create_table('users',
    sa.Column('id', PK, autoincrement=True, nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('password_hash', sa.String(length=300), nullable=False),
    sa.Column('pseudonym', sa.String(length=32), nullable=False),
    sa.Column('created_at', TS, nullable=False),
    sa.Column('disabled_at', TS, nullable=True),
    sa.Column('last_login_at', TS, nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('pseudonym', name=op.f('uq_users_pseudonym')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('case_decisions',
    sa.Column('id', PK, autoincrement=True, nullable=False),
    sa.Column('case_id', PK, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('confirmed_by', sa.String(length=64), nullable=True),
    sa.Column('label', sa.String(length=128), nullable=True),
    sa.Column('escalate_to', sa.String(length=32), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('action_ids', sa.Text(), nullable=False),
    sa.Column('appeal_id', PK, nullable=True),
    sa.Column('created_at', TS, nullable=False),
    sa.Column('decided_at', TS, nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_decisions_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_decisions'))
    )
    op.create_index('ix_case_decisions_case_id', 'case_decisions', ['case_id'], unique=False)
    op.create_table('case_media',
    sa.Column('id', PK, autoincrement=True, nullable=False),
    sa.Column('case_id', PK, nullable=False),
    sa.Column('event_pk', PK, nullable=False),
    sa.Column('field', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('mime', sa.String(length=128), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('created_at', TS, nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_media_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['event_pk'], ['events.pk'], name=op.f('fk_case_media_event_pk_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_media')),
    sa.UniqueConstraint('case_id', 'event_pk', 'field', name=op.f('uq_case_media_case_id_event_pk_field'))
    )
    op.create_index('ix_case_media_case_id', 'case_media', ['case_id'], unique=False)
    op.create_table('case_notes',
    sa.Column('id', PK, autoincrement=True, nullable=False),
    sa.Column('case_id', PK, nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', TS, nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_notes_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_notes'))
    )
    op.create_index('ix_case_notes_case_id', 'case_notes', ['case_id'], unique=False)
    op.create_table('case_review',
    sa.Column('case_id', PK, nullable=False),
    sa.Column('severity', sa.Float(), server_default='0', nullable=False),
    sa.Column('reach', sa.Float(), server_default='1', nullable=False),
    sa.Column('score', sa.Float(), server_default='0', nullable=False),
    sa.Column('followers', sa.Integer(), nullable=True),
    sa.Column('reposts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('repost_velocity', sa.Float(), server_default='0', nullable=False),
    sa.Column('account_age_days', sa.Float(), nullable=True),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('claimed_at', TS, nullable=True),
    sa.Column('claim_expires_at', TS, nullable=True),
    sa.Column('avoid_actor', sa.String(length=64), nullable=True),
    sa.Column('pending_decision_id', PK, nullable=True),
    sa.Column('updated_at', TS, nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_review_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_case_review'))
    )
    op.create_index('ix_case_review_score', 'case_review', ['score'], unique=False)
    op.create_table('sessions',
    sa.Column('id', PK, autoincrement=True, nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', PK, nullable=False),
    sa.Column('csrf_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', TS, nullable=False),
    sa.Column('expires_at', TS, nullable=False),
    sa.Column('last_seen_at', TS, nullable=False),
    sa.Column('revoked_at', TS, nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_sessions_token_hash'))
    )
    op.create_index('ix_sessions_user_id', 'sessions', ['user_id'], unique=False)
    op.create_table('appeals',
    sa.Column('id', PK, autoincrement=True, nullable=False),
    sa.Column('key', sa.String(length=320), nullable=False),
    sa.Column('case_id', PK, nullable=False),
    sa.Column('decision_id', PK, nullable=True),
    sa.Column('subject_type', sa.String(length=16), nullable=False),
    sa.Column('subject_id', sa.String(length=256), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('appellant', sa.String(length=256), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('avoid_actor', sa.String(length=64), nullable=True),
    sa.Column('resolved_by', sa.String(length=64), nullable=True),
    sa.Column('resolution_notes', sa.Text(), nullable=True),
    sa.Column('restore_action_id', PK, nullable=True),
    sa.Column('created_at', TS, nullable=False),
    sa.Column('resolved_at', TS, nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_appeals_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decision_id'], ['case_decisions.id'], name=op.f('fk_appeals_decision_id_case_decisions'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeals')),
    sa.UniqueConstraint('key', name=op.f('uq_appeals_key'))
    )
    op.create_index('ix_appeals_status', 'appeals', ['status'], unique=False)
    op.create_table('media_reveals',
    sa.Column('id', PK, autoincrement=True, nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('media_id', PK, nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('revealed_at', TS, nullable=False),
    sa.ForeignKeyConstraint(['media_id'], ['case_media.id'], name=op.f('fk_media_reveals_media_id_case_media'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_media_reveals')),
    sa.UniqueConstraint('actor', 'media_id', 'day', name=op.f('uq_media_reveals_actor_media_id_day'))
    )
    op.create_index('ix_media_reveals_actor_day', 'media_reveals', ['actor', 'day'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_media_reveals_actor_day', table_name='media_reveals')
    op.drop_table('media_reveals')
    op.drop_index('ix_appeals_status', table_name='appeals')
    op.drop_table('appeals')
    op.drop_index('ix_sessions_user_id', table_name='sessions')
    op.drop_table('sessions')
    op.drop_index('ix_case_review_score', table_name='case_review')
    op.drop_table('case_review')
    op.drop_index('ix_case_notes_case_id', table_name='case_notes')
    op.drop_table('case_notes')
    op.drop_index('ix_case_media_case_id', table_name='case_media')
    op.drop_table('case_media')
    op.drop_index('ix_case_decisions_case_id', table_name='case_decisions')
    op.drop_table('case_decisions')
    op.drop_table('users')
    op.drop_table('post_reach')
    op.drop_table('account_reach')
