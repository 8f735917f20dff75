"""The source names a token may submit under (issue #13: sources bound to tokens).

NULL keeps the role's default (truce.domain.access.submit_sources), so tokens
made before this migration keep working as documented in docs/api.md.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import Column, Text

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(Column("sources", Text))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("sources")
