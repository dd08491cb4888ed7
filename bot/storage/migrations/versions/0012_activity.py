"""activity: anonymous counters for the programme reports: how many conversations began,
disclosures were read and referrals given, per Huế day, channel, unit (empty when unknown)
and kind. No sender, no text: a row is a number.

Revision ID: 0012
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "activity",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("channel", sa.String(16), primary_key=True),
        sa.Column("unit", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
    )


def downgrade():
    op.drop_table("activity")
