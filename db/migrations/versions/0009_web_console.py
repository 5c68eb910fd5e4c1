"""web console: sign-in links, sessions, the admin action log, shared keys, handled
unanswered questions, the reason of a knowledge-base version, an index for the statistics

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 09:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The admin action log is append-only: the database itself refuses to change or delete a row.
SQLITE_TRIGGERS = [
    f"CREATE TRIGGER admin_actions_no_{verb} BEFORE {verb.upper()} ON admin_actions "
    "BEGIN SELECT RAISE(ABORT, 'admin_actions is append-only'); END"
    for verb in ("update", "delete")
]
POSTGRES_TRIGGERS = [
    "CREATE FUNCTION admin_actions_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'admin_actions is append-only'; END $$",
    "CREATE TRIGGER admin_actions_append_only BEFORE UPDATE OR DELETE ON admin_actions "
    "FOR EACH ROW EXECUTE FUNCTION admin_actions_append_only()",
]


def upgrade() -> None:
    op.create_table(
        "web_sign_ins",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.telegram_id"],
            name=op.f("fk_web_sign_ins_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_web_sign_ins")),
    )
    op.create_index(op.f("ix_web_sign_ins_user_id"), "web_sign_ins", ["user_id"])
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("remote", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.telegram_id"],
            name=op.f("fk_web_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_web_sessions")),
    )
    op.create_index(op.f("ix_web_sessions_user_id"), "web_sessions", ["user_id"])
    op.create_table(
        "admin_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("actor_role", sa.String(length=16), nullable=False),
        sa.Column("origin", sa.String(length=80), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target", sa.String(length=120), nullable=False),
        sa.Column("area_path", sa.String(length=200), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_actions")),
    )
    op.create_index(op.f("ix_admin_actions_at"), "admin_actions", ["at"])
    op.create_index("ix_admin_actions_path_at", "admin_actions", ["area_path", "at"])
    op.create_table(
        "site_secrets",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_site_secrets")),
    )
    for table in ("unanswered_questions", "answer_feedback"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True))
            batch_op.add_column(sa.Column("handled_how", sa.String(length=20), nullable=True))
    with op.batch_alter_table("knowledge_entry_versions") as batch_op:
        batch_op.add_column(sa.Column("reason", sa.String(length=300), nullable=True))
    # The statistics pages read an area's townships over a period (bench/web_pages.py).
    with op.batch_alter_table("cases") as batch_op:
        batch_op.drop_index("ix_cases_township_code")
        batch_op.create_index("ix_cases_township_created", ["township_code", "created_at"])
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRES_TRIGGERS if postgres else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER admin_actions_append_only ON admin_actions")
        op.execute("DROP FUNCTION admin_actions_append_only()")
    with op.batch_alter_table("cases") as batch_op:
        batch_op.drop_index("ix_cases_township_created")
        batch_op.create_index("ix_cases_township_code", ["township_code"])
    with op.batch_alter_table("knowledge_entry_versions") as batch_op:
        batch_op.drop_column("reason")
    for table in ("answer_feedback", "unanswered_questions"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("handled_how")
            batch_op.drop_column("handled_at")
    op.drop_table("site_secrets")
    op.drop_index("ix_admin_actions_path_at", table_name="admin_actions")
    op.drop_index(op.f("ix_admin_actions_at"), table_name="admin_actions")
    op.drop_table("admin_actions")  # SQLite drops its triggers with it
    op.drop_index(op.f("ix_web_sessions_user_id"), table_name="web_sessions")
    op.drop_table("web_sessions")
    op.drop_index(op.f("ix_web_sign_ins_user_id"), table_name="web_sign_ins")
    op.drop_table("web_sign_ins")
