"""The exchange's tables (built by migration 0003_exchange, SQLite and PostgreSQL).

The centre's own log: `exchange_log` (one row per bulletin, the leaf bytes
exactly as hashed), `exchange_checkpoints` (the signed tree head after each
bulletin), `exchange_cosignatures` (peers' cosignatures over them) and
`exchange_keys` (the public halves of this centre's keys, current and retired:
the private key never enters the database). What it witnesses of each peer:
`exchange_peers`, `exchange_peer_keys`, `exchange_peer_bulletins`,
`exchange_peer_heads`. Every failure is a row of `exchange_alerts`.

Nothing here is updated in place except a peer's head and an alert's clearing:
the log tables are append-only, and the start-up check recomputes them.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

BigId = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()

exchange_keys = Table(
    "exchange_keys",
    metadata,
    Column("vkey", String(200), primary_key=True),  # NAME+hex8+base64, public only
    Column("name", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("retired_at", DateTime(timezone=True)),
)

exchange_log = Table(
    "exchange_log",
    metadata,
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

exchange_checkpoints = Table(
    "exchange_checkpoints",
    metadata,
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("root", String(64), nullable=False),
    Column("note", Text, nullable=False),  # the signed checkpoint
    Column("vkey", String(200), nullable=False),  # which of our keys signed it
    Column("created_at", DateTime(timezone=True), nullable=False),
)

exchange_cosignatures = Table(
    "exchange_cosignatures",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("size", BigInteger, nullable=False),
    Column("cosigner", String(100), nullable=False),
    Column("key_id", String(8), nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("line", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("size", "cosigner", "key_id", name="uq_exchange_cosignatures_signer"),
)

exchange_peers = Table(
    "exchange_peers",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("url", Text, nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
)

exchange_peer_keys = Table(
    "exchange_peer_keys",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("peer", String(100), nullable=False),
    Column("vkey", String(200), nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("peer", "vkey", name="uq_exchange_peer_keys_vkey"),
)

exchange_peer_bulletins = Table(
    "exchange_peer_bulletins",
    metadata,
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

exchange_peer_heads = Table(
    "exchange_peer_heads",
    metadata,
    Column("peer", String(100), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("root", String(64), nullable=False),
    Column("checkpoint", Text, nullable=False),  # the note text we verified
    Column("seen_at", DateTime(timezone=True), nullable=False),
    Column("cosigned_size", BigInteger),
    Column("cosigned_at", DateTime(timezone=True)),
)

# Convergence checks of peers' bulletins (migration 0005): both digests, and whether equal.
exchange_convergence = Table(
    "exchange_convergence",
    metadata,
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

# What a witness rebuilt of each peer from its bulletins' audit entries (migration 0006):
# `witness_state.Replayed` as JSON.
exchange_peer_state = Table(
    "exchange_peer_state",
    metadata,
    Column("peer", String(100), primary_key=True),
    Column("replayed", Text, nullable=False),
)

exchange_alerts = Table(
    "exchange_alerts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("peer", String(100)),  # null: about this centre's own log
    Column("kind", String(40), nullable=False),
    Column("seq", BigInteger),
    Column("detail", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("cleared_at", DateTime(timezone=True)),
    Column("cleared_by", String(200)),
)
