"""Reports in and out of the database, in bulk.

Insert: chunks of multi-row `INSERT ... ON CONFLICT (source, report_id) DO
NOTHING RETURNING source, report_id` (SQLAlchemy's insertmanyvalues on both
dialects), so one round trip covers many rows and the rows that came back are
exactly the new ones: everything else in the chunk was a duplicate.

Load: every stored report as a columnar `ReportTable`, for `evaluate()`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from truce.domain.model import EVENT_TYPES, NO_CODE, WEAPONS, ReportTable, empty_reports
from truce.formats.reports import COLUMNS
from truce.store.schema import reports, state

# Rows per INSERT statement; both dialects cap bound parameters (SQLite 32766).
INSERT_CHUNK = 1000

# The SPEC §2 columns, stored as read; every insert path addresses them by name.
STORED_COLUMNS: tuple[str, ...] = COLUMNS


def report_key(source: str, report_id: str) -> str:
    return f"{source}:{report_id}"


def _text(values: np.ndarray) -> list[str | None]:
    return [None if v is None or v == "" else str(v) for v in values.tolist()]


def _floats(values: np.ndarray) -> list[float | None]:
    return [None if (v is None or math.isnan(v)) else float(v) for v in values.tolist()]


def rows_of(
    table: ReportTable, *, submitted_by: str, received_at: datetime
) -> list[dict[str, Any]]:
    """Insertable dicts for every row of `table` (column-wise conversion, then zipped)."""
    n = len(table)
    observed = pd.DatetimeIndex(table.observed_at).tz_localize(UTC).to_pydatetime()
    weapon = [WEAPONS[c] if c != NO_CODE else None for c in table.weapon.tolist()]
    cred = [int(c) if c else None for c in table.credibility.tolist()]
    columns: dict[str, Sequence[Any]] = {
        "source": [str(s) for s in table.source.tolist()],
        "report_id": [str(r) for r in table.report_id.tolist()],
        "observed_at": observed,
        "lon": table.lon.astype(float).tolist(),
        "lat": table.lat.astype(float).tolist(),
        "place": _text(table.place),
        "location_precision_m": _floats(table.precision_m),
        "event_type": [EVENT_TYPES[c] for c in table.event_type.tolist()],
        "weapon": weapon,
        "actor": _text(table.actor),
        "side": _text(table.side),
        "target": _text(table.target),
        "count": _floats(table.count),
        "fatalities": _floats(table.fatalities),
        "reliability": _text(table.reliability),
        "credibility": cred,
        "notes": _text(table.notes),
    }
    names = list(columns)
    cols = [columns[k] for k in names]
    out = []
    for i in range(n):
        row = {k: c[i] for k, c in zip(names, cols, strict=True)}
        row["submitted_by"] = submitted_by
        row["published"] = False
        row["received_at"] = received_at
        out.append(row)
    return out


def _insert_stmt(conn: Connection) -> Any:
    ins = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    return (
        ins(reports)
        .on_conflict_do_nothing(index_elements=["source", "report_id"])
        .returning(reports.c.source, reports.c.report_id)
    )


@dataclass(frozen=True)
class InsertOutcome:
    inserted: set[tuple[str, str]]  # (source, report_id) of the rows that are new

    @property
    def count(self) -> int:
        return len(self.inserted)


INSERT_COLUMNS: tuple[str, ...] = (*STORED_COLUMNS, "submitted_by", "published", "received_at")
_PG_STAGING = """
CREATE TEMP TABLE IF NOT EXISTS truce_reports_in (
  source text, report_id text, observed_at timestamptz, lon float8, lat float8, place text,
  location_precision_m float8, event_type text, weapon text, actor text, side text, target text,
  count float8, fatalities float8, reliability text, credibility smallint, notes text,
  submitted_by text, published boolean, received_at timestamptz
) ON COMMIT DROP
"""


def insert_rows(conn: Connection, rows: list[dict[str, Any]]) -> InsertOutcome:
    """Insert in the caller's transaction; rows whose key exists already are skipped."""
    inserted: set[tuple[str, str]] = set()
    if not rows:
        return InsertOutcome(inserted)
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        return _insert_rows_pg_copy(conn, rows)
    stmt = _insert_stmt(conn)
    for start in range(0, len(rows), INSERT_CHUNK * 10):
        chunk = rows[start : start + INSERT_CHUNK * 10]
        result = conn.execution_options(insertmanyvalues_page_size=INSERT_CHUNK).execute(
            stmt, chunk
        )
        inserted.update((r[0], r[1]) for r in result)
    return InsertOutcome(inserted)


