"""Incident features encoded once per snapshot, in index order, for the items pages.

An items page is at most `limit` features; building each as a dict and encoding
it costs microseconds per feature, and at 1M incidents the dicts of a page lie
all over memory. So when an index is built, every incident's feature is encoded
once (`ogc.incident_feature`, orjson) into one buffer in index order (sorted by
longitude, then latitude: a bbox page reads a few contiguous runs), without the
two properties that depend on the viewer: `violations` (how many the viewer
sees) and `published`. A page is then those byte ranges joined with the two
properties appended; features the fast path cannot vouch for are passed in
already encoded (see `AgreementIndex.incidents_json`). ~400 bytes per incident.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import orjson

from truce.api import ogc

__all__ = ["EncodedIncidents"]

VIEWER_PROPERTIES = ("violations", "published")
# The end of a feature: the viewer-dependent properties, then the closing braces.
_TAIL = (b'"violations":%d,"published":false}}', b'"violations":%d,"published":true}}')
# How each feature is stored: with the commonest end and the separator for the next.
_PLAIN_END = _TAIL[False] % 0 + b","


def feature_head(inc: Mapping[str, Any]) -> bytes:
    """`ogc.incident_feature(inc)` as JSON, without the viewer-dependent properties and
    the closing braces: head + `_TAIL[published] % violations` is the whole feature."""
    feature = ogc.incident_feature(inc)
    props = feature.pop("properties")
    for name in VIEWER_PROPERTIES:
        del props[name]
    return orjson.dumps(feature)[:-1] + b',"properties":' + orjson.dumps(props)[:-1] + b","


class EncodedIncidents:
    """The features of `incidents[order[i]]` for every index position i, each stored
    with `violations` 0, `published` false and a trailing comma, back to back: a run of
    consecutive rows with those values (most of a bbox page) is one slice."""

    starts: np.ndarray
    ends: np.ndarray
    _view: memoryview

    def __init__(
        self,
        incidents: Sequence[Mapping[str, Any]],
        order: np.ndarray,
        previous: tuple[EncodedIncidents, np.ndarray, np.ndarray] | None = None,
    ) -> None:
        """`previous`: (the features of an earlier index, its order, and which positions
        hold the same incident as there): those are copied, not encoded again."""
        buffer = bytearray()
        ends = np.empty(len(order), dtype=np.int64)
        same: list[bool] = [False] * len(order)
        old_start: list[int] = []
        old_end: list[int] = []
        old_view = memoryview(b"")
        if previous is not None:
            encoded, old_order, same_mask = previous
            same = same_mask.tolist()
            starts = np.empty(len(old_order), dtype=np.int64)
            stops = np.empty(len(old_order), dtype=np.int64)
            starts[old_order], stops[old_order] = encoded.starts, encoded.ends
            old_start, old_end, old_view = starts.tolist(), stops.tolist(), encoded._view
        for i, pos in enumerate(order.tolist()):
            if same[pos]:
                buffer += old_view[old_start[pos] : old_end[pos]]
            else:
                buffer += feature_head(incidents[pos])
                buffer += _PLAIN_END
            ends[i] = len(buffer)
        self.starts = np.concatenate([[0], ends[:-1]]).astype(np.int64)
        self.ends = ends
        self._view = memoryview(buffer).toreadonly()

    @property
    def nbytes(self) -> int:
        return self._view.nbytes

    def join(
        self,
        rows: np.ndarray,
        published: np.ndarray,
        violations: np.ndarray,
        ready: Mapping[int, bytes],
    ) -> bytes:
        """A JSON array of the features at index positions `rows`, with their `published`
        and `violations` values; a row in `ready` is taken as it is there (whole JSON)."""
        n = len(rows)
        if not n:
            return b"[]"
        plain = ~published & (violations == 0)
        if ready:
            plain &= ~np.isin(rows, np.fromiter(ready, dtype=np.int64, count=len(ready)))
        # A segment is a run of consecutive plain rows, or one other row.
        new = np.ones(n, dtype=bool)
        new[1:] = ~plain[1:] | ~plain[:-1] | (np.diff(rows) != 1)
        first = np.flatnonzero(new)
        last = np.append(first[1:], n) - 1
        view, cut = self._view, len(_PLAIN_END)
        starts, ends = self.starts[rows].tolist(), self.ends[rows].tolist()
        row_list, pub, vio, plain_list = (
            rows.tolist(),
            published.tolist(),
            violations.tolist(),
            plain.tolist(),
        )
        parts: list[bytes | memoryview] = [b"["]
        for f, la in zip(first.tolist(), last.tolist(), strict=True):
            if plain_list[f]:
                parts.append(view[starts[f] : ends[la]])
                continue
            done = ready.get(row_list[f]) if ready else None
            if done is not None:
                parts.append(done)
            else:
                parts.append(view[starts[f] : ends[f] - cut])
                parts.append(_TAIL[pub[f]] % vio[f])
            parts.append(b",")
        out = b"".join(parts)
        return out[:-1] + b"]"
