"""The checks of one field or two at a time, for `checks.check_rows` (SPEC §2): each
a whole-column mask added to `Problems`, whose messages are built only for the rows
that fail; and the columns' conversions (numbers, vocabularies, grades, places)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from truce.domain.model import (
    CREDIBILITY_GRADES,
    NO_CODE,
    RELIABILITY_GRADES,
    WEAPONS,
)
from truce.errors import GazetteerError
from truce.formats.reports.values import (
    TIME_EMPTY,
    TIME_NO_OFFSET,
    TIME_OUT_OF_RANGE,
    TIME_UNPARSEABLE,
    Distinct,
    underflowed,
)

PlaceResolver = Callable[[str], tuple[float, float, float | None]]


class Problems:
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


def text_at(column: pa.ChunkedArray | None, i: int) -> str:
    return "" if column is None else str(column[i].as_py())


@dataclass
class Converted:
    """Every column turned into numpy values, before any check."""

    report_id: np.ndarray  # object, stripped
    report_id_codes: np.ndarray  # one code per distinct stripped report_id
    report_id_empty: np.ndarray
    distinct: dict[str, Distinct]  # the FEW_DISTINCT columns
    observed_at: np.ndarray
    time_problem: np.ndarray
    lat: tuple[np.ndarray, np.ndarray, np.ndarray]
    lon: tuple[np.ndarray, np.ndarray, np.ndarray]


def check_time(p: Problems, problem: np.ndarray, text: pa.ChunkedArray | None) -> None:
    def observed(i: int) -> str:
        return text_at(text, i).strip()

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


def check_location(
    p: Problems,
    values: Converted,
    text: Callable[[str], pa.ChunkedArray | None],
    resolve_place: PlaceResolver | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, Distinct]:
    """(lat, lon, precision per row, place), with places resolved through the gazetteer."""
    lat, lat_empty, lat_bad = values.lat
    lon, lon_empty, lon_bad = values.lon
    p.add(lat_bad, "lat", lambda i: f"lat is not a number: {text_at(text('lat'), i).strip()!r}")
    p.add(lon_bad, "lon", lambda i: f"lon is not a number: {text_at(text('lon'), i).strip()!r}")
    for name, numbers in (("lat", lat), ("lon", lon)):
        p.add(
            underflowed(text(name), numbers),
            name,
            lambda i, name=name: (  # type: ignore[misc]
                f"{name} {text_at(text(name), i).strip()!r} is too small "
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
    precision, precision_bad = number_column(precision_text, integer=False)
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
        failures = resolve_places(place, needs_place, lat, lon, precision, resolve_place)
        p.add(failures != "", "place", lambda i: str(failures[i]))
    return lat, lon, precision, place


def float_or_nan(text: str) -> float:
    try:
        return float(text) if text.strip() else np.nan
    except ValueError:
        return np.nan


def number_column(column: Distinct, *, integer: bool) -> tuple[np.ndarray, np.ndarray]:
    """Optional non-negative numbers: (a float per distinct value, NaN where none or
    invalid; the rows whose value is invalid)."""

    def invalid(text: str) -> bool:
        if not text.strip():
            return False
        value = float_or_nan(text)
        return not (np.isfinite(value) and value >= 0 and (not integer or value == int(value)))

    def number(text: str) -> float:
        return np.nan if not text.strip() or invalid(text) else float_or_nan(text)

    numbers = np.array([number(v) for v in column.values], dtype=np.float64)
    return numbers, column.where(invalid)


def vocabulary_codes(column: Distinct, vocabulary: tuple[str, ...]) -> np.ndarray:
    """A code into `vocabulary` per distinct value; -2 empty, -3 unknown
    (case-insensitive, stripped); an empty weapon is NO_CODE."""
    index = {name: i for i, name in enumerate(vocabulary)}

    def code(text: str) -> int:
        key = text.strip().lower()
        return -2 if not key else index.get(key, -3)

    codes = np.array([code(v) for v in column.values], dtype=np.int16)
    return np.where(codes == -2, NO_CODE, codes) if vocabulary is WEAPONS else codes


def reliability_grade(text: str) -> str:
    grade = text.strip().upper()
    return grade if grade == "" or (len(grade) == 1 and grade in RELIABILITY_GRADES) else "?"


def credibility_grade(text: str) -> int:
    grade = text.strip()
    if not grade:
        return 0
    number = float_or_nan(grade)
    # One digit of the scale: "in" the string alone would take "23" or "234" too.
    if (
        np.isfinite(number)
        and number == int(number)
        and str(int(number)) in set(CREDIBILITY_GRADES)
    ):
        return int(number)
    return -1


def resolve_places(
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


def first_of_each_key(source_codes: np.ndarray, id_codes: np.ndarray) -> np.ndarray:
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


def same_reason(reason: str, _row: int) -> str:
    """A rejection reason that is the same whatever the row."""
    return reason
