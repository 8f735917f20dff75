"""The columns a CQL2 filter is evaluated over (`truce.api.ogc.cql_mask`): one per
queryable, over the candidate rows, as numpy arrays.

Strings are codes into their distinct values (so a predicate on strings is computed
once per distinct value), numbers floats with NaN for null, booleans, timestamps UTC
nanoseconds with `NAT` for null, and the geometry `Points` in CRS84.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from truce.errors import BadInput

__all__ = ["NAT", "Column", "Columns", "Points", "SimpleColumns"]

NAT = np.iinfo(np.int64).min


@dataclass(frozen=True)
class Column:
    """One queryable over some rows. `type`: string, number, boolean or timestamp.
    Strings: `values` are codes into `labels` (-1: null); timestamps: UTC ns (NAT: null)."""

    type: str
    values: np.ndarray
    null: np.ndarray
    labels: np.ndarray | None = None

    @classmethod
    def strings(cls, items: Sequence[object] | np.ndarray) -> Column:
        """Strings (None: null); any other value is compared as its text."""
        codes, labels = pd.factorize(pd.Series(items, dtype=object), use_na_sentinel=True)
        text = np.array([str(label) for label in labels], dtype=object)  # once per distinct
        return cls("string", codes.astype(np.int32), codes < 0, text)

    @classmethod
    def numbers(cls, items: Sequence[float | None] | np.ndarray) -> Column:
        array = np.array(items, dtype=np.float64)  # None becomes NaN
        return cls("number", array, np.isnan(array))

    @classmethod
    def booleans(cls, items: np.ndarray, null: np.ndarray | None = None) -> Column:
        array = np.asarray(items, dtype=bool)
        return cls("boolean", array, np.zeros(len(array), bool) if null is None else null)

    @classmethod
    def timestamps(cls, ns: np.ndarray) -> Column:
        return cls("timestamp", ns, ns == NAT)

    def take(self, rows: np.ndarray) -> Column:
        return Column(self.type, self.values[rows], self.null[rows], self.labels)

    def __len__(self) -> int:
        return len(self.values)


@dataclass(frozen=True)
class Points:
    """The geometry queryable: points in CRS84."""

    lon: np.ndarray
    lat: np.ndarray

    def take(self, rows: np.ndarray) -> Points:
        return Points(self.lon[rows], self.lat[rows])

    def __len__(self) -> int:
        return len(self.lon)


class Columns(Protocol):
    """The queryables of the rows a filter is evaluated over."""

    def __len__(self) -> int: ...

    def column(self, name: str) -> Column | Points:
        """The queryable `name`; `BadInput` naming the known ones if there is none."""
        ...


class SimpleColumns:
    """Columns from a mapping (for tests and small collections)."""

    def __init__(self, columns: Mapping[str, Column | Points], n: int | None = None) -> None:
        self.columns = dict(columns)
        first = next(iter(self.columns.values()), None)
        self.n = len(first) if first is not None else (n or 0)

    def __len__(self) -> int:
        return self.n

    def column(self, name: str) -> Column | Points:
        if name not in self.columns:
            known = ", ".join(self.columns) or "none"
            raise BadInput(f"filter: {name!r} is not a queryable here; known: {known}")
        return self.columns[name]
