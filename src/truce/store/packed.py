"""An evaluation's incidents kept as their stored rows' JSON, made into dicts on use.

A server process holds the current evaluation of each agreement. As a million
dicts, its incidents take 2.6 GB (2.5 KB each: the dict, its lists, a new string
for every value); as the JSON of their rows, which stores an incident as the
array of its values in `INCIDENT_FIELDS` order, they take ~230 bytes each. The
readers that need an incident (a page, a stream block, an export block) decode
just those, a block at a time with one parse; a refresh that changed a few rows
replaces those few strings (`evaluation_rows.patch`).

The positional fields (`id`, `violations`) are not in the rows: they follow from
the position and from the violations, and are filled in on decoding.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, overload

import numpy as np
import orjson

from truce.store.gc_pause import paused_gc

# The fields of an incident in their order (`truce.formats.evaluation_dicts`): a row
# holds an incident with exactly these as the array of its values; any other is stored
# as a JSON object.
INCIDENT_FIELDS = (
    "id",
    "key",
    "report_ids",
    "sources",
    "event_type",
    "weapon",
    "observed_at",
    "lon",
    "lat",
    "precision_m",
    "party",
    "target",
    "corroboration",
    "grade",
    "count",
    "fatalities",
    "violations",
    "observed_to",
    "location_precision_m",
    "fatalities_range",
    "direction",
    "involved",
    "datasets",
)
_ID, _VIOLATIONS = INCIDENT_FIELDS.index("id"), INCIDENT_FIELDS.index("violations")
BLOCK = 16_384  # rows decoded per parse


def incident_doc(item: Mapping[str, Any], default: Any) -> bytes:
    """An incident as its row holds it: without its positional fields (null in place),
    as an array of values when it has exactly `INCIDENT_FIELDS`."""
    if tuple(item) == INCIDENT_FIELDS:
        values = list(item.values())
        values[_ID] = values[_VIOLATIONS] = None
        return orjson.dumps(values, default=default)
    doc = dict(item)
    for name in ("id", "violations"):
        if name in doc:
            doc[name] = None
    return orjson.dumps(doc, default=default)


class PackedIncidents(Sequence[dict[str, Any]]):
    """Incidents in evaluation order as their rows' JSON (`docs`), with their keys and
    their violations' ids by incident position. Immutable: a patch makes a new one
    sharing the unchanged strings, so a reader of the previous one is not disturbed."""

    __slots__ = ("docs", "keys", "violations_at")

    def __init__(
        self, keys: list[str], docs: list[str], violations_at: Mapping[int, list[str]]
    ) -> None:
        self.keys = keys
        self.docs = docs
        self.violations_at = violations_at

    def __len__(self) -> int:
        return len(self.docs)

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return self.decode(range(*index.indices(len(self))))
        k = index + len(self) if index < 0 else index
        if not 0 <= k < len(self):
            raise IndexError(index)
        return self.decode((k,))[0]

    def decode(self, positions: Iterable[int]) -> list[dict[str, Any]]:
        """The incidents at `positions`, a block at a time (one parse per block)."""
        rows = list(positions)
        out: list[dict[str, Any]] = []
        docs, at = self.docs, self.violations_at
        with paused_gc():
            for start in range(0, len(rows), BLOCK):
                block = rows[start : start + BLOCK]
                values = orjson.loads("[" + ",".join([docs[k] for k in block]) + "]")
                for k, value in zip(block, values, strict=True):
                    item = (
                        dict(zip(INCIDENT_FIELDS, value, strict=True))
                        if type(value) is list
                        else value
                    )
                    item["id"], item["violations"] = f"inc-{k + 1}", list(at.get(k, ()))
                    out.append(item)
        return out

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for start in range(0, len(self), BLOCK):
            yield from self.decode(range(start, min(start + BLOCK, len(self))))

    def same_docs(self, other: Sequence[dict[str, Any]]) -> np.ndarray:
        """Per position (of self): the incident there is the very row `other` holds there,
        so what was made of it may be kept (strings are shared by `patch`, never
        rewritten; violations are looked at separately)."""
        same = np.zeros(len(self), dtype=bool)
        if isinstance(other, PackedIncidents):
            m = min(len(self), len(other))
            mine, theirs = self.docs, other.docs
            same[:m] = np.fromiter((mine[k] is theirs[k] for k in range(m)), dtype=bool, count=m)
        return same

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"PackedIncidents(<{len(self)} incidents>)"


def keys_of(items: Sequence[Mapping[str, Any]]) -> Sequence[str]:
    """The incidents' keys, without decoding packed ones."""
    if isinstance(items, PackedIncidents):
        return items.keys
    return [item["key"] for item in items]


def fields_of(
    items: Sequence[Mapping[str, Any]], positions: Sequence[int], names: Sequence[str]
) -> list[list[Any]]:
    """For each of `names`, its values at `positions` (each packed incident decoded once)."""
    if isinstance(items, PackedIncidents):
        at = [INCIDENT_FIELDS.index(name) for name in names]
        out: list[list[Any]] = [[] for _ in names]
        docs = items.docs
        with paused_gc():
            for start in range(0, len(positions), BLOCK):
                block = positions[start : start + BLOCK]
                values = orjson.loads("[" + ",".join([docs[k] for k in block]) + "]")
                for column, i, name in zip(out, at, names, strict=True):
                    column.extend([v[i] if type(v) is list else v[name] for v in values])
        return out
    return [[items[k][name] for k in positions] for name in names]


def items_at(items: Sequence[dict[str, Any]], positions: Iterable[int]) -> list[dict[str, Any]]:
    """The items at `positions` (packed ones decoded together)."""
    if isinstance(items, PackedIncidents):
        return items.decode(positions)
    return [items[k] for k in positions]
