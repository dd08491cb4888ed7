"""escalation: officers, shifts, case steps, append-only audit log

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

CASE_COLUMNS = [
    sa.Column("rung", sa.Integer, nullable=False, server_default="0"),
    sa.Column("assigned_officer_id", sa.Integer),
    sa.Column("reply_to", sa.LargeBinary),
    sa.Column("excerpt", sa.LargeBinary),
    sa.Column("relay", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("acknowledged_at", sa.DateTime(timezone=True)),
    sa.Column("closed_at", sa.DateTime(timezone=True)),
    sa.Column("outcome", sa.String(32)),
    sa.Column("note", sa.LargeBinary),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
]


def upgrade():
    op.create_table(
        "officers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("agency", sa.String(32), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("units", sa.String(300), nullable=False),
        sa.Column("telegram_key", sa.String(64), unique=True),
        sa.Column("telegram_chat", sa.LargeBinary),
        sa.Column("token_hash", sa.String(64), unique=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "shifts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("officer_id", sa.Integer, sa.ForeignKey("officers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("weekday", sa.Integer),
        sa.Column("day", sa.Date),
        sa.Column("start", sa.String(5), nullable=False),
        sa.Column("end", sa.String(5), nullable=False),
        sa.Column("off", sa.Boolean, nullable=False),
    )
    op.create_index("ix_shifts_officer_id", "shifts", ["officer_id"])
    with op.batch_alter_table("cases") as batch:
        for column in CASE_COLUMNS:
            batch.add_column(column)
        batch.create_foreign_key("fk_cases_officer", "officers", ["assigned_officer_id"], ["id"], ondelete="SET NULL")
    op.create_table(
        "case_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.String(16), sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("officer_id", sa.Integer),
        sa.Column("rung", sa.Integer),
        sa.Column("ref", sa.LargeBinary),
    )
    op.create_index("ix_case_events_case_id", "case_events", ["case_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("case_id", sa.String(16)),
    )
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                f"BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
            )
    else:
        op.execute(
            "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
        )


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    op.drop_table("audit_log")
    op.drop_table("case_events")
    with op.batch_alter_table("cases") as batch:
        batch.drop_constraint("fk_cases_officer", type_="foreignkey")
        for column in reversed(CASE_COLUMNS):
            batch.drop_column(column.name)
    op.drop_table("shifts")
    op.drop_table("officers")
