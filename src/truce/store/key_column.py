"""Keys held as one Arrow string column, looked up through their sorted hashes.

A server process holds the keys of every incident of an evaluation, and finds an
incident by its key (an OGC item, a violation's incident, a report's incident). As
a list of a million `str` with a dict from key to position, that is some 160 MB
per evaluation held (a `str` and an `int` object per key, the dict's table); as one
Arrow string array (`pyarrow`) with the keys' hashes sorted and their positions in
that order, some 40 MB. That lookup table is made on the first lookup (a few tenths
of a second at a million keys); a key is found by a binary search of its hash, and
the key there compared.

A `KeyColumn` is immutable, so a reader of a previous evaluation is not disturbed
by the next one (`replaced` makes a new column).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Collection, Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from typing import TypeVar, overload

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from truce.store import key_hash

CHUNK = 65_536  # keys made into Arrow (and back into `str`) at a time
# Fewer keys asked than 1/_SCAN_SHARE of those held, with no lookup table yet: a scan.
_SCAN_SHARE = 32
_T = TypeVar("_T")


# How keys are hashed, for the table and for the keys asked of it: many at once, and
# one (names here, so that a test can make hashes collide).
_hashes = key_hash.hashes
_hash = key_hash.hash_one


def as_strings(keys: Iterable[str] | pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """`keys` as Arrow strings: Arrow arrays and a `KeyColumn`'s as they are, `str` made
    into one array."""
    if isinstance(keys, pa.Array | pa.ChunkedArray):
        return keys
    if isinstance(keys, KeyColumn):
        return keys.array
    return pa.array(keys if isinstance(keys, list) else list(keys), pa.string())


class KeyColumn(Sequence[str]):
    """Keys by position, as one Arrow string array, with lookups by key."""

    __slots__ = ("_lock", "_table", "array")

    def __init__(self, array: pa.Array | pa.ChunkedArray) -> None:
        if isinstance(array, pa.Array):
            array = pa.chunked_array([array], pa.string())
        if array.type != pa.string():
            raise TypeError(f"keys are an Arrow string array, not {array.type}")
        if array.null_count:
            raise ValueError("a key is missing (null)")
        self.array = array
        self._table: tuple[np.ndarray, np.ndarray] | None = None
        self._lock = threading.Lock()

    def __reduce__(self) -> tuple[type[KeyColumn], tuple[pa.ChunkedArray]]:
        # The lookup table is of this process's `str` hashes (salted per process): another
        # process makes its own.
        return (KeyColumn, (self.array,))

    @classmethod
    def of(cls, keys: Iterable[str]) -> KeyColumn:
        """From keys in order; they may be streamed (a chunk of `str` held at a time)."""
        if isinstance(keys, KeyColumn):
            return keys
        builder, rest = KeysBuilder(), iter(keys)
        while chunk := list(itertools.islice(rest, CHUNK)):
            builder.extend(chunk)
        return builder.build()

    def __len__(self) -> int:
        return len(self.array)

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> KeyColumn: ...
    def __getitem__(self, index: int | slice) -> str | KeyColumn:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step != 1:
                return KeyColumn(self.array.take(pa.array(range(start, stop, step))))
            return KeyColumn(self.array.slice(start, max(0, stop - start)))
        k = index + len(self) if index < 0 else index
        if not 0 <= k < len(self):
            raise IndexError(index)
        return self.array[k].as_py()  # type: ignore[no-any-return]

    def __iter__(self) -> Iterator[str]:
        for start in range(0, len(self), CHUNK):
            yield from self.array.slice(start, CHUNK).to_pylist()

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.position(key) is not None

    def index(self, key: str, start: int = 0, stop: int | None = None) -> int:
        at = self.position(key)
        if at is None or at < start or (stop is not None and at >= stop):
            raise ValueError(f"{key!r} is not in the keys")
        return at

    def __eq__(self, other: object) -> bool:
        if isinstance(other, KeyColumn):
            return self.array.equals(other.array)
        if isinstance(other, Sequence) and not isinstance(other, str):
            return len(self) == len(other) and list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"KeyColumn(<{len(self)} keys>)"

    def _lookup(self) -> tuple[np.ndarray, np.ndarray]:
        """The keys' hashes sorted, and their positions in that order."""
        with self._lock:
            if self._table is None:
                hashes = _hashes(self.array)
                order = np.argsort(hashes).astype(np.int32)
                self._table = (hashes[order], order)
            return self._table

    def positions(self, keys: Iterable[str] | pa.Array | pa.ChunkedArray) -> np.ndarray:
        """Where each of `keys` (`str`, or Arrow strings) is (int64), -1 for one that is
        not here. A key held twice is found at its later position (as a dict made in
        order would)."""
        asked = as_strings(keys)
        if not len(asked) or not len(self):
            return np.full(len(asked), -1, dtype=np.int64)
        if self._table is None and len(asked) * _SCAN_SHARE < len(self):
            return self._scanned(asked.to_pylist())
        return self.looked_up(asked)

    def _scanned(self, needles: list[str]) -> np.ndarray:
        """A few keys among many: one pass of Arrow's `is_in` over the column (tens of
        ms at a million), no table made (a refresh's new column is asked once)."""
        hits = np.flatnonzero(self.is_in(needles))
        # Ascending positions: a key held twice ends at its later one.
        found = dict(zip(self.array.take(pa.array(hits)).to_pylist(), hits.tolist(), strict=True))
        return np.fromiter((found.get(k, -1) for k in needles), np.int64, len(needles))

    def looked_up(self, needles: Iterable[str] | pa.Array | pa.ChunkedArray) -> np.ndarray:
        """`positions`, always through the lookup table (made if need be): for a column
        asked again and again, or a chunk at a time. The keys are looked up a chunk at a
        time: a million at once made some 90 MB of temporary arrays (as much as Arrow's
        `is_in` building a hash table of them)."""
        asked = as_strings(needles)
        out = np.full(len(asked), -1, dtype=np.int64)
        if not len(asked) or not len(self):
            return out
        hashes, order = self._lookup()
        for s in range(0, len(asked), CHUNK):
            part = asked.slice(s, CHUNK)
            out[s : s + len(part)] = self._found(part, hashes, order)
        return out

    def _found(
        self, asked: pa.Array | pa.ChunkedArray, hashes: np.ndarray, order: np.ndarray
    ) -> np.ndarray:
        wanted = _hashes(asked)
        at = np.searchsorted(hashes, wanted, side="right") - 1
        found = (at >= 0) & (hashes[np.maximum(at, 0)] == wanted)
        # Almost always the one entry with its hash; a run of equal hashes (a key held
        # twice, or two keys sharing a hash) is looked through one by one.
        alone = found & ((at == 0) | (hashes[np.maximum(at - 1, 0)] != wanted))
        out = np.full(len(asked), -1, dtype=np.int64)
        hit = np.flatnonzero(alone)
        cand = order[at[hit]]
        held = self.array.take(pa.array(cand))
        same = pc.equal(held, asked.take(pa.array(hit))).to_numpy(zero_copy_only=False)
        out[hit[same]] = cand[same]
        for j in np.flatnonzero(found & ~alone).tolist():
            lo = int(np.searchsorted(hashes, wanted[j], side="left"))
            key = asked[j].as_py()
            held_at = [int(order[a]) for a in range(lo, int(at[j]) + 1)]
            out[j] = max((k for k in held_at if self[k] == key), default=-1)
        return out

    def position(self, key: str) -> int | None:
        """Where `key` is, if it is here (the lookup table made on first use: the
        next key asked of the same column is found in microseconds)."""
        if not len(self):
            return None
        hashes, order = self._lookup()
        # One key without numpy's per-array costs where they can be spared: its hash's
        # last entry, and the key there compared.
        wanted = _hash(key)
        i = int(hashes.searchsorted(wanted, side="right")) - 1
        if i < 0 or hashes[i] != wanted:
            return None
        if i and hashes[i - 1] == wanted:  # a run of equal hashes: looked through
            at = int(self.looked_up([key])[0])
            return None if at < 0 else at
        at = int(order[i])
        return at if self[at] == key else None

    def is_in(self, keys: Collection[str]) -> np.ndarray:
        """Per position: its key is one of `keys` (bool)."""
        if not keys or not len(self):
            return np.zeros(len(self), dtype=bool)
        if isinstance(keys, KeySet):  # through the set's own table, kept with it
            return keys.column.positions(self.array) >= 0  # type: ignore[no-any-return]
        values = pa.array(list(keys), pa.string())
        found = pc.is_in(self.array, value_set=values)
        return found.to_numpy(zero_copy_only=False)  # type: ignore[no-any-return]

    def replaced(self, count: int, updates: Sequence[tuple[int, str]]) -> KeyColumn | None:
        """The first `count` keys (padded as needed) with `updates` (position, key)
        applied; None if a position past the current end is left without a key."""
        at = np.arange(count, dtype=np.int64)
        pos = np.fromiter((p for p, _ in updates), dtype=np.int64, count=len(updates))
        if len(pos) and (pos.min() < 0 or pos.max() >= count):
            raise IndexError("a key's position is outside the column")
        if count > len(self) and not np.isin(np.arange(len(self), count), pos).all():
            return None
        at[pos] = len(self) + np.arange(len(pos))
        new = pa.array([key for _, key in updates], pa.string())
        return _settled(KeyColumn(pa.chunked_array([*self.array.chunks, new]).take(pa.array(at))))


