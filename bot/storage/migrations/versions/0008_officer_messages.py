"""officer_messages: which message the bot sent an officer belongs to which case (keyed
digest of the channel's message reference), so an officer's reply finds its case without
reading the message text

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "officer_messages",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("case_id", sa.String(16), sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade():
    op.drop_table("officer_messages")
