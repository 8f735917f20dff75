"""Cheaper ingest: drop the unused observed_at index; byte-wise keys on PostgreSQL.

Every ingested row updates every index on `reports`. `ix_reports_observed_at`
serves no query (reports are loaded whole, in id order), so it goes. On
PostgreSQL, `source`, `report_id` and `submitted_by` are identifiers, compared
for equality only: COLLATE "C" makes their index comparisons byte-wise instead
of going through the database locale (with an ICU or glibc en_US locale, the
unique index alone costs ~50% more CPU per row). Equality is unchanged.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

KEY_COLUMNS = ("source", "report_id", "submitted_by")


def upgrade() -> None:
    op.drop_index("ix_reports_observed_at", table_name="reports")
    if op.get_bind().dialect.name == "postgresql":
        # Same type, new collation: no table rewrite; the indexes on these columns are rebuilt.
        changes = ", ".join(f'ALTER COLUMN {c} TYPE varchar(200) COLLATE "C"' for c in KEY_COLUMNS)
        op.execute(f"ALTER TABLE reports {changes}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        changes = ", ".join(
            f"ALTER COLUMN {c} TYPE varchar(200) COLLATE pg_catalog.default" for c in KEY_COLUMNS
        )
        op.execute(f"ALTER TABLE reports {changes}")
    op.create_index("ix_reports_observed_at", "reports", ["observed_at"])
