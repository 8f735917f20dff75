"""PostgreSQL keeps the number of stored reports in `state` (`reports_count`), by
statement triggers on `reports`: each refresh and each visibility class's check
asks how many reports there are (it tells whether a lower id was committed later,
or a report removed), and `count(*)` reads every row: half a second at a million.
SQLite counts from its smallest index (a tenth of that) and needs no trigger.

The count and the triggers are made with the table locked against writers: a report
inserted by a transaction still open when the rows were counted, and committed before
the triggers existed, would be missing from the count for good (every refresh then
reading every id, never a wrong answer). The upgrade waits for writers in flight;
processes of the previous version may keep running, the triggers count what they
insert.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# One function for the three triggers. `state` is named in the trigger's own schema
# (a session's search path may differ from the one the schema was made with).
FUNCTION = """
CREATE OR REPLACE FUNCTION truce_reports_counted() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        EXECUTE format('UPDATE %I.state SET int_value = 0 WHERE key = ''reports_count''',
                       TG_TABLE_SCHEMA);
        RETURN NULL;
    END IF;
    SELECT count(*) INTO n FROM changed_rows;
    IF TG_OP = 'DELETE' THEN
        n := -n;
    END IF;
    IF n <> 0 THEN
        EXECUTE format('UPDATE %I.state SET int_value = int_value + $1 '
                       'WHERE key = ''reports_count''', TG_TABLE_SCHEMA) USING n;
    END IF;
    RETURN NULL;
END
$$
"""

TRIGGERS = {
    "reports_counted_insert": "AFTER INSERT ON reports REFERENCING NEW TABLE AS changed_rows",
    "reports_counted_delete": "AFTER DELETE ON reports REFERENCING OLD TABLE AS changed_rows",
    "reports_counted_truncate": "AFTER TRUNCATE ON reports",
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # Conflicts with the lock every INSERT, COPY and DELETE takes, not with readers.
    op.execute("LOCK TABLE reports IN SHARE ROW EXCLUSIVE MODE")
    op.execute("INSERT INTO state (key, int_value) SELECT 'reports_count', count(*) FROM reports")
    op.execute(FUNCTION)
    for name, when in TRIGGERS.items():
        op.execute(
            f"CREATE TRIGGER {name} {when} FOR EACH STATEMENT "
            "EXECUTE FUNCTION truce_reports_counted()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON reports")
    op.execute("DROP FUNCTION IF EXISTS truce_reports_counted()")
    op.execute("DELETE FROM state WHERE key = 'reports_count'")
