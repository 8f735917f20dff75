"""What a witness rebuilt of each peer from its bulletins' audit entries (users,
token revocations, review states, the audit head), to catch hand edits (SPEC §7).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import Column, String, Text

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exchange_peer_state",
        Column("peer", String(100), primary_key=True),
        Column("replayed", Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("exchange_peer_state")
