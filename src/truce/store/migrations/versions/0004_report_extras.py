"""SPEC §4 report columns: time window end, direction, fatalities range, source URL,
dataset, and the imported source row.

All nullable, added at the end of `reports`: no table rewrite on PostgreSQL or
SQLite; stored reports read as "not stated" (direction NULL is `attack`, SPEC §4's
default).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _columns() -> list[sa.Column[object]]:
    return [
        sa.Column("observed_to", sa.DateTime(timezone=True)),
        sa.Column("direction", sa.String(10)),
        sa.Column("fatalities_low", sa.Float),
        sa.Column("fatalities_high", sa.Float),
        sa.Column("source_url", sa.Text),
        sa.Column("dataset", sa.String(200)),
        sa.Column("original", sa.Text),
    ]


def upgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        for column in _columns():
            batch.add_column(column)


def downgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        for column in reversed(_columns()):
            batch.drop_column(column.name)
