"""Convergence checks of peers' bulletins (SPEC §7): both evaluation digests per bulletin.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import BigInteger, Boolean, Column, DateTime, Integer, String

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BigId = BigInteger().with_variant(Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "exchange_convergence",
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("peer", String(100), nullable=False),
        Column("seq", BigInteger, nullable=False),
        Column("agreement_id", String(100), nullable=False),
        Column("period_to", DateTime(timezone=True), nullable=False),
        Column("their_digest", String(64), nullable=False),
        Column("our_digest", String(64), nullable=False),
        Column("matched", Boolean, nullable=False),
        Column("checked_at", DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("exchange_convergence")
