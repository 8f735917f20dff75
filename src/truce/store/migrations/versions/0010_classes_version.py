"""A second counter beside the reports version: `classes_version`, moved by every
change that may alter a visibility class's evaluation other than new reports (which
are stored unpublished, so only their submitters' classes see them). A server keeps
a class's evaluation across new reports it does not see (`truce.store.reports.Basis`).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

STATE = sa.table("state", sa.column("key"), sa.column("int_value"), sa.column("text_value"))


def upgrade() -> None:
    op.bulk_insert(STATE, [{"key": "classes_version", "int_value": 0, "text_value": None}])


def downgrade() -> None:
    op.execute(STATE.delete().where(STATE.c.key == "classes_version"))
