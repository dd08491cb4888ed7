"""console, second slice: who verified a place, when (`last_verified`) and how (called,
visited, official list); research leads for the office to check (never shown to residents).

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("places") as batch:
        batch.add_column(sa.Column("verified_by", sa.String(64)))
        batch.add_column(sa.Column("verified_how", sa.String(16)))
    op.create_table(
        "place_leads",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(300), nullable=False, unique=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("unit", sa.String(64)),
        sa.Column("address", sa.Text),
        sa.Column("phone", sa.Text),
        sa.Column("hours", sa.Text),
        sa.Column("lat", sa.Float),
        sa.Column("lon", sa.Float),
        sa.Column("research", sa.String(16), nullable=False),
        sa.Column("sources", sa.Text),
        sa.Column("source_date", sa.Text),
        sa.Column("notes", sa.Text),
        sa.Column("place_key", sa.String(64)),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade():
    op.drop_table("place_leads")
    with op.batch_alter_table("places") as batch:
        batch.drop_column("verified_how")
        batch.drop_column("verified_by")
