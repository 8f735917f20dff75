"""The joint exchange (SPEC §7): the centre's bulletin log, checkpoints,
cosignatures, peers, what was witnessed of them, and alerts.

`truce.exchange.tables` describes the tables; they are spelled out here as they
are at this revision, so later changes need their own migration.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BigId = BigInteger().with_variant(Integer(), "sqlite")

TABLES = (
    "exchange_keys",
    "exchange_log",
    "exchange_checkpoints",
    "exchange_cosignatures",
    "exchange_peers",
    "exchange_peer_keys",
    "exchange_peer_bulletins",
    "exchange_peer_heads",
    "exchange_alerts",
)


def upgrade() -> None:
    op.create_table(
        "exchange_keys",
        Column("vkey", String(200), primary_key=True),  # NAME+hex8+base64, public only
        Column("name", String(100), nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("retired_at", DateTime(timezone=True)),
    )

    op.create_table(
        "exchange_log",
        Column("seq", BigInteger, primary_key=True, autoincrement=False),  # leaf index + 1
        Column("agreement_id", String(100), nullable=False),
        Column("period_from", DateTime(timezone=True), nullable=False),
        Column("period_to", DateTime(timezone=True), nullable=False),
        Column("issued_at", DateTime(timezone=True), nullable=False),
        Column("bulletin", LargeBinary, nullable=False),  # RFC 8785 bytes: the leaf
        Column("leaf_hash", String(64), nullable=False),
        Column("max_report_id", BigInteger, nullable=False),  # reports.id held when issued
        UniqueConstraint("agreement_id", "period_to", name="uq_exchange_log_period"),
    )

    op.create_table(
        "exchange_checkpoints",
        Column("size", BigInteger, primary_key=True, autoincrement=False),
        Column("root", String(64), nullable=False),
        Column("note", Text, nullable=False),  # the signed checkpoint
        Column("vkey", String(200), nullable=False),  # which of our keys signed it
        Column("created_at", DateTime(timezone=True), nullable=False),
    )

    op.create_table(
        "exchange_cosignatures",
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("size", BigInteger, nullable=False),
        Column("cosigner", String(100), nullable=False),
        Column("key_id", String(8), nullable=False),
        Column("timestamp", BigInteger, nullable=False),
        Column("line", Text, nullable=False),
        Column("received_at", DateTime(timezone=True), nullable=False),
        UniqueConstraint("size", "cosigner", "key_id", name="uq_exchange_cosignatures_signer"),
    )

    op.create_table(
        "exchange_peers",
        Column("name", String(100), primary_key=True),
        Column("url", Text, nullable=False),
        Column("added_at", DateTime(timezone=True), nullable=False),
    )

    op.create_table(
        "exchange_peer_keys",
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("peer", String(100), nullable=False),
        Column("vkey", String(200), nullable=False),
        Column("added_at", DateTime(timezone=True), nullable=False),
        UniqueConstraint("peer", "vkey", name="uq_exchange_peer_keys_vkey"),
    )

    op.create_table(
        "exchange_peer_bulletins",
        Column("peer", String(100), primary_key=True),
        Column("seq", BigInteger, primary_key=True, autoincrement=False),
        Column("agreement_id", String(100), nullable=False),
        Column("period_from", DateTime(timezone=True), nullable=False),
        Column("period_to", DateTime(timezone=True), nullable=False),
        Column("bulletin", LargeBinary, nullable=False),
        Column("leaf_hash", String(64), nullable=False),
        Column("max_report_id", BigInteger, nullable=False),  # reports.id after importing it
        Column("received_at", DateTime(timezone=True), nullable=False),
    )

    op.create_table(
        "exchange_peer_heads",
        Column("peer", String(100), primary_key=True),
        Column("size", BigInteger, nullable=False),
        Column("root", String(64), nullable=False),
        Column("checkpoint", Text, nullable=False),  # the note text we verified
        Column("seen_at", DateTime(timezone=True), nullable=False),
        Column("cosigned_size", BigInteger),
        Column("cosigned_at", DateTime(timezone=True)),
    )

    op.create_table(
        "exchange_alerts",
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("peer", String(100)),  # null: about this centre's own log
        Column("kind", String(40), nullable=False),
        Column("seq", BigInteger),
        Column("detail", Text, nullable=False),
        Column("at", DateTime(timezone=True), nullable=False),
        Column("cleared_at", DateTime(timezone=True)),
        Column("cleared_by", String(200)),
    )


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_table(name)
