"""campaigns: subscriptions get an optional unit and topics and an `active` flag (false once
the resident blocked the bot); campaigns, one delivery row per campaign and subscriber
(exactly once across restarts), and quiz attempts (contest participant codes).

Revision ID: 0011
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("subscriptions") as batch:
        batch.add_column(sa.Column("unit", sa.String(64)))
        batch.add_column(sa.Column("topics", sa.String(200)))
        batch.add_column(sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()))
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("buttons", sa.Text, nullable=False),
        sa.Column("channels", sa.String(64), nullable=False),
        sa.Column("units", sa.String(300), nullable=False),
        sa.Column("topics", sa.String(200), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True)),
        sa.Column("quiet_start", sa.String(5), nullable=False),
        sa.Column("quiet_end", sa.String(5), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("template", sa.String(64)),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("taps", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_table(
        "campaign_deliveries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("campaign_id", sa.Integer, sa.ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False),
        sa.Column("sender", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(32)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("campaign_id", "sender", name="uq_campaign_deliveries_recipient"),
    )
    op.create_index("ix_campaign_deliveries_status", "campaign_deliveries", ["campaign_id", "status"])
    op.create_table(
        "quiz_attempts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("quiz", sa.String(32), nullable=False),
        sa.Column("sender", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("answers", sa.String(400), nullable=False),
        sa.Column("score", sa.Integer, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("code", sa.String(16), unique=True),
        sa.UniqueConstraint("quiz", "sender", name="uq_quiz_attempts_sender"),
    )


def downgrade():
    op.drop_table("quiz_attempts")
    op.drop_index("ix_campaign_deliveries_status", "campaign_deliveries")
    op.drop_table("campaign_deliveries")
    op.drop_table("campaigns")
    with op.batch_alter_table("subscriptions") as batch:
        for column in ("active", "topics", "unit"):
            batch.drop_column(column)
