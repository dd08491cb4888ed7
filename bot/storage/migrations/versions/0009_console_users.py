"""console users: the officers table becomes the one users table (username, argon2id password
hash, console role, lockout, last seen); console sessions; relayed messages kept sealed on
the case's steps (for the console's relay); audit rows name whom an account change concerns.
Roster officers keep their ladder role and API token; officers and coordinators get the
console role of the same name (they sign in once `gbvbot users add --officer-id` gives them
a username and password). Accounts that are not on the duty roster (officials, admins) have
no ladder role and no agency.

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("officers") as batch:
        batch.add_column(sa.Column("username", sa.String(64)))
        batch.add_column(sa.Column("password_hash", sa.String(200)))
        batch.add_column(sa.Column("console_role", sa.String(16)))
        batch.add_column(sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("locked_until", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("last_seen_at", sa.DateTime(timezone=True)))
        batch.alter_column("role", existing_type=sa.String(16), nullable=True)
        batch.alter_column("agency", existing_type=sa.String(32), nullable=True)
        batch.create_unique_constraint("uq_officers_username", ["username"])
    officers = sa.table("officers", sa.column("role", sa.String), sa.column("console_role", sa.String))
    op.execute(officers.update().where(officers.c.role == "coordinator").values(console_role="coordinator"))
    op.execute(officers.update().where(officers.c.role != "coordinator").values(console_role="officer"))
    op.create_table(
        "console_sessions",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("officer_id", sa.Integer, sa.ForeignKey("officers.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("flash", sa.String(300)),
    )
    op.add_column("case_events", sa.Column("text", sa.LargeBinary))
    op.add_column("audit_log", sa.Column("subject", sa.String(64)))


def downgrade():
    op.drop_column("audit_log", "subject")
    op.drop_column("case_events", "text")
    op.drop_table("console_sessions")
    with op.batch_alter_table("officers") as batch:
        batch.drop_constraint("uq_officers_username", type_="unique")
        for column in ("last_seen_at", "locked_until", "failed_logins", "console_role", "password_hash", "username"):
            batch.drop_column(column)
