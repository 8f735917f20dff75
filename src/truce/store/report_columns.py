"""A `ReportTable`'s columns as the values of the `reports` table's columns, both ways.

Out (insert): each column encoded as its dialect writes it, keyed by column name;
PostgreSQL gets binary COPY fields (`pgcopy`), SQLite executemany parameters (times
as SQLAlchemy's DATETIME text). In (load): the stored values, as either dialect
returns them, back into a `ReportTable`.

Separate from `truce.store.reports`, which sends the rows and runs the queries, so
the mapping is written once, both directions side by side, and does no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from itertools import repeat
from typing import Any

import numpy as np
import pandas as pd

from truce.domain.model import ATTACK, DIRECTIONS, EVENT_TYPES, NO_CODE, WEAPONS, ReportTable
from truce.errors import BadInput
from truce.store import pgcopy


def _codes_to_names(codes: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """Names for int codes, "" for NO_CODE."""
    lookup = np.array([*names, ""], dtype=object)  # NO_CODE (-1) picks the last entry
    return lookup[np.asarray(codes, dtype=np.int64)]


def _utc_datetime64(value: datetime) -> np.datetime64:
    return np.datetime64(value.astimezone(UTC).replace(tzinfo=None), "us")


# --- PostgreSQL: binary COPY fields ----------------------------------------------------


def pg_fields(
    table: ReportTable, submitted_by: str, received_at: datetime
) -> dict[str, pgcopy.Field]:
    """Every INSERT_COLUMNS column of `table`, encoded for a binary COPY."""
    n = len(table)
    text = pgcopy.text_field
    try:
        return {
            "report_id": text(table.report_id),
            "source": text(table.source),
            "observed_at": pgcopy.timestamptz_field(table.observed_at),
            "lat": pgcopy.float8_field(table.lat),
            "lon": pgcopy.float8_field(table.lon),
            "place": text(table.place),
            "location_precision_m": pgcopy.float8_field(table.precision_m),
            "event_type": text(_codes_to_names(table.event_type, EVENT_TYPES)),
            "weapon": text(_codes_to_names(table.weapon, WEAPONS)),
            "actor": text(table.actor),
            "side": text(table.side),
            "target": text(table.target),
            "count": pgcopy.float8_field(table.count),
            "fatalities": pgcopy.float8_field(table.fatalities),
            "reliability": text(table.reliability),
            "credibility": pgcopy.int2_field(table.credibility, table.credibility == 0),
            "notes": text(table.notes),
            "observed_to": pgcopy.timestamptz_field(table.observed_to),
            "direction": text(_codes_to_names(table.direction, DIRECTIONS)),
            "fatalities_low": pgcopy.float8_field(table.fatalities_low),
            "fatalities_high": pgcopy.float8_field(table.fatalities_high),
            "source_url": text(table.source_url),
            "dataset": text(table.dataset),
            "original": text(table.original),
            "submitted_by": text([submitted_by] * n),
            "published": pgcopy.bool_field(np.zeros(n, dtype=bool)),
            "received_at": pgcopy.timestamptz_field(
                np.full(n, _utc_datetime64(received_at), dtype="datetime64[us]")
            ),
        }
    except pgcopy.NulInText as exc:
        line = int(table.line[exc.row])
        raise BadInput(
            f"line {line}: a value contains a NUL character (0x00), which the database "
            "cannot store; remove it and send the batch again"
        ) from None


# --- SQLite: executemany parameters ----------------------------------------------------


def _sqlite_text(values: np.ndarray) -> list[str | None]:
    return [v or None for v in values.tolist()]


def _sqlite_float(values: np.ndarray) -> list[float | None]:
    return [None if v != v else v for v in np.asarray(values, dtype=np.float64).tolist()]


def sqlite_times(utc: np.ndarray) -> list[str]:
    """SQLAlchemy's SQLite DATETIME text, 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC)."""
    iso = np.datetime_as_string(np.asarray(utc).astype("datetime64[us]"), unit="us")
    if len(iso):
        chars = iso.astype("U26").view(np.uint32).reshape(len(iso), 26).copy()
        chars[:, 10] = ord(" ")
        iso = chars.view("U26").ravel()
    return iso.tolist()  # type: ignore[no-any-return]


