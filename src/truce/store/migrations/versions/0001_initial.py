"""Initial schema: reports, users, state, reviews, publications, audit log, derived cache.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

log = logging.getLogger("truce.store.migrations")

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "reports",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("report_id", sa.String(200), nullable=False),
        sa.Column("observed_at", TZ, nullable=False),
        sa.Column("lon", sa.Float, nullable=False),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("place", sa.Text),
        sa.Column("location_precision_m", sa.Float),
        sa.Column("event_type", sa.String(40), nullable=False),
        sa.Column("weapon", sa.String(40)),
        sa.Column("actor", sa.Text),
        sa.Column("side", sa.String(100)),
        sa.Column("target", sa.Text),
        sa.Column("count", sa.Float),
        sa.Column("fatalities", sa.Float),
        sa.Column("reliability", sa.String(1)),
        sa.Column("credibility", sa.SmallInteger),
        sa.Column("notes", sa.Text),
        sa.Column("submitted_by", sa.String(200), nullable=False),
        sa.Column("published", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("received_at", TZ, nullable=False),
        sa.UniqueConstraint("source", "report_id", name="uq_reports_source_report_id"),
    )
    op.create_index("ix_reports_observed_at", "reports", ["observed_at"])
    op.create_index("ix_reports_submitted_by", "reports", ["submitted_by"])

    op.create_table(
        "users",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("party", sa.String(100)),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("revoked_at", TZ),
        sa.Column("expires_at", TZ),
    )
    op.create_index("ix_users_name", "users", ["name"])

    op.create_table(
        "state",
        sa.Column("key", sa.String(50), primary_key=True),
        sa.Column("int_value", sa.BigInteger),
        sa.Column("text_value", sa.Text),
    )
    op.bulk_insert(
        sa.table("state", sa.column("key"), sa.column("int_value"), sa.column("text_value")),
        [
            {"key": "reports_version", "int_value": 0, "text_value": None},
            {"key": "audit_head", "int_value": 0, "text_value": "0" * 64},
        ],
    )

    op.create_table(
        "violation_reviews",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("violation_key", sa.String(600), nullable=False, unique=True),
        sa.Column("agreement_id", sa.String(100), nullable=False),
        sa.Column("rule", sa.String(100), nullable=False),
        sa.Column("incident_key", sa.String(500), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("published", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("last_seen", sa.Text),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_index("ix_violation_reviews_agreement_id", "violation_reviews", ["agreement_id"])

    op.create_table(
        "review_events",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column(
            "review_id",
            BigId,
            sa.ForeignKey("violation_reviews.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("at", TZ, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("actor_role", sa.String(20), nullable=False),
        sa.Column("actor_party", sa.String(100)),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("from_state", sa.String(20), nullable=False),
        sa.Column("to_state", sa.String(20), nullable=False),
        sa.Column("comment", sa.Text),
    )
    op.create_index("ix_review_events_review_id", "review_events", ["review_id"])

    op.create_table(
        "incident_publications",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("agreement_id", sa.String(100), nullable=False),
        sa.Column("incident_key", sa.String(500), nullable=False),
        sa.Column("published_by", sa.String(200), nullable=False),
        sa.Column("published_at", TZ, nullable=False),
        sa.UniqueConstraint("agreement_id", "incident_key", name="uq_incident_publications_key"),
    )

    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(50), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )

    op.create_table(
        "derived",
        sa.Column("agreement_id", sa.String(100), primary_key=True),
        sa.Column("reports_version", sa.BigInteger),
        sa.Column("agreement_digest", sa.String(64)),
        sa.Column("as_of", TZ),
        sa.Column("valid_until", TZ),
        sa.Column("computed_at", TZ),
        sa.Column("snapshot", sa.Text),
        sa.Column("claim_version", sa.BigInteger),
        sa.Column("claim_token", sa.String(64)),
        sa.Column("claim_at", TZ),
    )

    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        _add_postgis_geometry(bind)


def _add_postgis_geometry(bind: sa.Connection) -> None:
    """`reports.geom`: a generated point from lon/lat, GiST-indexed, when PostGIS exists."""
    available = bind.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")
    ).scalar()
    if not available:
        log.warning(
            "PostGIS is not installed on this PostgreSQL server: reports.geom is not created "
            "(lon/lat columns still work; run scripts/setup-postgis.sh, then re-create the database)"
        )
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute(
        "ALTER TABLE reports ADD COLUMN geom geometry(Point, 4326) "
        "GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)) STORED"
    )
    op.execute("CREATE INDEX ix_reports_geom ON reports USING gist (geom)")


def downgrade() -> None:
    for table in (
        "derived",
        "audit_log",
        "incident_publications",
        "review_events",
        "violation_reviews",
        "state",
        "users",
        "reports",
    ):
        op.drop_table(table)