def _insert_rows_pg_copy(conn: Connection, rows: list[dict[str, Any]]) -> InsertOutcome:
    """PostgreSQL: COPY into a temporary table, then one INSERT ... SELECT ... ON CONFLICT."""
    cols = ", ".join(f'"{c}"' for c in INSERT_COLUMNS)
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:  # type: ignore[union-attr]
        cur.execute(_PG_STAGING)
        cur.execute("TRUNCATE truce_reports_in")
        with cur.copy(f"COPY truce_reports_in ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row[c] for c in INSERT_COLUMNS])
        cur.execute(
            f"INSERT INTO reports ({cols}) SELECT {cols} FROM truce_reports_in "
            "ON CONFLICT (source, report_id) DO NOTHING RETURNING source, report_id"
        )
        inserted = {(r[0], r[1]) for r in cur.fetchall()}
        cur.execute("TRUNCATE truce_reports_in")
    return InsertOutcome(inserted)


def bump_version(conn: Connection) -> int:
    """Mark the stored reports as changed; returns the new version."""
    conn.execute(
        update(state)
        .where(state.c.key == "reports_version")
        .values(int_value=state.c.int_value + 1)
    )
    return reports_version(conn)


def reports_version(conn: Connection) -> int:
    return int(
        conn.execute(select(state.c.int_value).where(state.c.key == "reports_version")).scalar_one()
    )


def existing_keys(conn: Connection, keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of these (source, report_id) pairs are stored already."""
    keys = list(keys)
    found: set[tuple[str, str]] = set()
    for start in range(0, len(keys), 500):
        part = keys[start : start + 500]
        q = select(reports.c.source, reports.c.report_id).where(
            tuple_(reports.c.source, reports.c.report_id).in_(part)
        )
        found.update((r[0], r[1]) for r in conn.execute(q))
    return found


def _obj(values: list[Any]) -> np.ndarray:
    return np.array(["" if v is None else v for v in values], dtype=object)


def _flt(values: list[Any]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def load_all(conn: Connection) -> tuple[ReportTable, np.ndarray]:
    """Every stored report as a ReportTable (ordered by insertion), plus `submitted_by`."""
    cols = [reports.c[name] for name in STORED_COLUMNS] + [reports.c.submitted_by]
    rows = conn.execute(select(*cols).order_by(reports.c.id)).all()
    if not rows:
        return empty_reports(), np.array([], dtype=object)
    c = dict(zip([*STORED_COLUMNS, "submitted_by"], zip(*rows, strict=True), strict=True))
    observed = pd.to_datetime(
        [v if v.tzinfo else v.replace(tzinfo=UTC) for v in c["observed_at"]], utc=True
    )
    ev_index = {name: i for i, name in enumerate(EVENT_TYPES)}
    wp_index = {name: i for i, name in enumerate(WEAPONS)}
    table = ReportTable(
        source=_obj(list(c["source"])),
        report_id=_obj(list(c["report_id"])),
        observed_at=observed.tz_convert(None).to_numpy(dtype="datetime64[ns]"),
        lon=_flt(list(c["lon"])),
        lat=_flt(list(c["lat"])),
        precision_m=_flt(list(c["location_precision_m"])),
        event_type=np.array([ev_index[v] for v in c["event_type"]], dtype=np.int8),
        weapon=np.array([wp_index.get(v, NO_CODE) for v in c["weapon"]], dtype=np.int8),
        actor=_obj(list(c["actor"])),
        side=_obj(list(c["side"])),
        target=_obj(list(c["target"])),
        count=_flt(list(c["count"])),
        fatalities=_flt(list(c["fatalities"])),
        reliability=_obj(list(c["reliability"])),
        credibility=np.array([v or 0 for v in c["credibility"]], dtype=np.int8),
        place=_obj(list(c["place"])),
        notes=_obj(list(c["notes"])),
        line=np.zeros(len(rows), dtype=np.int64),
    )
    return table, np.array(c["submitted_by"], dtype=object)


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
        source, _, rid = k.partition(":")
        pairs.append((source, rid))
    out: list[dict[str, Any]] = []
    for start in range(0, len(pairs), 500):
        part = pairs[start : start + 500]
        q = select(reports).where(tuple_(reports.c.source, reports.c.report_id).in_(part))
        out.extend(dict(r._mapping) for r in conn.execute(q))
    return out


def mark_published(conn: Connection, keys: Iterable[str]) -> None:
    pairs = [tuple(k.split(":", 1)) for k in keys]
    for start in range(0, len(pairs), 500):
        part = pairs[start : start + 500]
        conn.execute(
            update(reports)
            .where(tuple_(reports.c.source, reports.c.report_id).in_(part))
            .values(published=True)
        )