def _sqlite_times_or_null(utc: np.ndarray) -> list[str | None]:
    times = np.asarray(utc)
    null = np.isnat(times)
    if not null.any():
        return sqlite_times(times)  # type: ignore[return-value]
    text = sqlite_times(np.where(null, np.datetime64(0, "ns"), times))
    return [None if missing else t for t, missing in zip(text, null.tolist(), strict=True)]


def sqlite_values(
    table: ReportTable, submitted_by: str, received_at: datetime
) -> dict[str, Iterable[Any]]:
    """Every INSERT_COLUMNS column of `table`, as executemany parameters (None for NULL)."""
    n = len(table)
    received = sqlite_times(np.array([_utc_datetime64(received_at)]))[0]
    return {
        "report_id": table.report_id.tolist(),
        "source": table.source.tolist(),
        "observed_at": sqlite_times(table.observed_at),
        "lat": np.asarray(table.lat, dtype=np.float64).tolist(),
        "lon": np.asarray(table.lon, dtype=np.float64).tolist(),
        "place": _sqlite_text(table.place),
        "location_precision_m": _sqlite_float(table.precision_m),
        "event_type": _codes_to_names(table.event_type, EVENT_TYPES).tolist(),
        "weapon": _sqlite_text(_codes_to_names(table.weapon, WEAPONS)),
        "actor": _sqlite_text(table.actor),
        "side": _sqlite_text(table.side),
        "target": _sqlite_text(table.target),
        "count": _sqlite_float(table.count),
        "fatalities": _sqlite_float(table.fatalities),
        "reliability": _sqlite_text(table.reliability),
        "credibility": [c or None for c in table.credibility.tolist()],
        "notes": _sqlite_text(table.notes),
        "observed_to": _sqlite_times_or_null(table.observed_to),
        "direction": _codes_to_names(table.direction, DIRECTIONS).tolist(),
        "fatalities_low": _sqlite_float(table.fatalities_low),
        "fatalities_high": _sqlite_float(table.fatalities_high),
        "source_url": _sqlite_text(table.source_url),
        "dataset": _sqlite_text(table.dataset),
        "original": _sqlite_text(table.original),
        "submitted_by": repeat(submitted_by, n),
        "published": repeat(0, n),
        "received_at": repeat(received, n),
    }


# --- Load: stored values back into a ReportTable ---------------------------------------


def _obj(values: list[Any]) -> np.ndarray:
    return np.array(["" if v is None else v for v in values], dtype=object)


def _flt(values: list[Any]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def _times_or_nat(values: Sequence[Any]) -> np.ndarray:
    """UTC datetime64[ns] of stored times (naive ones are UTC); NaT for NULL. SQLite's
    text ('YYYY-MM-DD HH:MM:SS.ffffff', UTC) is parsed as a whole column."""
    if isinstance(next((v for v in values if v is not None), None), str):
        text = ["NaT" if v is None else v for v in values]
        return np.array(text, dtype="datetime64[us]").astype("datetime64[ns]")
    aware = [None if v is None else v if v.tzinfo else v.replace(tzinfo=UTC) for v in values]
    return pd.to_datetime(aware, utc=True).tz_convert(None).to_numpy(dtype="datetime64[ns]")


def report_table(c: Mapping[str, Sequence[Any]], *, original: bool = True) -> ReportTable:
    """The ReportTable of stored values, one sequence per STORED_COLUMNS column by name
    (at least one row); `original=False`: no "original" column was read, it is left empty."""
    n = len(c["source"])
    ev_index = {name: i for i, name in enumerate(EVENT_TYPES)}
    wp_index = {name: i for i, name in enumerate(WEAPONS)}
    return ReportTable(
        source=_obj(list(c["source"])),
        report_id=_obj(list(c["report_id"])),
        observed_at=_times_or_nat(c["observed_at"]),
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
        line=np.zeros(n, dtype=np.int64),
        observed_to=_times_or_nat(c["observed_to"]),
        direction=np.array(
            [ATTACK if v is None else DIRECTIONS.index(v) for v in c["direction"]], dtype=np.int8
        ),
        fatalities_low=_flt(list(c["fatalities_low"])),
        fatalities_high=_flt(list(c["fatalities_high"])),
        source_url=_obj(list(c["source_url"])),
        dataset=_obj(list(c["dataset"])),
        original=_obj(list(c["original"]) if original else [""] * n),
    )
