"""The row checks of SPEC §2: parsed text (`TextRows`) in, a `ReportTable` and
rejections out. Every check is a whole-column operation (a boolean mask per
check); messages are built only for the rows that fail."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa

from truce.domain.model import (
    CREDIBILITY_GRADES,
    EVENT_TYPES,
    NO_CODE,
    RELIABILITY_GRADES,
    WEAPONS,
    Rejection,
    ReportTable,
    empty_reports,
)
from truce.errors import GazetteerError
from truce.formats.reports.extras import check_extras
from truce.formats.reports.rows import FEW_DISTINCT, TextRows
from truce.formats.reports.status import status_notes
from truce.formats.reports.tuning import TUNING, ReaderTuning
from truce.formats.reports.values import (
    TIME_EMPTY,
    TIME_NO_OFFSET,
    TIME_OUT_OF_RANGE,
    TIME_UNPARSEABLE,
    Distinct,
    byte_lengths,
    coordinates,
    dictionary_codes,
    stripped_text,
    times,
    underflowed,
)

T = TypeVar("T")
PlaceResolver = Callable[[str], tuple[float, float, float | None]]


@dataclass
class ReadResult:
    """What a report file yielded. Every input row is in exactly one of the three."""

    reports: ReportTable  # accepted, (source, report_id) unique, in file order
    rejected: list[Rejection] = field(default_factory=list)  # sorted by line
    duplicates: int = 0  # valid rows dropped because their key repeated an earlier row
    notices: list[str] = field(default_factory=list)  # e.g. an importer's unmapped kinds


class _Problems:
    """Per-check masks; messages are built only for the rows that fail."""

    def __init__(self, n: int) -> None:
        self.bad = np.zeros(n, dtype=bool)
        self.checks: list[tuple[np.ndarray, str, Callable[[int], str]]] = []

    def add(self, mask: np.ndarray, field_name: str, message: Callable[[int], str]) -> None:
        if mask.any():
            self.bad |= mask
            self.checks.append((mask, field_name, message))

    def reasons(self) -> dict[int, list[tuple[str, str]]]:
        """Per failing row: (field, reason) per field at fault, in check order (two
        failures of one field are joined into one reason)."""
        out: dict[int, dict[str, list[str]]] = {}
        for mask, field_name, message in self.checks:
            for i in np.flatnonzero(mask).tolist():
                out.setdefault(i, {}).setdefault(field_name, []).append(message(i))
        return {
            i: [(f, "; ".join(msgs)) for f, msgs in fields.items()] for i, fields in out.items()
        }


def _text_at(column: pa.ChunkedArray | None, i: int) -> str:
    return "" if column is None else str(column[i].as_py())


@dataclass
class _Converted:
    """Every column turned into numpy values, before any check."""

    report_id: np.ndarray  # object, stripped
    report_id_codes: np.ndarray  # one code per distinct stripped report_id
    report_id_empty: np.ndarray
    distinct: dict[str, Distinct]  # the FEW_DISTINCT columns
    observed_at: np.ndarray
    time_problem: np.ndarray
    lat: tuple[np.ndarray, np.ndarray, np.ndarray]
    lon: tuple[np.ndarray, np.ndarray, np.ndarray]


def _convert(rows: TextRows, tuning: ReaderTuning) -> _Converted:
    """The Arrow work (hashing, casts) runs on a thread pool for big inputs: Arrow
    releases the GIL, so it overlaps with building the report_id strings."""
    n = len(rows.lines)
    text = rows.columns.get
    workers = min(4, os.cpu_count() or 1) if n >= tuning.parallel_rows else 1
    with ThreadPoolExecutor(workers) if workers > 1 else _InThisThread() as pool:
        id_text = text("report_id")  # the longest jobs first
        id_codes = pool.submit(dictionary_codes, id_text) if id_text is not None else None
        observed = pool.submit(times, text("observed_at"), n, tuning)
        lat = pool.submit(coordinates, text("lat"), n, tuning)
        lon = pool.submit(coordinates, text("lon"), n, tuning)
        distinct = {c: pool.submit(Distinct.of, text(c), n) for c in FEW_DISTINCT}
        report_id, stripped_id_text = stripped_text(id_text, n)
        if id_codes is None or stripped_id_text is not id_text:
            codes = dictionary_codes(stripped_id_text)[0]
        else:
            codes = id_codes.result()[0]
        observed_at, time_problem = observed.result()
        return _Converted(
            report_id=report_id,
            report_id_codes=codes,
            report_id_empty=byte_lengths(stripped_id_text) == 0,
            distinct={c: f.result() for c, f in distinct.items()},
            observed_at=observed_at,
            time_problem=time_problem,
            lat=lat.result(),
            lon=lon.result(),
        )


class _InThisThread:
    """The executor interface, running each call at once (small inputs)."""

    def __enter__(self) -> _InThisThread:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def submit(self, fn: Callable[..., T], *args: object) -> Future[T]:
        future: Future[T] = Future()
        future.set_result(fn(*args))
        return future


def check_rows(
    rows: TextRows,
    default_source: str | None,
    resolve_place: PlaceResolver | None,
    tuning: ReaderTuning = TUNING,
) -> ReadResult:
    n = len(rows.lines)
    text = rows.columns.get
    values = _convert(rows, tuning)
    p = _Problems(n)

    report_id = values.report_id
    p.add(values.report_id_empty, "report_id", lambda i: "report_id is empty")

    source = values.distinct["source"].stripped()
    if default_source is not None and default_source.strip():
        fill = default_source.strip()
        source = source.mapped(lambda v: v or fill)
    p.add(
        source.where(lambda v: v == ""),
        "source",
        lambda i: "source is empty; give a source column or --source",
    )

    _check_time(p, values.time_problem, text("observed_at"))
    lat, lon, precision, place = _check_location(p, values, text, resolve_place)

    event_text = values.distinct["event_type"]
    event_type = _vocabulary(event_text, EVENT_TYPES)
    p.add(event_text.where_code(event_type, -2), "event_type", lambda i: "event_type is empty")
    p.add(
        event_text.where_code(event_type, -3),
        "event_type",
        lambda i: (
            f"unknown event_type {event_text.text(i).strip()!r}; expected one of {', '.join(EVENT_TYPES)}"
        ),
    )
    weapon_text = values.distinct["weapon"]
    weapon = _vocabulary(weapon_text, WEAPONS)
    p.add(
        weapon_text.where_code(weapon, -3),
        "weapon",
        lambda i: (
            f"unknown weapon {weapon_text.text(i).strip()!r}; expected one of {', '.join(WEAPONS)} or empty"
        ),
    )

    count_text = values.distinct["count"]
    count, count_bad = _numbers(count_text, integer=True)
    p.add(
        count_bad,
        "count",
        lambda i: f"count is not a non-negative integer: {count_text.text(i).strip()!r}",
    )
    fatalities_text = values.distinct["fatalities"]
    fatalities, fatalities_bad = _numbers(fatalities_text, integer=True)
    p.add(
        fatalities_bad,
        "fatalities",
        lambda i: f"fatalities is not a non-negative integer: {fatalities_text.text(i).strip()!r}",
    )

    reliability_text = values.distinct["reliability"]
    reliability = reliability_text.mapped(_reliability)
    p.add(
        reliability.where(lambda grade: grade == "?"),
        "reliability",
        lambda i: f"reliability must be a grade A-F or empty: {reliability_text.text(i).strip()!r}",
    )
    credibility_text = values.distinct["credibility"]
    credibility = np.array([_credibility(v) for v in credibility_text.values], dtype=np.int8)
    p.add(
        credibility_text.where_code(credibility, -1),
        "credibility",
        lambda i: f"credibility must be a grade 1-6 or empty: {credibility_text.text(i).strip()!r}",
    )

    fatalities_all = fatalities_text.at(fatalities, slice(None))
    extras = check_extras(rows, values.distinct, values.observed_at, fatalities_all, p.add)
    notes_text = values.distinct["notes"]
    notes, status_bad = status_notes(
        event_text.at(event_type.astype(np.int8), slice(None)),
        None if text("status") is None else [_text_at(text("status"), i) for i in range(n)],
        notes_text.objects(),
    )
    for i, reason in status_bad.items():
        mask = np.zeros(n, dtype=bool)
        mask[i] = True
        p.add(mask, "status", partial(_same, reason))

    rejected = list(rows.rejected)
    for i, problems in p.reasons().items():
        src = source.text(i)
        rejected.append(
            Rejection(
                line=int(rows.lines[i]),
                report_id=report_id[i] or None,
                reason="; ".join(reason for _, reason in problems),
                source=src or None,
                field=problems[0][0],
                problems=tuple(problems),
            )
        )
    rejected.sort(key=lambda r: r.line)

    valid = np.flatnonzero(~p.bad)
    keep = valid[_first_of_each_key(source.codes[valid], values.report_id_codes[valid])]
    duplicates = len(valid) - len(keep)
    if len(keep) == 0:
        return ReadResult(empty_reports(), rejected, duplicates, rows.notices)
    table = ReportTable(
        source=source.objects(keep),
        report_id=report_id.take(keep),
        observed_at=values.observed_at.take(keep),
        lon=lon.take(keep),
        lat=lat.take(keep),
        precision_m=precision.take(keep),
        event_type=event_text.at(event_type.astype(np.int8), keep),
        weapon=weapon_text.at(weapon.astype(np.int8), keep),
        actor=values.distinct["actor"].stripped().objects(keep),
        side=values.distinct["side"].stripped().objects(keep),
        target=values.distinct["target"].stripped().objects(keep),
        count=count_text.at(count, keep),
        fatalities=fatalities_text.at(fatalities, keep),
        reliability=reliability.objects(keep),
        credibility=credibility_text.at(np.maximum(credibility, 0), keep),
        place=place.objects(keep),
        notes=notes[keep],
        line=rows.lines.take(keep),
        **extras.take(keep),
    )
    return ReadResult(table, rejected, duplicates, rows.notices)


def _check_time(p: _Problems, problem: np.ndarray, text: pa.ChunkedArray | None) -> None:
    def observed(i: int) -> str:
        return _text_at(text, i).strip()

    p.add(
        problem == TIME_EMPTY,
        "observed_at",
        lambda i: "observed_at is empty; give an ISO 8601 time with offset",
    )
    p.add(
        problem == TIME_UNPARSEABLE,
        "observed_at",
        lambda i: f"observed_at is not an ISO 8601 time: {observed(i)!r}",
    )
    p.add(
        problem == TIME_NO_OFFSET,
        "observed_at",
        lambda i: f"observed_at has no UTC offset: {observed(i)}",
    )
    p.add(
        problem == TIME_OUT_OF_RANGE,
        "observed_at",
        lambda i: f"observed_at out of range (years 1678-2261): {observed(i)}",
    )


def _check_location(
    p: _Problems,
    values: _Converted,
    text: Callable[[str], pa.ChunkedArray | None],
    resolve_place: PlaceResolver | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, Distinct]:
    """(lat, lon, precision per row, place), with places resolved through the gazetteer."""
    lat, lat_empty, lat_bad = values.lat
    lon, lon_empty, lon_bad = values.lon
    p.add(lat_bad, "lat", lambda i: f"lat is not a number: {_text_at(text('lat'), i).strip()!r}")
    p.add(lon_bad, "lon", lambda i: f"lon is not a number: {_text_at(text('lon'), i).strip()!r}")
    for name, numbers in (("lat", lat), ("lon", lon)):
        p.add(
            underflowed(text(name), numbers),
            name,
            lambda i, name=name: (  # type: ignore[misc]
                f"{name} {_text_at(text(name), i).strip()!r} is too small "
                "to store (it would become 0); write 0, or the value in degrees"
            ),
        )
    p.add(
        (lat > 90) | (lat < -90),
        "lat",
        lambda i: f"lat out of range: {float(lat[i])}; must be within [-90, 90]",
    )
    p.add(
        (lon > 180) | (lon < -180),
        "lon",
        lambda i: f"lon out of range: {float(lon[i])}; must be within [-180, 180]",
    )
    p.add(lat_empty & ~lon_empty, "lat", lambda i: "lon given without lat")
    p.add(lon_empty & ~lat_empty, "lon", lambda i: "lat given without lon")

    place = values.distinct["place"].stripped()
    precision_text = values.distinct["location_precision_m"]
    precision, precision_bad = _numbers(precision_text, integer=False)
    p.add(
        precision_bad,
        "location_precision_m",
        lambda i: (
            f"location_precision_m is not a non-negative number: {precision_text.text(i).strip()!r}"
        ),
    )
    precision = precision_text.at(precision, slice(None))
    no_coords = lat_empty & lon_empty
    if not no_coords.any():
        return lat, lon, precision, place
    place_empty = place.where(lambda v: v == "")
    p.add(no_coords & place_empty, "lat", lambda i: "no location: give lat and lon, or a place")
    needs_place = no_coords & ~place_empty
    if needs_place.any():
        failures = _resolve_places(place, needs_place, lat, lon, precision, resolve_place)
        p.add(failures != "", "place", lambda i: str(failures[i]))
    return lat, lon, precision, place


def _float_or_nan(text: str) -> float:
    try:
        return float(text) if text.strip() else np.nan
    except ValueError:
        return np.nan


def _numbers(column: Distinct, *, integer: bool) -> tuple[np.ndarray, np.ndarray]:
    """Optional non-negative numbers: (a float per distinct value, NaN where none or
    invalid; the rows whose value is invalid)."""

    def invalid(text: str) -> bool:
        if not text.strip():
            return False
        value = _float_or_nan(text)
        return not (np.isfinite(value) and value >= 0 and (not integer or value == int(value)))

    def number(text: str) -> float:
        return np.nan if not text.strip() or invalid(text) else _float_or_nan(text)

    numbers = np.array([number(v) for v in column.values], dtype=np.float64)
    return numbers, column.where(invalid)


def _vocabulary(column: Distinct, vocabulary: tuple[str, ...]) -> np.ndarray:
    """A code into `vocabulary` per distinct value; -2 empty, -3 unknown
    (case-insensitive, stripped); an empty weapon is NO_CODE."""
    index = {name: i for i, name in enumerate(vocabulary)}

    def code(text: str) -> int:
        key = text.strip().lower()
        return -2 if not key else index.get(key, -3)

    codes = np.array([code(v) for v in column.values], dtype=np.int16)
    return np.where(codes == -2, NO_CODE, codes) if vocabulary is WEAPONS else codes


def _reliability(text: str) -> str:
    grade = text.strip().upper()
    return grade if grade == "" or (len(grade) == 1 and grade in RELIABILITY_GRADES) else "?"


def _credibility(text: str) -> int:
    grade = text.strip()
    if not grade:
        return 0
    number = _float_or_nan(grade)
    if np.isfinite(number) and number == int(number) and str(int(number)) in CREDIBILITY_GRADES:
        return int(number)
    return -1


def _resolve_places(
    place: Distinct,
    needs: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    precision: np.ndarray,
    resolve_place: PlaceResolver | None,
) -> np.ndarray:
    """Fill lat/lon (and widen precision) from the gazetteer, in place; return the
    failure message per row ("" where none)."""
    failures = np.full(len(needs), "", dtype=object)
    rows = np.flatnonzero(needs)
    codes = place.codes[rows]
    for code in np.unique(codes).tolist():
        name = place.values[code]
        members = rows[codes == code]
        if resolve_place is None:
            failures[members] = (
                f"place {name!r} given without lat/lon and no gazetteer to resolve it"
            )
            continue
        try:
            place_lon, place_lat, place_precision = resolve_place(name)
        except GazetteerError as exc:
            failures[members] = str(exc)
            continue
        lon[members] = place_lon
        lat[members] = place_lat
        if place_precision is not None:
            precision[members] = np.fmax(precision[members], place_precision)
    return failures


def _first_of_each_key(source_codes: np.ndarray, id_codes: np.ndarray) -> np.ndarray:
    """Positions of the first row of each (source, report_id) pair of codes, in order.

    Only rows whose report_id occurs more than once can repeat a key; the
    pairs are hashed for those rows alone."""
    first = np.ones(len(id_codes), dtype=bool)
    if len(id_codes) == 0:
        return np.flatnonzero(first)
    repeated = np.bincount(id_codes) > 1
    if repeated.any():
        rows = np.flatnonzero(repeated.take(id_codes))
        pairs = pd.DataFrame({"source": source_codes[rows], "report_id": id_codes[rows]})
        first[rows] = ~pairs.duplicated(keep="first").to_numpy()
    return np.flatnonzero(first)


def _same(reason: str, _row: int) -> str:
    """A rejection reason that is the same whatever the row."""
    return reason
