"""Incident keys held as one Arrow column with a hash lookup (`truce.store.key_column`):
the same answers as a list of `str` and a dict from key to position, in a fraction of
the memory."""

from __future__ import annotations

import random
import subprocess
import sys
import tracemalloc

import numpy as np
import pyarrow as pa
import pytest

from truce.store import key_column, key_hash
from truce.store.key_column import KeyColumn, KeySet


def _keys(n: int, seed: int) -> list[str]:
    rnd = random.Random(seed)
    sources = ["ucdp", "amman", "hmeimim", "ocha-ß", "监测"]
    keys = [f"{rnd.choice(sources)}:{rnd.randrange(n * 2)}" for _ in range(n)]
    return [*keys, "", "x" * 300]  # empty and long keys too


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_positions_are_what_a_dict_made_in_order_gives(seed):
    keys = _keys(5_000, seed)  # with repeats: a repeated key is found at its last place
    as_dict = {key: k for k, key in enumerate(keys)}
    few = [*keys[::701], "nowhere", keys[-1]]  # scanned: no lookup table made for a few
    fresh = KeyColumn.of(keys)
    assert fresh.positions(few).tolist() == [as_dict.get(key, -1) for key in few]
    assert fresh._table is None
    held = KeyColumn.of(keys)
    asked = [*keys[::7], "nowhere", "ucdp:", "ucdp:-1"]
    got = held.positions(asked).tolist()
    assert got == [as_dict.get(key, -1) for key in asked]
    assert [held.position(key) for key in asked[:50]] == [as_dict.get(k) for k in asked[:50]]
    assert list(held) == keys and len(held) == len(keys)


