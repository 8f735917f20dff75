"""The tables, as SQLAlchemy Core metadata. Migrations (not `create_all`) build them.

Times are stored in UTC. Every table works on SQLite and PostgreSQL alike; on
PostgreSQL with PostGIS the migration adds `reports.geom`, a generated
`geometry(Point, 4326)` column with a GiST index, derived from `lon`/`lat` so the
same insert code path serves both dialects.

Every ingested row updates every index on `reports` (on PostgreSQL the GiST
index alone is over half of the server's work per row): add one only for a query
that needs it (migration 0002 dropped the unused `observed_at` index).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

# BIGINT on PostgreSQL, INTEGER (the rowid alias, auto-incrementing) on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")
# Identifiers compared for equality only: byte-wise on PostgreSQL (COLLATE "C"), so
# index maintenance does not depend on the database locale. SQLite compares bytes anyway.
KeyText = String(200).with_variant(String(200, collation="C"), "postgresql")

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

reports = Table(
    "reports",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("source", KeyText, nullable=False),
    Column("report_id", KeyText, nullable=False),
    Column("observed_at", DateTime(timezone=True), nullable=False),
    Column("lon", Float, nullable=False),
    Column("lat", Float, nullable=False),
    Column("place", Text),
    Column("location_precision_m", Float),
    Column("event_type", String(40), nullable=False),
    Column("weapon", String(40)),
    Column("actor", Text),
    Column("side", String(100)),
    Column("target", Text),
    Column("count", Float),
    Column("fatalities", Float),
    Column("reliability", String(1)),
    Column("credibility", SmallInteger),
    Column("notes", Text),
    # SPEC §4 (migration 0004): NULL where not stated; direction NULL reads as "attack".
    Column("observed_to", DateTime(timezone=True)),
    Column("direction", String(10)),
    Column("fatalities_low", Float),
    Column("fatalities_high", Float),
    Column("source_url", Text),
    Column("dataset", String(200)),
    Column("original", Text),  # an imported row as its source wrote it (JSON text)
    Column("submitted_by", KeyText, nullable=False),
    Column("published", Boolean, nullable=False, default=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("source", "report_id", name="uq_reports_source_report_id"),
)
# Every index here is updated by every ingested row: only those a query uses.
Index("ix_reports_submitted_by", reports.c.submitted_by)

users = Table(
    "users",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("party", String(100)),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Column("expires_at", DateTime(timezone=True)),
    # Source names the token may submit under, a JSON list; NULL = the role's
    # default (truce.domain.access.submit_sources).
    Column("sources", Text),
)
Index("ix_users_name", users.c.name)

# Key/value counters shared by all processes: `reports_version` (bumped by every
# ingest that adds rows), `audit_head` (hash of the newest audit entry).
state = Table(
    "state",
    metadata,
    Column("key", String(50), primary_key=True),
    Column("int_value", BigInteger),
    Column("text_value", Text),
)

violation_reviews = Table(
    "violation_reviews",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("violation_key", String(600), nullable=False, unique=True),
    Column("agreement_id", String(100), nullable=False),
    Column("rule", String(100), nullable=False),
    Column("incident_key", String(500), nullable=False),
    Column("state", String(20), nullable=False),
    Column("published", Boolean, nullable=False, default=False),
    Column("version", Integer, nullable=False, default=1),  # optimistic concurrency
    Column("last_seen", Text),  # JSON of the violation when last reviewed (kept when it disappears)
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
Index("ix_violation_reviews_agreement_id", violation_reviews.c.agreement_id)

review_events = Table(
    "review_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column(
        "review_id",
        BigId,
        ForeignKey("violation_reviews.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("actor_role", String(20), nullable=False),
    Column("actor_party", String(100)),
    Column("action", String(20), nullable=False),
    Column("from_state", String(20), nullable=False),
    Column("to_state", String(20), nullable=False),
    Column("comment", Text),
)
Index("ix_review_events_review_id", review_events.c.review_id)

# Incidents the secretariat published (publishing a violation publishes its incident).
incident_publications = Table(
    "incident_publications",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("agreement_id", String(100), nullable=False),
    Column("incident_key", String(500), nullable=False),
    Column("published_by", String(200), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("agreement_id", "incident_key", name="uq_incident_publications_key"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at", String(40), nullable=False),  # ISO 8601 UTC, exactly as hashed
    Column("actor", String(200), nullable=False),
    Column("action", String(50), nullable=False),
    Column("payload", Text, nullable=False),  # canonical JSON, exactly as hashed
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

# One cached evaluation per agreement, for one reports version (migration 0009). `claim_*` is a lease:
# the process whose conditional UPDATE claims it computes; the others wait for it.
derived = Table(
    "derived",
    metadata,
    Column("agreement_id", String(100), primary_key=True),
    Column("reports_version", BigInteger),
    Column("agreement_digest", String(64)),
    Column("as_of", DateTime(timezone=True)),
    Column("valid_until", DateTime(timezone=True)),
    Column("computed_at", DateTime(timezone=True)),
    # JSON: the evaluation object served by the API without its incidents and violations,
    # which are rows of `evaluation_incidents` and `evaluation_violations`.
    Column("header", Text),
    Column("generation", BigInteger),  # bumped by every store: rows carry the one that wrote them
    Column("claim_version", BigInteger),
    Column("claim_token", String(64)),
    Column("claim_at", DateTime(timezone=True)),
)


def _evaluation_rows(name: str, *extra: Column[object]) -> Table:
    """One row per incident or violation of an agreement's stored evaluation, keyed by its
    stable key; `pos` is its place in the evaluation (NULL: removed at `generation`)."""
    return Table(
        name,
        metadata,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("agreement_id", String(100), nullable=False),
        Column("key", String(600), nullable=False),
        *extra,
        Column("pos", BigInteger),
        Column("generation", BigInteger, nullable=False),
        Column("digest", BigInteger),  # of `doc`: what a refresh compares
        Column("doc", Text),  # JSON without the positional ids, which `pos` gives
        UniqueConstraint("agreement_id", "key", name=f"uq_{name}_agreement_key"),
    )


# Positions are indexed too (R*Tree / GiST), by migration 0009 outside this metadata.
evaluation_incidents = _evaluation_rows(
    "evaluation_incidents", Column("lon", Float), Column("lat", Float)
)
evaluation_violations = _evaluation_rows(
    "evaluation_violations", Column("incident_key", String(500))
)
for _rows in (evaluation_incidents, evaluation_violations):
    Index(f"ix_{_rows.name}_agreement_generation", _rows.c.agreement_id, _rows.c.generation)
    Index(
        f"ix_{_rows.name}_agreement_pos",
        _rows.c.agreement_id,
        _rows.c.pos,
        _rows.c.key,
        _rows.c.digest,
    )

# Changes to an agreement's sign-up registry made through the API (never updated: the
# newest row per agreement and group wins over the agreement file).
commitment_changes = Table(
    "commitment_changes",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("agreement_id", String(100), nullable=False),
    Column("group_name", String(200), nullable=False),
    Column("party", String(100), nullable=False),
    Column("via", String(100)),
    Column("accepted", DateTime(timezone=True)),
    Column("declined", DateTime(timezone=True)),
    Column("withdrew", DateTime(timezone=True)),
    Column("note", Text),
    Column("source", Text),
    Column("changed_by", String(200), nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
)
Index("ix_commitment_changes_agreement_id", commitment_changes.c.agreement_id)
