"""check-in: a resident whose case was referred may agree to one check-in message; their
consent (a boolean), when it was sent and their answer are on the case.

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("check_in_consent", sa.Boolean))
        batch.add_column(sa.Column("check_in_sent_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("resident_answer", sa.String(16)))


def downgrade():
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("resident_answer")
        batch.drop_column("check_in_sent_at")
        batch.drop_column("check_in_consent")