class KeySet(AbstractSet[str]):
    """Distinct keys, held as a `KeyColumn`. A server process holds an agreement's
    published incident keys: as a `frozenset` of a million `str` some 90 MB, as this
    some 40 MB (the keys, and their lookup table once a key is asked). One key is
    asked in microseconds (`in`, a few times a set's), many at once as arrays
    (`are_in`, `KeyColumn.is_in`)."""

    __slots__ = ("column",)

    def __init__(self, column: KeyColumn) -> None:
        self.column = column  # distinct keys, in one chunk (`values`)

    @classmethod
    def of(cls, keys: Iterable[str]) -> KeySet:
        if isinstance(keys, KeySet):
            return keys
        return cls(_settled(KeyColumn(pc.unique(KeyColumn.of(keys).array))))

    @classmethod
    def _from_iterable(cls, items: Iterable[_T]) -> frozenset[_T]:
        return frozenset(items)  # what `Set`'s operators (`|`, `&`, `-`) make

    def __contains__(self, key: object) -> bool:
        return key in self.column

    def __iter__(self) -> Iterator[str]:
        return iter(self.column)

    def __len__(self) -> int:
        return len(self.column)

    def __repr__(self) -> str:
        return f"KeySet({len(self)} keys)"

    @property
    def values(self) -> pa.Array:
        """The keys as one Arrow array (a `value_set` for `pyarrow.compute.is_in`)."""
        chunks = self.column.array.chunks
        return chunks[0] if len(chunks) == 1 else self.column.array.combine_chunks()

    def are_in(self, keys: Iterable[str]) -> np.ndarray:
        """Per key asked: it is one of these (bool). Always through the lookup table: a
        set is kept and asked again and again (an export's pages), where a scan of it
        for a page of 10k keys took three times as long at 320k published."""
        return self.column.looked_up(keys) >= 0  # type: ignore[no-any-return]

    def with_keys(self, keys: Iterable[str]) -> KeySet:
        """These keys and `keys` (this set is left as it is). The keys not held yet are
        found through the lookup table and put after the held ones: a publication adds
        a few to a million, where making the union distinct again hashed every key
        (some 100 MB for a moment at a million)."""
        added = pc.unique(KeyColumn.of(keys).array.combine_chunks())
        if not len(added):
            return self
        missing = added.filter(pa.array(self.column.positions(added) < 0))
        if not len(missing):
            return self
        held = self.values
        return KeySet(_settled(KeyColumn(pa.concat_arrays([held, missing.cast(held.type)]))))


class KeysBuilder:
    """Collects keys into a `KeyColumn`, a chunk of `str` held at a time."""

    def __init__(self) -> None:
        self._chunks: list[pa.Array] = []
        self._chunk: list[str] = []

    def extend(self, keys: Iterable[str]) -> None:
        self._chunk.extend(keys)
        if len(self._chunk) >= CHUNK:
            self._flush()

    def _flush(self) -> None:
        self._chunks.append(pa.array(self._chunk, pa.string()))
        self._chunk = []

    def build(self) -> KeyColumn:
        self._flush()
        # Left in chunks: joining them would hold the keys twice for a moment.
        return _settled(KeyColumn(pa.chunked_array(self._chunks, pa.string())))


def _settled(column: KeyColumn) -> KeyColumn:
    """Hands back what making `column` used and freed: Arrow's allocator (mimalloc)
    keeps freed pages for reuse, which a server process held at some 30 MB per
    million keys made. It takes well under a millisecond."""
    pa.default_memory_pool().release_unused()
    return column
