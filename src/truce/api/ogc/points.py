"""Points of an agreement's incidents sorted for the OGC items queries: a bbox query is
two `searchsorted` calls per longitude cell, a latitude and time mask over that slice,
and a slice for the page; no scan of Python dicts."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from truce.api.ogc import Bbox, Interval
from truce.api.ogc.columns import NAT

CELL_DEG = 0.05  # longitude cell width of `PointIndex`


_NS_UTC = pa.timestamp("ns", tz="UTC")


def times_ns(values: Sequence[str | None] | pa.Array) -> np.ndarray:
    """ISO 8601 times as nanoseconds since the epoch (UTC). An Arrow column is read by
    Arrow's own parser, with no Python object per value: at 1M incidents half the time,
    and tens of MB less at the peak, of going through `str`s and pandas. What Arrow
    refuses (a time without an offset, a date alone, a missing time) goes to pandas,
    which gives the same instant wherever both accept a value."""
    if isinstance(values, pa.Array):
        if not values.null_count:
            with contextlib.suppress(pa.ArrowInvalid):
                return pc.cast(values, _NS_UTC).to_numpy().view(np.int64)  # type: ignore[no-any-return]
        values = values.to_pylist()
    if not values:
        return np.zeros(0, dtype=np.int64)
    t = pd.to_datetime(pd.Series(values, dtype=object), utc=True, format="ISO8601")
    return t.to_numpy(dtype="datetime64[ns]").view(np.int64)


def _position_type(n: int) -> type[np.signedinteger]:
    return np.int32 if n < 2**31 else np.int64


@dataclass
class PointIndex:
    """Points sorted by (longitude cell, latitude, longitude); `order[i]` is the source
    position of sorted row i.

    Longitude cells are `CELL_DEG` wide. Within a cell the rows are sorted by latitude,
    so a bbox is, per cell it touches, one contiguous run of rows found by
    `searchsorted` on `key` (cell * 1000 + latitude + 90, increasing); only the rows of
    those runs are then checked exactly. The work grows with what the box holds, not
    with the width of a longitude band across all the data."""

    lon: np.ndarray
    lat: np.ndarray
    t_ns: np.ndarray
    order: np.ndarray
    key: np.ndarray

    @staticmethod
    def cells(lon: np.ndarray | float) -> np.ndarray:
        return np.floor((np.asarray(lon, dtype=np.float64) + 180.0) / CELL_DEG).astype(np.int64)

    @classmethod
    def build(cls, lon: np.ndarray, lat: np.ndarray, t_ns: np.ndarray) -> PointIndex:
        cell = cls.cells(lon)
        # Positions as int32 where they fit: 4 MB less per million points, held per index.
        order = np.lexsort((lon, lat, cell)).astype(_position_type(len(lon)), copy=False)
        key = cell[order] * 1000.0 + (lat[order] + 90.0)
        return cls(lon[order], lat[order], t_ns[order], order, key)

    def __len__(self) -> int:
        return len(self.order)

    def _in_bbox(self, bbox: Bbox) -> np.ndarray:
        parts = []
        for lo, hi in sorted(bbox.lon_ranges()):
            cells = np.arange(int(self.cells(lo)), int(self.cells(hi)) + 1)
            starts = np.searchsorted(self.key, cells * 1000.0 + (bbox.miny + 90.0), "left")
            ends = np.searchsorted(self.key, cells * 1000.0 + (bbox.maxy + 90.0), "right")
            lengths = ends - starts
            # the runs starts[j] .. ends[j] - 1, concatenated
            before = np.cumsum(lengths) - lengths
            rows = np.repeat(starts - before, lengths) + np.arange(int(lengths.sum()))
            lon, lat = self.lon[rows], self.lat[rows]  # exact: keys may round
            exact = (lon >= lo) & (lon <= hi) & (lat >= bbox.miny) & (lat <= bbox.maxy)
            parts.append(rows[exact])
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    def query(
        self, bbox: Bbox | None, interval: Interval | None, visible: np.ndarray | None
    ) -> np.ndarray:
        """Sorted-row positions matching all filters, in index order."""
        if bbox is None:
            mask = np.ones(len(self), dtype=bool) if visible is None else visible.copy()
            if interval is not None:
                mask &= self._in_interval(self.t_ns, interval)
            return np.flatnonzero(mask)
        rows = self._in_bbox(bbox)
        if interval is not None:
            rows = rows[self._in_interval(self.t_ns[rows], interval)]
        if visible is not None:
            rows = rows[visible[rows]]
        return rows

    @staticmethod
    def _in_interval(t: np.ndarray, interval: Interval) -> np.ndarray:
        mask = t != NAT
        if interval.start_ns is not None:
            mask &= t >= interval.start_ns
        if interval.end_ns is not None:
            mask &= t <= interval.end_ns
        return mask

    def extent(self) -> tuple[list[float] | None, tuple[int | None, int | None] | None]:
        if not len(self):
            return None, None
        bbox = [
            float(np.min(self.lon)),
            float(np.min(self.lat)),
            float(np.max(self.lon)),
            float(np.max(self.lat)),
        ]
        t = self.t_ns[self.t_ns != NAT]
        return bbox, ((int(t.min()), int(t.max())) if len(t) else None)
