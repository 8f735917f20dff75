"""Packed incidents (rows' JSON, decoded on use) read back as the dicts they were made of."""

from __future__ import annotations

import sys
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from truce.service import scopes
from truce.service.scopes import ReportIndex
from truce.store import packed_arrow
from truce.store.evaluation_rows import INCIDENT_POSITIONAL, _doc
from truce.store.key_column import KeyColumn
from truce.store.packed import (
    BLOCK,
    DOCS_PER_BLOCK,
    INCIDENT_FIELDS,
    PackedIncidents,
    fields_of,
    items_at,
    keys_of,
    position_of,
    unchanged,
)
from truce.store.packed_codec import TRAINING_BLOCKS, BlockCodec


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
    keys = [item["key"] for item in items]
    return PackedIncidents.pack(zip(keys, _docs(items), strict=True), violations_at)


def _docs(items: list[dict[str, Any]]) -> list[str]:
    return [_doc(item, INCIDENT_POSITIONAL).decode() for item in items]


def test_packed_incidents_decode_to_the_dicts_they_were_made_of():
    n = BLOCK + 7  # more than one block
    items = [_incident(i) for i in range(n)]
    items[5] = {**items[5], "review_key": "other"}  # another shape: stored as an object
    at = {0: ["v-1"], 5: ["v-2", "v-3"]}
    for k, ids in at.items():
        items[k]["violations"] = ids
    packed = _packed(items, at)
    docs = _docs(items)
    assert docs[0].startswith("[") and docs[5].startswith("{")
    assert orjson.loads(docs[0])[INCIDENT_FIELDS.index("id")] is None  # from position
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
    assert position_of(packed, items[7]["key"]) == position_of(items, items[7]["key"]) == 7
    assert position_of(packed, "nowhere") is None
    # Dicts are the same when they are the very same objects at the same place.
    moved = [*items[:3], dict(items[3]), *items[4:]]
    assert unchanged(moved, items).tolist() == [k != 3 for k in range(n)]
    assert not unchanged(packed, items).any()  # packed against dicts: nothing known
    # Decoded dicts are fresh: changing one changes nothing held.
    packed[0]["violations"].append("v-9")
    assert packed[0]["violations"] == ["v-1"]


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(0, 3 * DOCS_PER_BLOCK + 5),
    edits=st.lists(st.tuples(st.sampled_from(["change", "remove", "insert"]), st.integers(0, 200))),
)
def test_a_patch_gives_what_packing_the_new_rows_gives(n, edits):
    """`patched` (the rows written since, as `evaluation_rows.changes_since` gives them)
    equals packing the new evaluation whole, shares the blocks it did not touch, and
    says from where the incidents differ."""
    before = [_incident(i) for i in range(n)]
    after = [dict(item) for item in before]
    fresh = n
    for what, at in edits:
        if what == "change" and after:
            k = at % len(after)
            after[k] = {**after[k], "lat": after[k]["lat"] + 1}
        elif what == "remove" and after:
            del after[at % len(after)]
        elif what == "insert":
            after.insert(at % (len(after) + 1), _incident(fresh))
            fresh += 1
    old = {item["key"]: (k, item) for k, item in enumerate(before)}
    changes = []
    for k, item in enumerate(after):
        was = old.pop(item["key"], None)
        if was is None or was != (k, item):
            changes.append((item["key"], k, _doc(item, INCIDENT_POSITIONAL).decode()))
    changes += [(key, None, None) for key in old]
    held = _packed(before, {})
    got = held.patched(changes, len(after))
    assert got is not None
    patched, first = got
    whole = _packed(after, {})
    assert list(patched) == list(whole) and patched.keys == whole.keys
    differ = [
        k for k in range(max(n, len(after))) if k >= min(n, len(after)) or before[k] != after[k]
    ]
    assert first <= (differ[0] if differ else len(after))
    same = patched.same_docs(held)
    assert not any(same[k] for k in differ if k < len(after))
    if not changes:
        assert same.all()


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(0, 4 * DOCS_PER_BLOCK + 3),
    steps=st.lists(st.tuples(st.integers(0, 100), st.integers(0, 12)), min_size=1, max_size=40),
)
def test_a_continued_evaluation_is_what_packing_it_whole_gives(n, steps):
    """`continued` (a class's evaluation computed again from position `kept` on) equals
    packing the new incidents whole, again and again, shares the blocks before `kept`,
    and keeps its keys in a bounded number of pieces."""
    items = [_incident(i) for i in range(n)]
    held = _packed(items, {})
    fresh = n
    for cut, added in steps:
        kept = cut % (len(items) + 1)
        tail = [_incident(i) for i in range(fresh, fresh + added)]
        fresh += added
        items = items[:kept] + tail
        violations_at = {len(items) - 1: ["v-1"]} if items else {}
        before = held
        rows = list(zip([i["key"] for i in tail], _docs(tail), strict=True))
        held = before.continued(kept, rows, violations_at)
        whole = _packed(items, violations_at)
        assert list(held) == list(whole) and held.keys == whole.keys
        assert held.blocks[: kept // DOCS_PER_BLOCK] == before.blocks[: kept // DOCS_PER_BLOCK]
        assert all(
            a is b
            for a, b in zip(held.blocks[: kept // DOCS_PER_BLOCK], before.blocks, strict=False)
        )
        assert held.keys.array.num_chunks <= 33
        if items:
            assert held.keys.position(items[-1]["key"]) == len(items) - 1
    with pytest.raises(IndexError):
        held.continued(len(held) + 1, [], {})


def test_a_patch_that_does_not_add_up_asks_for_a_whole_load():
    items = [_incident(i) for i in range(5)]
    held = _packed(items, {})
    assert held.patched([], 6) is None  # a row missing at the end
    assert held.patched([], 4) is None  # a row past the end neither moved nor removed
    moved_away = [("s:1", 4, _doc(items[1], INCIDENT_POSITIONAL).decode())]
    assert held.patched(moved_away, 5) is None  # its old place left empty


def test_the_report_index_finds_each_reports_incident_packed_or_not(monkeypatch):
    monkeypatch.setattr(packed_arrow, "REPORT_INDEX_ROWS", 1001)  # several steps
    n = 2503
    items = [_incident(i) for i in range(n)]
    items[4] = {**items[4], "review_key": "other"}  # stored as an object
    items[6] = {**items[6], "report_ids": None}
    packed = _packed(items, {})
    naive = {k: inc["key"] for inc in items for k in inc["report_ids"] or ()}
    asked = ["t:1", "s:4", "s:6", "s:0", "nowhere", f"t:{n - 2}", "t:3"]
    held_by = {k: naive[k] for k in asked if k in naive}
    assert set(held_by) == {"t:1", "s:4", "s:0", f"t:{n - 2}", "t:3"}
    want = {k: key for k, key in held_by.items() if k != key}  # those held under another's key
    assert set(want) == {"t:1", f"t:{n - 2}", "t:3"}
    every = list(naive)[::-1]
    at = {k: p for p, inc in enumerate(items) for k in inc["report_ids"] or ()}
    moved_at = {k: (key, at[k]) for k, key in naive.items() if k != key}
    monkeypatch.setattr(scopes, "CHUNK", 97)  # the reports asked a chunk at a time
    for held in (items, packed):
        index = ReportIndex.of({"incidents": held})
        assert index.moved(asked) == want
        assert index.moved(KeyColumn.of(asked)) == want
        assert len(index.reports) == len(naive)
        assert index.moved_at(KeyColumn.of(every)) == moved_at and len(moved_at) > 97


def test_a_large_evaluation_is_packed_with_a_dictionary_its_patches_share():
    """Past `TRAINING_BLOCKS` blocks the rows are compressed with a dictionary trained
    on the first of them (`truce.store.packed_codec`): smaller than each block alone,
    and the blocks a patch compresses again use the same one."""
    n = TRAINING_BLOCKS * DOCS_PER_BLOCK + 3
    items = [_incident(i) for i in range(n)]
    packed = _packed(items, {})
    alone = BlockCodec(None)
    plain = sum(len(alone.compress(packed.codec.decompress(b))) for b in packed.blocks)
    assert sum(map(len, packed.blocks)) < 0.8 * plain
    changed = {**items[n // 2], "party": "opp"}
    patch = packed.patched([(changed["key"], n // 2, _docs([changed])[0])], n)
    assert patch is not None
    patched, first = patch
    assert first == n // 2 and patched.codec is packed.codec
    assert patched[n // 2] == changed and patched[0] == items[0]
    assert unchanged(patched, packed).sum() == n - DOCS_PER_BLOCK  # one block made again


def test_packed_incidents_made_from_dicts_go_to_another_process_whole():
    """A visibility class's evaluation is computed in the worker's computing process and
    sent to it pickled (`truce.service.compute_process`): the dictionary goes as its bytes
    and the lookup table is made again, as `str` hashes are salted per process."""
    import pickle

    n = TRAINING_BLOCKS * DOCS_PER_BLOCK + 5
    items = [_incident(i) for i in range(n)]
    packed = PackedIncidents.of_items(items, {3: ["v-1"], n - 1: ["v-2", "v-3"]})
    assert packed.codec.as_bytes() is not None  # trained: the dictionary goes too
    assert packed.keys.position("s:7") == 7  # a table made here must not go with it
    copy = pickle.loads(pickle.dumps(packed))
    assert copy == packed and len(copy) == n
    assert copy[3]["violations"] == ["v-1"] and copy[n - 1]["violations"] == ["v-2", "v-3"]
    assert copy.keys._table is None and copy.keys.position(f"s:{n - 2}") == n - 2
    assert sum(map(len, copy.blocks)) == sum(map(len, packed.blocks))


def test_a_class_evaluations_incidents_are_decoded_with_their_review_keys():
    items = [_incident(i) for i in range(40)]
    packed = _packed(items, {})
    linked = packed.with_review_keys({"s:5": "s:4"})
    assert "review_key" not in packed[5]  # the shared evaluation's have none
    assert linked[5]["review_key"] == "s:4" and linked[6]["review_key"] == "s:6"
    assert [i["review_key"] for i in linked.decode([5, 6])] == ["s:4", "s:6"]
    patch = linked.patched([("s:7", 7, _docs([{**items[7], "party": "x"}])[0])], 40)
    assert patch is not None and patch[0][5]["review_key"] == "s:4"  # kept by a patch
    assert linked.with_violations({5: ["v-1"]})[5]["review_key"] == "s:4"


@pytest.mark.parametrize("role", ["observer", "centre", "humanitarian"])
def test_which_packed_incidents_a_viewer_sees_is_known_without_decoding_them(role):
    """`Visibility.published_mask` and `own_mask` say of each packed incident what
    `Visibility.seen` says of it decoded, review keys and all; and `filter` shows the
    same from the packed incidents as from their dicts."""
    from datetime import UTC, datetime

    from truce.service.visibility import Visibility
    from truce.store.key_column import KeySet
    from truce.store.users import User

    items = [_incident(i) for i in range(300)]
    moved = {"s:5": "s:4", "s:6": "s:999", "s:7": "gone"}
    packed = _packed(items, {5: ["v-1"], 9: ["v-2"]}).with_review_keys(moved)
    user = User(id=1, name="amman", role=role, party=None, created_at=datetime.now(UTC))
    vis = Visibility(
        user,
        states={},
        published_incidents=KeySet.of(
            ["s:1", "s:4", "s:999", "s:7", *(f"s:{i}" for i in range(200, 260))]
        ),
        own_reports={"t:3", "t:11", "s:12", "nowhere"},
    )
    decoded = list(packed)
    seen = [vis.seen(inc) for inc in decoded]
    assert vis.published_mask(packed).tolist() == [s is not None and s[0] for s in seen]
    own = vis.own_mask(packed)
    assert own.tolist() == [s is not None and bool(s[1]) for s in seen]
    assert own.any() == (role != "observer")
    violations = [
        {"id": "v-1", "key": "a:r:s:5", "incident": "inc-6", "incident_key": "s:5", "rule": "r"},
        {"id": "v-2", "key": "a:r:s:9", "incident": "inc-10", "incident_key": "s:9", "rule": "r"},
    ]
    terms = {  # what the terms' parts show depends on which of these incidents are seen
        "not_charged": [{"incident_key": k} for k in ("s:1", "s:3", "s:250", "s:12", "s:100")],
        "convoys": [
            {
                "history": [],
                "incidents": ["inc-5", "inc-4", "inc-101"],
                "incident_keys": ["s:4", "s:3", "s:100"],
            }
        ],
    }
    for incidents in (True, False):
        views = [
            vis.filter({"incidents": held, "violations": violations, **terms}, incidents=incidents)
            for held in (packed, decoded)
        ]
        assert views[0] == views[1]
        seen_terms = [n["incident_key"] for n in views[0]["not_charged"]]
        assert seen_terms == (
            ["s:1", "s:250"] if role == "observer" else ["s:1", "s:3", "s:250", "s:12"]
        )
        convoy = views[0]["convoys"][0]["incident_keys"]
        assert convoy == (["s:4"] if role == "observer" else ["s:4", "s:3"])


def test_packed_blocks_hold_no_more_memory_than_their_bytes():
    """A worker holds a million incidents' blocks: each must cost its compressed size,
    not the compressor's worst-case output buffer (zstandard's `compress` keeps it:
    about 8 times the block here, 190 MB at 1M incidents in the bench's store)."""
    packed = _packed([_incident(i) for i in range(TRAINING_BLOCKS * DOCS_PER_BLOCK)], {})
    texts = [packed.codec.decompress(b) for b in packed.blocks]
    tracemalloc.start()
    try:
        blocks = [packed.codec.compress(text) for text in texts]
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert blocks == packed.blocks
    assert held <= sum(map(sys.getsizeof, blocks)) + sys.getsizeof(blocks) + 4096


def test_threads_decode_one_packed_evaluation_at_once():
    """A server's readers share its evaluation; a zstd context is not for two threads."""
    items = [_incident(i) for i in range(TRAINING_BLOCKS * DOCS_PER_BLOCK)]
    packed = _packed(items, {})

    def read(offset: int) -> bool:
        return (
            all(packed[k] == items[k] for k in range(offset, len(items), 7))
            and packed[offset : offset + 500] == items[offset : offset + 500]
        )

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(read, range(32)))
