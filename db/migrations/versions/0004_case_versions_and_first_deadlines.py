"""case versions and first deadlines; outbox pieces sent

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 12:23:08.374028
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("first_accept_due", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("first_resolve_due", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("about", sa.String(length=16), nullable=True))
        batch_op.drop_constraint(batch_op.f("uq_cases_source_update_id"), type_="unique")
        batch_op.create_unique_constraint(
            "uq_cases_reporter_update", ["reporter_id", "source_update_id"]
        )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("pieces_sent", sa.Integer(), nullable=False, server_default="0")
        )
    # Existing cases: their current deadlines are the best record of the first ones.
    op.execute("UPDATE cases SET first_accept_due = accept_due, first_resolve_due = resolve_due")


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("pieces_sent")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_constraint("uq_cases_reporter_update", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_cases_source_update_id"), ["source_update_id"]
        )
        batch_op.drop_column("about")
        batch_op.drop_column("version")
        batch_op.drop_column("first_resolve_due")
        batch_op.drop_column("first_accept_due")
