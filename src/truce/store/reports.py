"""Reports in and out of the database, in bulk.

Insert (`insert_reports`), in the caller's write transaction, which holds the
writers' lock (SQLite: the write lock; PostgreSQL: the advisory lock every
`write_transaction` takes), so no other writer interleaves:
- PostgreSQL: the batch is encoded column-wise into a binary COPY payload
  (`pgcopy`) and copied straight into `reports` under a savepoint. If a row's
  (source, report_id) is stored already the unique index refuses the COPY; then
  the stored keys are found with one query and only the new rows are copied.
- SQLite: one `executemany` of `INSERT ... ON CONFLICT (source, report_id) DO
  NOTHING`; the rows with an id above the largest id before the insert are
  exactly the new ones (rowids only grow while the write lock is held).
Either way the unique constraint on (source, report_id) is the final guard.

Load: every stored report as a columnar `ReportTable`, for `evaluate()`.

The column mapping itself (ReportTable <-> column values, per dialect) is in
`truce.store.report_columns`; this module holds the SQL around it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import (
    ColumnElement,
    Connection,
    DateTime,
    String,
    func,
    or_,
    select,
    tuple_,
    type_coerce,
    union_all,
    update,
)

from truce.domain.keys import report_key, split_report_key
from truce.domain.model import ReportTable, empty_reports
from truce.formats.reports import COLUMNS
from truce.store import pgcopy, report_columns
from truce.store.schema import reports, state

# The SPEC §2 and §4 columns, stored as read, and an imported row as its source wrote
# it; every insert path addresses them by name. A status report's `status` (SPEC §6) is
# kept as the first word of its notes (formats.reports.status), not in a column of its own.
STORED_COLUMNS: tuple[str, ...] = (*(c for c in COLUMNS if c != "status"), "original")
INSERT_COLUMNS: tuple[str, ...] = (*STORED_COLUMNS, "submitted_by", "published", "received_at")
# Rows per COPY payload (PostgreSQL) or executemany (SQLite): bounds the memory of one
# encoding step; the server works on one slice while the next is encoded.
SLICE_ROWS = 20_000
LOAD_ROWS = 250_000  # rows made columns at a time by `load_all`
UNIQUE_KEY = "uq_reports_source_report_id"
# The most characters a length-limited column takes (PostgreSQL enforces it; SQLite does not).
TEXT_LIMITS: dict[str, int] = {
    c.name: c.type.length
    for c in reports.c
    if isinstance(c.type, String) and c.type.length is not None
}


@dataclass(frozen=True)
class InsertOutcome:
    new: np.ndarray  # bool per row of the table: True where the row was stored by this insert

    @property
    def count(self) -> int:
        return int(self.new.sum())


def insert_reports(
    conn: Connection, table: ReportTable, *, submitted_by: str, received_at: datetime
) -> InsertOutcome:
    """Store the rows of `table` whose (source, report_id) is new, in the caller's write
    transaction. `table` must not repeat a key (the reader keeps the first of each)."""
    if not len(table):
        return InsertOutcome(np.zeros(0, dtype=bool))
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        return _insert_pg(conn, table, submitted_by, received_at)
    if conn.dialect.name == "sqlite":
        return _insert_sqlite(conn, table, submitted_by, received_at)
    raise NotImplementedError(f"no bulk insert for {conn.dialect.name}+{conn.dialect.driver}")


# --- PostgreSQL: binary COPY ---------------------------------------------------------


def _copy_in(cur: Any, table: ReportTable, submitted_by: str, received_at: datetime) -> None:
    """One COPY of every row of `table`, encoded and sent SLICE_ROWS rows at a time."""
    fields = report_columns.pg_fields(table, submitted_by, received_at)
    # The columns that take the same bytes in every row first: they encode as one block.
    order = sorted(fields, key=lambda name: not fields[name].uniform)
    columns = ", ".join(f'"{c}"' for c in order)
    with cur.copy(f"COPY reports ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.write(pgcopy.HEADER)
        for start in range(0, len(table), SLICE_ROWS):
            stop = min(start + SLICE_ROWS, len(table))
            copy.write(pgcopy.encode_rows([fields[c].rows(start, stop) for c in order]))
        copy.write(pgcopy.TRAILER)


def _insert_pg(
    conn: Connection, table: ReportTable, submitted_by: str, received_at: datetime
) -> InsertOutcome:
    from psycopg import errors

    raw = conn.connection.driver_connection
    try:
        with conn.begin_nested(), raw.cursor() as cur:  # type: ignore[union-attr]
            _copy_in(cur, table, submitted_by, received_at)
        return InsertOutcome(np.ones(len(table), dtype=bool))
    except errors.UniqueViolation as exc:
        if exc.diag.constraint_name != UNIQUE_KEY:
            raise
    # Some keys are stored already: copy only the others. The writers' lock is held,
    # so the stored keys cannot change before the second COPY.
    new = ~stored_rows(conn, table)
    if new.any():
        with raw.cursor() as cur:  # type: ignore[union-attr]
            _copy_in(cur, table.take(np.flatnonzero(new)), submitted_by, received_at)
    return InsertOutcome(new)


def stored_rows(conn: Connection, table: ReportTable) -> np.ndarray:
    """Which rows of `table` have a (source, report_id) that is stored already (bool per
    row), in one query that probes the unique index once per row."""
    stored = np.zeros(len(table), dtype=bool)
    if not len(table):
        return stored
    sources, report_ids = table.source.tolist(), table.report_id.tolist()
    raw = conn.connection.driver_connection
    cur = raw.cursor()  # type: ignore[union-attr]
    try:
        if conn.dialect.name == "postgresql":
            cur.execute(
                "SELECT k.i FROM unnest(%s::text[], %s::text[]) WITH ORDINALITY AS k(s, r, i) "
                "WHERE EXISTS (SELECT 1 FROM reports WHERE source = k.s AND report_id = k.r)",
                (sources, report_ids),
            )
            found = [row[0] - 1 for row in cur.fetchall()]  # ordinality counts from 1
        else:
            cur.execute(
                "SELECT CAST(k.key AS INTEGER) FROM json_each(?) AS k WHERE EXISTS (SELECT 1 "
                "FROM reports WHERE source = json_extract(k.value, '$[0]') "
                "AND report_id = json_extract(k.value, '$[1]'))",
                (json.dumps(list(zip(sources, report_ids, strict=True))),),
            )
            found = [row[0] for row in cur.fetchall()]
    finally:
        cur.close()
    stored[np.array(found, dtype=np.int64)] = True
    return stored


# --- SQLite: executemany, new rows found by rowid --------------------------------------


_QUOTED_COLUMNS = ", ".join(f'"{c}"' for c in INSERT_COLUMNS)


def _insert_sqlite(
    conn: Connection, table: ReportTable, submitted_by: str, received_at: datetime
) -> InsertOutcome:
    n = len(table)
    by_name = report_columns.sqlite_values(table, submitted_by, received_at)
    marks = ", ".join("?" * len(INSERT_COLUMNS))
    sql = (
        f"INSERT INTO reports ({_QUOTED_COLUMNS}) VALUES ({marks}) "
        "ON CONFLICT (source, report_id) DO NOTHING"
    )
    raw = conn.connection.driver_connection
    cur = raw.cursor()  # type: ignore[union-attr]
    try:
        before = cur.execute("SELECT coalesce(max(id), 0) FROM reports").fetchone()[0]
        cur.executemany(sql, zip(*(by_name[c] for c in INSERT_COLUMNS), strict=True))
        added = cur.execute("SELECT count(*) FROM reports WHERE id > ?", (before,)).fetchone()[0]
        if added == n:
            return InsertOutcome(np.ones(n, dtype=bool))
        if added == 0:
            return InsertOutcome(np.zeros(n, dtype=bool))
        rows = cur.execute("SELECT source, report_id FROM reports WHERE id > ?", (before,))
        inserted = set(rows.fetchall())
    finally:
        cur.close()
    pairs = zip(table.source.tolist(), table.report_id.tolist(), strict=True)
    return InsertOutcome(np.fromiter((p in inserted for p in pairs), dtype=bool, count=n))


def bump_version(conn: Connection, *, new_reports_only: bool = False) -> int:
    """Mark the stored inputs as changed; returns the new reports version.
    `new_reports_only`: the change is reports added, which are stored unpublished
    (only their submitters' visibility classes see them), so `classes_version` stays."""
    if not new_reports_only:
        _bump(conn, "classes_version")
    return _bump(conn, "reports_version")


def _bump(conn: Connection, key: str) -> int:
    bumped = conn.execute(
        update(state).where(state.c.key == key).values(int_value=state.c.int_value + 1)
        .returning(state.c.int_value)
    ).scalar_one()  # fmt: skip
    return int(bumped)


@dataclass(frozen=True)
class Basis:
    """What the store held when a visibility class's evaluation was made, as far as
    telling later whether it still holds (`unchanged_for`): reports are only added
    (unpublished) and flagged published; anything else moves `classes_version`."""

    classes_version: int
    newest: int  # the newest report's id
    count: int  # how many reports there were


def basis(conn: Connection) -> Basis:
    classes = select(state.c.int_value).where(state.c.key == "classes_version")
    newest = select(func.coalesce(func.max(reports.c.id), 0)).select_from(reports)
    return Basis(
        int(conn.execute(classes).scalar_one()),
        int(conn.execute(newest).scalar_one()),
        report_count(conn),
    )


def report_count(conn: Connection) -> int:
    """How many reports are stored. PostgreSQL keeps the number (migration 0011's
    triggers): its `count(*)` reads every row, half a second at a million."""
    if conn.dialect.name == "postgresql":
        kept = select(state.c.int_value).where(state.c.key == "reports_count")
        n = conn.execute(kept).scalar()
        if n is not None:  # None: a store from before 0011 (a process started beside it)
            return int(n)
    return int(conn.execute(select(func.count()).select_from(reports)).scalar_one())


def unchanged_for(conn: Connection, before: Basis, now: Basis, where: ColumnElement[bool]) -> bool:
    """Whether the reports `where` selects are the same at `now` as at `before` (both
    read by `basis`), and nothing else a class's evaluation depends on moved: only
    reports it does not see were added since. Checks the reports added since only."""
    if now.classes_version != before.classes_version or now.count < before.count:
        return False
    # Counted over the ids added since, bounded on both sides: asked for one row
    # (`LIMIT 1`), or for `id > newest` on a table without statistics yet (a bulk
    # load, autovacuum off), PostgreSQL read every report (0.4-0.8 s at a million).
    later = (
        select(func.count(), func.count().filter(where))
        .select_from(reports)
        .where(reports.c.id > before.newest, reports.c.id <= now.newest)
    )
    added, seen = conn.execute(later).one()
    # Fewer than the count says: one was removed, or a lower id was committed after
    # `before` was read (not by truce's writers, which commit ids in order under one
    # advisory lock; by a row stored by other means).
    return bool(before.count + added == now.count and seen == 0)


def reports_version(conn: Connection) -> int:
    return int(
        conn.execute(select(state.c.int_value).where(state.c.key == "reports_version")).scalar_one()
    )


def raw_time(column: ColumnElement[Any], conn: Connection) -> ColumnElement[Any]:
    """SQLite's stored text of a time column as is: parsed by numpy in one call (~20x
    faster than a datetime per value, then pandas)."""
    if conn.dialect.name != "sqlite" or not isinstance(column.type, DateTime):
        return column
    return type_coerce(column, String).label(column.name)


def load_all(
    conn: Connection, any_of: Sequence[ColumnElement[bool]] = (), *, original: bool = True
) -> tuple[ReportTable, np.ndarray]:
    """Every stored report (or those matching any of the conditions `any_of`) as a
    ReportTable, ordered by insertion, plus `submitted_by`. `original=False` leaves
    each report's original source row out (empty): evaluating never reads it, and it
    is most of what is read."""
    names = [n for n in STORED_COLUMNS if original or n != "original"]
    cols = [raw_time(reports.c[n], conn) for n in names] + [reports.c.submitted_by]
    if not any_of:
        query = select(*cols).order_by(reports.c.id)
    else:
        # One SELECT per condition, joined: each can use its own index (an OR of them
        # is a full scan in SQLite). The id orders the union; it is not returned.
        parts = union_all(*(select(*cols, reports.c.id.label("_id")).where(w) for w in any_of))
        sub = parts.subquery()
        query = select(*(sub.c[c.name] for c in cols)).order_by(sub.c["_id"])
    # Streamed, a block of rows made columns at a time: 10M rows fetched at once were
    # 10M Row objects of ~20 Python values each, plus their transposition (14 GB).
    tables, submitted_by = [], []
    for rows in conn.execute(query.execution_options(yield_per=LOAD_ROWS)).partitions():
        c = dict(zip([*names, "submitted_by"], zip(*rows, strict=True), strict=True))
        tables.append(report_columns.report_table(c, original=original))
        submitted_by.append(np.array(c["submitted_by"], dtype=object))
    if not tables:
        return empty_reports(), np.array([], dtype=object)
    if len(tables) == 1:
        return tables[0], submitted_by[0]
    return ReportTable.concat(tables), np.concatenate(submitted_by)


def keys_submitted_by(conn: Connection, name: str, *, or_source: bool = False) -> set[str]:
    """Keys of the reports `name` submitted (and, with `or_source`, those whose source is `name`)."""
    cond = reports.c.submitted_by == name
    if or_source:
        cond = or_(cond, reports.c.source == name)
    q = select(reports.c.source, reports.c.report_id).where(cond)
    return {report_key(s, r) for s, r in conn.execute(q)}


def published_keys(conn: Connection) -> set[str]:
    q = select(reports.c.source, reports.c.report_id).where(reports.c.published.is_(True))
    return {report_key(s, r) for s, r in conn.execute(q)}


def fetch_by_keys(conn: Connection, keys: Iterable[str]) -> list[dict[str, Any]]:
    """Stored rows for `source:report_id` keys (split at the first ':'; sources have none)."""
    pairs = []
    for k in keys:
        pairs.append(split_report_key(k))
    out: list[dict[str, Any]] = []
    for start in range(0, len(pairs), 500):
        part = pairs[start : start + 500]
        q = select(reports).where(tuple_(reports.c.source, reports.c.report_id).in_(part))
        out.extend(dict(r._mapping) for r in conn.execute(q))
    return out


def mark_published(conn: Connection, keys: Iterable[str]) -> int:
    """Flag these reports published; returns how many were not before."""
    pairs = [split_report_key(k) for k in keys]
    flagged = 0
    for start in range(0, len(pairs), 500):
        part = pairs[start : start + 500]
        flagged += conn.execute(
            update(reports)
            .where(
                tuple_(reports.c.source, reports.c.report_id).in_(part),
                reports.c.published.is_(False),
            )
            .values(published=True)
        ).rowcount
    return flagged
