"""Packed incidents (rows' JSON, decoded on use) read back as the dicts they were made of."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from truce.store.evaluation_rows import INCIDENT_POSITIONAL, _doc
from truce.store.packed import (
    BLOCK,
    INCIDENT_FIELDS,
    PackedIncidents,
    fields_of,
    items_at,
    keys_of,
)


def _incident(i: int) -> dict[str, Any]:
    values: dict[str, Any] = dict.fromkeys(INCIDENT_FIELDS)
    values.update(
        id=f"inc-{i + 1}",
        key=f"s:{i}",
        report_ids=[f"s:{i}", f"t:{i}"][: 1 + i % 2],
        sources=["s", "t"][: 1 + i % 2],
        event_type="shelling",
        observed_at="2016-09-13T04:10:00+03:00",
        lon=37.1 + i / 1000,
        lat=36.2,
        party="gov" if i % 3 else None,
        target="Jabhat Fateh al-Sham — “قوات”" if i == 2 else None,
        corroboration=1 + i % 2,
        grade="B2",
        violations=[],
        involved=["gov"],
        datasets=[],
    )
    return values


def _packed(items: list[dict[str, Any]], violations_at: dict[int, list[str]]) -> PackedIncidents:
    docs = [_doc(item, INCIDENT_POSITIONAL).decode() for item in items]
    return PackedIncidents([item["key"] for item in items], docs, violations_at)


def test_packed_incidents_decode_to_the_dicts_they_were_made_of():
    n = BLOCK + 7  # more than one block
    items = [_incident(i) for i in range(n)]
    items[5] = {**items[5], "review_key": "other"}  # another shape: stored as an object
    at = {0: ["v-1"], 5: ["v-2", "v-3"]}
    for k, ids in at.items():
        items[k]["violations"] = ids
    packed = _packed(items, at)
    assert packed.docs[0].startswith("[") and packed.docs[5].startswith("{")
    assert orjson.loads(packed.docs[0])[INCIDENT_FIELDS.index("id")] is None  # from position
    assert len(packed) == n
    assert list(packed) == items
    assert packed[5] == items[5] and packed[-1] == items[-1]
    assert packed[3:9] == items[3:9]
    assert items_at(packed, [9, 0, 5]) == [items[9], items[0], items[5]]
    assert packed == items and items == packed
    with pytest.raises(IndexError):
        packed[n]
    assert keys_of(packed) == keys_of(items) == [item["key"] for item in items]
    positions = [n - 1, 5, 0]
    assert fields_of(packed, positions, ("lon", "report_ids")) == fields_of(
        items, positions, ("lon", "report_ids")
    )
    # Decoded dicts are fresh: changing one changes nothing held.
    packed[0]["violations"].append("v-9")
    assert packed[0]["violations"] == ["v-1"]


def test_same_docs_marks_the_rows_two_packings_share():
    items = [_incident(i) for i in range(6)]
    before = _packed(items, {})
    docs = list(before.docs)
    docs[2] = _doc({**items[2], "lat": 1.0}, INCIDENT_POSITIONAL).decode()
    after = PackedIncidents([*before.keys, "s:6"], [*docs, docs[0]], {})
    assert after.same_docs(before).tolist() == [True, True, False, True, True, True, False]
    assert not after.same_docs(items).any()  # dicts: nothing known to be the same