def _colliding(keys: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Every key hashed to one of three values: each lookup has to compare keys."""
    return np.array([len(key) % 3 for key in keys.to_pylist()], dtype=np.int64)


def test_keys_whose_hashes_collide_are_told_apart(monkeypatch):
    monkeypatch.setattr(key_column, "_hashes", _colliding)
    monkeypatch.setattr(key_column, "_hash", lambda key: len(key) % 3)
    keys = _keys(2_000, 4)
    held = KeyColumn.of(keys)
    as_dict = {key: k for k, key in enumerate(keys)}
    asked = [*keys[::3], "nowhere", "a", "bb"]
    assert held.positions(asked[:20]).tolist() == [as_dict.get(key, -1) for key in asked[:20]]
    assert held.positions(asked).tolist() == [as_dict.get(key, -1) for key in asked]
    assert held._table is not None
    assert [held.position(key) for key in asked] == [as_dict.get(key) for key in asked]
    as_set = KeySet.of(keys[::2])
    assert held.is_in(as_set).tolist() == [key in set(keys[::2]) for key in keys]


def test_a_key_sharing_its_hash_with_one_held_key_only_is_not_taken_for_it(monkeypatch):
    monkeypatch.setattr(key_column, "_hashes", lambda keys: np.array(
        [len(key) for key in keys.to_pylist()], dtype=np.int64))  # fmt: skip
    monkeypatch.setattr(key_column, "_hash", len)
    held = KeyColumn.of(["a", "bb", "ccc"])  # one key of each hash
    assert held.positions(["x", "bb", "yyy", "zzzz"]).tolist() == [-1, 1, -1, -1]
    assert [held.position(key) for key in ("x", "bb", "yyy")] == [None, 1, None]
    assert held.is_in(KeySet.of(["q", "bb"])).tolist() == [False, True, False]


def test_a_key_is_hashed_the_same_wherever_its_array_starts():
    keys = _keys(3_000, 7)
    whole = pa.array(keys, pa.string())
    one_by_one = [key_hash.hash_one(k) for k in keys]
    assert key_hash.hashes(whole).tolist() == one_by_one
    chunked = pa.chunked_array([whole.slice(0, 1_000), whole.slice(1_000)])
    assert key_hash.hashes(chunked).tolist() == one_by_one
    assert key_hash.hashes(whole.slice(17, 40)).tolist() == one_by_one[17:57]
    assert key_hash.hashes(pa.array(keys, pa.large_string())).tolist() == one_by_one
    assert len(set(one_by_one)) == len(set(keys))  # no two of these keys collide
    assert key_hash.hashes(pa.array([], pa.string())).tolist() == []
    # Salted per process, as Python's own `str` hash is.
    other = subprocess.run(
        [sys.executable, "-c", "import pyarrow as pa; from truce.store.key_hash import hashes;"
         f" print(hashes(pa.array({keys[:3]!r}, pa.string())).tolist())"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert other.stdout.strip() != str(one_by_one[:3])


@pytest.mark.parametrize("chunks", [1, 3])
def test_a_column_asked_of_a_key_set_is_answered_key_by_key(chunks):
    keys = _keys(200_000, 8)  # past one chunk of compared keys
    wanted = set(keys[::3]) | {"not asked"}
    as_set = KeySet.of(wanted)
    step = len(keys) // chunks + 1
    column = KeyColumn(
        pa.chunked_array(
            [pa.array(keys[s : s + step], pa.string()) for s in range(0, len(keys), step)]
        )
    )
    assert column.is_in(as_set).tolist() == [key in wanted for key in keys]
    assert as_set.column._table is not None  # through the set's own table


def test_it_reads_like_the_list_it_stands_for():
    keys = [f"s:{i}" for i in range(10)]
    held = KeyColumn.of(keys)
    assert held[3] == "s:3" and held[-1] == "s:9"
    assert list(held[2:5]) == keys[2:5] and list(held[::4]) == keys[::4]
    assert list(held[8:]) == keys[8:] and len(held[12:]) == 0
    with pytest.raises(IndexError):
        held[10]
    assert "s:4" in held and "s:10" not in held and 4 not in held
    assert held.index("s:4") == 4
    with pytest.raises(ValueError, match="not in the keys"):
        held.index("s:10")
    assert held == keys and held == KeyColumn.of(keys) and held != keys[:-1]
    assert held.is_in({"s:1", "s:7", "t:1"}).tolist() == [k in ("s:1", "s:7") for k in keys]
    assert not held.is_in(set()).any()
    with pytest.raises(ValueError, match="missing"):
        KeyColumn.of(["a", None])  # type: ignore[list-item]
    assert held.position("\ud800") is None  # asked for (a path), never held: UTF-8 only
    assert held.positions(KeyColumn.of(["s:2", "t:2"])).tolist() == [2, -1]
    empty = KeyColumn.of([])  # a class that sees no report has no incident
    assert empty.position("s:1") is None and "s:1" not in empty
    assert empty.positions(["s:1", "s:2"]).tolist() == [-1, -1]


def test_replaced_applies_updates_and_refuses_a_gap_at_the_end():
    held = KeyColumn.of(["a", "b", "c", "d"])
    assert list(held.replaced(4, [(1, "x")])) == ["a", "x", "c", "d"]
    assert list(held.replaced(2, [])) == ["a", "b"]
    assert list(held.replaced(5, [(4, "e"), (0, "z")])) == ["z", "b", "c", "d", "e"]
    assert held.replaced(6, [(4, "e")]) is None  # position 5 would have no key
    assert list(held) == ["a", "b", "c", "d"]  # never changed in place
    with pytest.raises(IndexError):
        held.replaced(4, [(4, "e")])


def test_a_hundred_thousand_keys_take_a_fraction_of_a_list_and_a_dict():
    keys = [f"monitor-{i % 7}:r-{i:08d}" for i in range(100_000)]
    text = "\n".join(keys)  # the keys as a database driver would hand them over
    tracemalloc.start()
    try:
        as_list = text.split("\n")
        as_dict = {key: k for k, key in enumerate(as_list)}
        python_bytes = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    held = KeyColumn.of(keys)
    held.position(keys[0])  # the lookup table made
    hashes, order = held._table  # type: ignore[misc]
    column_bytes = held.array.nbytes + hashes.nbytes + order.nbytes + sys.getsizeof(held)
    assert len(as_dict) == len(held)
    assert column_bytes < python_bytes / 3, (column_bytes, python_bytes)


@pytest.mark.parametrize("seed", [5, 6])
def test_a_key_set_answers_as_a_frozenset_does(seed):
    keys = _keys(3_000, seed)  # with repeats
    as_set = frozenset(keys)
    held = KeySet.of(iter(keys))
    asked = [*keys[::5], "nowhere", "ucdp:", "x" * 299]
    assert len(held) == len(as_set) and set(held) == as_set
    assert [key in held for key in asked] == [key in as_set for key in asked]
    assert held.are_in(asked).tolist() == [key in as_set for key in asked]
    assert 42 not in held
    column = KeyColumn.of(asked)
    assert column.is_in(held).tolist() == column.is_in(as_set).tolist()
    assert (held | {"new"}) == as_set | {"new"} and (held & {"nowhere", keys[0]}) == {keys[0]}
    more = held.with_keys(["new", keys[1], "new"])
    assert set(more) == as_set | {"new"} and len(more) == len(as_set) + 1
    assert "new" not in held and held.with_keys([]) is held
    assert not KeySet.of(()) and "a" not in KeySet.of(())


def test_a_key_set_takes_less_than_half_a_frozenset():
    keys = [f"monitor-{i % 7}:r-{i:08d}" for i in range(100_000)]
    text = "\n".join(keys)
    tracemalloc.start()
    try:
        as_set = frozenset(text.split("\n"))
        python_bytes = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    held = KeySet.of(keys)
    assert keys[5] in held  # the lookup table made
    hashes, order = held.column._table  # type: ignore[misc]
    held_bytes = held.column.array.nbytes + hashes.nbytes + order.nbytes
    assert len(as_set) == len(held)
    assert held_bytes < python_bytes / 2, (held_bytes, python_bytes)
