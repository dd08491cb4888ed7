"""places (referral directory)

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "places",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("unit", sa.String(64)),
        sa.Column("address", sa.String(300)),
        sa.Column("phones", sa.String(200)),
        sa.Column("hours", sa.String(200)),
        sa.Column("open_24_7", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("hours_note", sa.String(300)),
        sa.Column("lat", sa.Float),
        sa.Column("lon", sa.Float),
        sa.Column("services", sa.Text),
        sa.Column("verified", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("source", sa.Text),
        sa.Column("last_verified", sa.Date),
        sa.Column("sample", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("key", name="uq_places_key"),
    )
    op.create_index("ix_places_unit", "places", ["unit"])
    op.create_index("ix_places_updated_at", "places", ["updated_at"])


def downgrade():
    op.drop_table("places")
