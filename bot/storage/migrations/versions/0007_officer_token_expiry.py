"""officers: API tokens expire (existing tokens get 90 days from the upgrade)

Revision ID: 0007
Revises: 0006
"""
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("officers") as batch:
        batch.add_column(sa.Column("token_expires_at", sa.DateTime(timezone=True)))
    officers = sa.table("officers", sa.column("token_hash", sa.String), sa.column("token_expires_at", sa.DateTime(timezone=True)))
    op.execute(officers.update().where(officers.c.token_hash.isnot(None))
               .values(token_expires_at=datetime.now(timezone.utc) + timedelta(days=90)))


def downgrade():
    with op.batch_alter_table("officers") as batch:
        batch.drop_column("token_expires_at")
