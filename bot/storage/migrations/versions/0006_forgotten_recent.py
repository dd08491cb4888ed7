"""forgotten: a short-lived tombstone per erased resident, so that a turn still in flight
when the resident pressed quick exit cannot store the conversation again; recent_messages:
the sealed ids of a Telegram chat's messages of the last 48 hours, so that /thoat can delete
them after a restart too

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "forgotten",
        sa.Column("sender", sa.String(64), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "recent_messages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sender", sa.String(64), nullable=False, index=True),
        sa.Column("message", sa.LargeBinary, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
    )


def downgrade():
    op.drop_table("recent_messages")
    op.drop_table("forgotten")
