"""console, second slice: who verified a place, when (`last_verified`) and how (called,
visited, official list); research leads for the office to check (never shown to residents);
a referred case's follow-up (when, by whom, the answer); a console user's TOTP secret
(sealed) and the last time step used.

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
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("follow_up_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("follow_up_officer_id", sa.Integer))
        batch.add_column(sa.Column("follow_up_done_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("follow_up_answer", sa.String(16)))
    with op.batch_alter_table("officers") as batch:
        batch.add_column(sa.Column("totp_secret", sa.LargeBinary))
        batch.add_column(sa.Column("totp_step", sa.Integer))


def downgrade():
    with op.batch_alter_table("officers") as batch:
        batch.drop_column("totp_step")
        batch.drop_column("totp_secret")
    with op.batch_alter_table("cases") as batch:
        for column in ("follow_up_answer", "follow_up_done_at", "follow_up_officer_id", "follow_up_at"):
            batch.drop_column(column)
    op.drop_table("place_leads")
    with op.batch_alter_table("places") as batch:
        batch.drop_column("verified_how")
        batch.drop_column("verified_by")
