"""forgotten: a short-lived tombstone per erased resident, so that a turn still in flight
when the resident pressed quick exit cannot store the conversation again

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


def downgrade():
    op.drop_table("forgotten")
