"""The evaluation as rows (issue #13 item 1), replacing the one JSON snapshot value.

`derived.snapshot` held each agreement's whole evaluation as one JSON text (325 MB
at 1M incidents; PostgreSQL caps a value at 1 GB). Now `derived.header` holds the
small parts (phases, conditions, counts) and every incident and violation is a
row of its own, rewritten only when it changed (`truce.store.evaluation_rows`).
Incident positions are indexed: an R*Tree on SQLite, a GiST index on PostgreSQL.

Stored snapshots are dropped, not converted: they are a cache, recomputed on the
next read.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import BigInteger, Column, Float, Integer, String, Text

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

RTREE_TRIGGERS = (
    """CREATE TRIGGER evaluation_incidents_rtree_insert AFTER INSERT ON evaluation_incidents
    WHEN new.lon IS NOT NULL AND new.lat IS NOT NULL BEGIN
      INSERT INTO evaluation_incidents_rtree VALUES (new.id, new.lon, new.lon, new.lat, new.lat);
    END""",
    """CREATE TRIGGER evaluation_incidents_rtree_update AFTER UPDATE OF lon, lat
    ON evaluation_incidents BEGIN
      DELETE FROM evaluation_incidents_rtree WHERE id = old.id;
      INSERT INTO evaluation_incidents_rtree
        SELECT new.id, new.lon, new.lon, new.lat, new.lat
        WHERE new.lon IS NOT NULL AND new.lat IS NOT NULL;
    END""",
    """CREATE TRIGGER evaluation_incidents_rtree_delete AFTER DELETE ON evaluation_incidents
    BEGIN
      DELETE FROM evaluation_incidents_rtree WHERE id = old.id;
    END""",
)


def _rows_table(name: str, *extra: Column) -> None:
    op.create_table(
        name,
        Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
        Column("agreement_id", String(100), nullable=False),
        Column("key", String(600), nullable=False),
        *extra,
        Column("pos", BigInteger),  # NULL: removed at `generation` (a tombstone)
        Column("generation", BigInteger, nullable=False),
        Column("digest", BigInteger),
        Column("doc", Text),
    )
    op.create_index(f"uq_{name}_agreement_key", name, ["agreement_id", "key"], unique=True)
    op.create_index(f"ix_{name}_agreement_generation", name, ["agreement_id", "generation"])
    # Covers what a refresh compares (key, place, digest) without reading the JSON.
    op.create_index(f"ix_{name}_agreement_pos", name, ["agreement_id", "pos", "key", "digest"])


def upgrade() -> None:
    _rows_table("evaluation_incidents", Column("lon", Float), Column("lat", Float))
    _rows_table("evaluation_violations", Column("incident_key", String(500)))
    with op.batch_alter_table("derived") as batch:
        batch.drop_column("snapshot")
        batch.add_column(Column("header", Text))
        batch.add_column(Column("generation", BigInteger))
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE evaluation_incidents_rtree USING rtree("
            "id, min_lon, max_lon, min_lat, max_lat)"
        )
        for trigger in RTREE_TRIGGERS:
            op.execute(trigger)
    else:
        op.execute(
            "CREATE INDEX ix_evaluation_incidents_point ON evaluation_incidents "
            "USING gist (point(lon, lat)) WHERE lon IS NOT NULL AND lat IS NOT NULL"
        )
    # Whatever was computed before is recomputed from the reports on the next read.
    op.execute("UPDATE derived SET computed_at = NULL, reports_version = NULL")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS evaluation_incidents_rtree")
        for name in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS evaluation_incidents_rtree_{name}")
    op.drop_table("evaluation_violations")
    op.drop_table("evaluation_incidents")
    with op.batch_alter_table("derived") as batch:
        batch.drop_column("generation")
        batch.drop_column("header")
        batch.add_column(Column("snapshot", Text))
    op.execute("UPDATE derived SET computed_at = NULL, reports_version = NULL")
