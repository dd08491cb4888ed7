"""cases: who reported (the resident or someone else) and what the resident agreed to share

`excerpt` was never written; it becomes `shared`: the sealed answers of the risk self-check
when the resident agrees to send them with a request for contact.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("cases") as batch:
        batch.alter_column("excerpt", new_column_name="shared")
        batch.add_column(sa.Column("reporter", sa.String(16), nullable=False, server_default="resident"))


def downgrade():
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("reporter")
        batch.alter_column("shared", new_column_name="excerpt")
