"""The SPEC §4 optional report columns, checked like the §2 ones: `observed_to`,
`direction`, `fatalities_low`, `fatalities_high`, `source_url`, `dataset`, and the
importers' original row (carried, not checked).

Every check is a mask over the whole column, decided once per distinct value
where values repeat; a failing row gets a reason naming the values at fault.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from truce.domain.model import ATTACK, DIRECTIONS
from truce.formats.reports.rows import ORIGINAL, SPEC4_COLUMNS, TextRows, text_objects
from truce.formats.reports.values import (
    TIME_NO_OFFSET,
    TIME_OUT_OF_RANGE,
    TIME_UNPARSEABLE,
    Distinct,
    times,
)

Add = Callable[[np.ndarray, str, Callable[[int], str]], None]
# An absolute URL: a scheme, "://", and no whitespace (a bare domain or a file path is not).
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://\S+")


@dataclass
class Extras:
    """The §4 columns of every row (not yet filtered to the accepted ones); all None when
    the file has none of them (the ReportTable then fills "not stated" for kept rows only)."""

    observed_to: np.ndarray | None = None  # datetime64[ns] UTC, NaT
    direction: np.ndarray | None = None  # int8 code into DIRECTIONS
    fatalities_low: np.ndarray | None = None  # float, NaN
    fatalities_high: np.ndarray | None = None
    source_url: np.ndarray | None = None  # object, stripped
    dataset: np.ndarray | None = None
    original: np.ndarray | None = None  # object, JSON text or ""

    def take(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        taken = {name: getattr(self, name) for name in self.__dataclass_fields__}
        return {name: values.take(rows) for name, values in taken.items() if values is not None}


def check_extras(
    rows: TextRows,
    distinct: dict[str, Distinct],
    observed_at: np.ndarray,
    fatalities: np.ndarray,
    add: Add,
) -> Extras:
    """Convert and check the §4 columns; `fatalities` is the checked §2 column (float per
    row, NaN when not stated), `add(mask, field, message)` records a failing check."""
    n = len(rows.lines)
    text = rows.columns.get
    if not any(name in rows.columns for name in (*SPEC4_COLUMNS, ORIGINAL)):
        return Extras()  # a SPEC §2 file of v1: nothing to convert for a million rows
    observed_to = _check_observed_to(text("observed_to"), observed_at, n, add)
    direction = _check_direction(distinct["direction"], add)
    low = _check_count(distinct["fatalities_low"], "fatalities_low", add)
    high = _check_count(distinct["fatalities_high"], "fatalities_high", add)
    _check_range(low, fatalities, high, add)
    url = distinct["source_url"].stripped()
    add(
        url.where(lambda v: v != "" and _URL.fullmatch(v) is None),
        "source_url",
        lambda i: f"source_url is not an absolute URL (scheme://...): {url.text(i)!r}",
    )
    original = text(ORIGINAL)
    return Extras(
        observed_to=observed_to,
        direction=direction,
        fatalities_low=low,
        fatalities_high=high,
        source_url=url.objects(),
        dataset=distinct["dataset"].stripped().objects(),
        original=_objects(original, n),
    )


def _objects(text: pa.ChunkedArray | None, n: int) -> np.ndarray:
    if text is None:
        return np.full(n, "", dtype=object)
    return text_objects(text)


def _check_observed_to(
    text: pa.ChunkedArray | None, observed_at: np.ndarray, n: int, add: Add
) -> np.ndarray:
    observed_to, problem = times(text, n)

    def written(i: int) -> str:
        return "" if text is None else str(text[i].as_py()).strip()

    add(
        problem == TIME_UNPARSEABLE,
        "observed_to",
        lambda i: f"observed_to is not an ISO 8601 time: {written(i)!r}",
    )
    add(
        problem == TIME_NO_OFFSET,
        "observed_to",
        lambda i: f"observed_to has no UTC offset: {written(i)}",
    )
    add(
        problem == TIME_OUT_OF_RANGE,
        "observed_to",
        lambda i: f"observed_to out of range (years 1678-2261): {written(i)}",
    )
    # NaT compares False, so a missing time on either side passes.
    before = observed_to < observed_at
    add(
        before,
        "observed_to",
        lambda i: (
            f"observed_to {written(i)} is before observed_at; "
            "observed_at starts the time window and observed_to ends it"
        ),
    )
    return observed_to


def _check_direction(column: Distinct, add: Add) -> np.ndarray:
    index = {name: code for code, name in enumerate(DIRECTIONS)}

    def code(value: str) -> int:
        key = value.strip().lower()
        return ATTACK if not key else index.get(key, -1)

    per_value = np.array([code(v) for v in column.values], dtype=np.int8)
    add(
        column.where_code(per_value, -1),
        "direction",
        lambda i: (
            f"direction must be {' or '.join(DIRECTIONS)} (or empty for attack): "
            f"{column.text(i).strip()!r}"
        ),
    )
    return column.at(np.maximum(per_value, ATTACK), slice(None))


def _check_count(column: Distinct, name: str, add: Add) -> np.ndarray:
    """A non-negative integer or empty, as a float per row (NaN when empty or invalid)."""

    def number(value: str) -> float:
        value = value.strip()
        if not value:
            return np.nan
        try:
            x = float(value)
        except ValueError:
            return -1.0
        return x if np.isfinite(x) and x >= 0 and x == int(x) else -1.0

    per_value = np.array([number(v) for v in column.values], dtype=np.float64)
    add(
        column.where_code(per_value, -1),
        name,
        lambda i: f"{name} is not a non-negative integer: {column.text(i).strip()!r}",
    )
    return column.at(np.where(per_value < 0, np.nan, per_value), slice(None))


def _check_range(low: np.ndarray, best: np.ndarray, high: np.ndarray, add: Add) -> None:
    """low <= fatalities <= high wherever both sides are stated (NaN compares False)."""

    def n(x: float) -> str:
        return str(int(x))

    add(
        low > high,
        "fatalities_low",
        lambda i: f"fatalities_low {n(low[i])} is above fatalities_high {n(high[i])}",
    )
    add(
        low > best,
        "fatalities_low",
        lambda i: f"fatalities_low {n(low[i])} is above fatalities {n(best[i])}",
    )
    add(
        best > high,
        "fatalities_high",
        lambda i: f"fatalities_high {n(high[i])} is below fatalities {n(best[i])}",
    )
