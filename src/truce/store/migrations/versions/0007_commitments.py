"""The sign-up registry's changes made through the API (SPEC §6 `commitments`).

One row per change, never updated: the newest row for an (agreement, group)
replaces that group's entry in the agreement file.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "commitment_changes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("agreement_id", sa.String(100), nullable=False),
        sa.Column("group_name", sa.String(200), nullable=False),
        sa.Column("party", sa.String(100), nullable=False),
        sa.Column("via", sa.String(100)),
        sa.Column("accepted", sa.DateTime(timezone=True)),
        sa.Column("declined", sa.DateTime(timezone=True)),
        sa.Column("withdrew", sa.DateTime(timezone=True)),
        sa.Column("note", sa.Text),
        sa.Column("source", sa.Text),
        sa.Column("changed_by", sa.String(200), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_commitment_changes_agreement_id", "commitment_changes", ["agreement_id"])


def downgrade() -> None:
    op.drop_index("ix_commitment_changes_agreement_id", table_name="commitment_changes")
    op.drop_table("commitment_changes")
