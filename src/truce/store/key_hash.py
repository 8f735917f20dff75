"""The hashes `truce.store.key_column` sorts keys by, made over an Arrow string array's
own buffers by one compiled pass.

Before, each key was made a `str` and given to Python's `hash`: at a million keys
some 0.2 s of the GIL, each time a server process made a lookup table (a new
evaluation's keys, the published keys after each publication). Asking a million keys
of a set that way was slower still, so such questions went to Arrow's `is_in`,
which builds a hash table of the whole set for each call: some 90 MB for a moment
at a million keys, while the refreshes beside it held their own.

The hash is 64-bit FNV-1a over the key's UTF-8 bytes, started from a seed drawn per
process and finished with splitmix64's mixer. Like Python's `str` hash it is salted
per process (a table lives and dies in its process): keys cannot be chosen ahead so
that they collide. Keys whose hashes do collide are still told apart: a lookup
compares the keys themselves.
"""

from __future__ import annotations

import os

import numpy as np
import pyarrow as pa

from truce.domain.compiled import compiled

_SEED = np.uint64(int.from_bytes(os.urandom(8), "little"))


@compiled
def _fnv1a(data: np.ndarray, start: int, stop: int, seed: np.uint64) -> np.uint64:
    h = seed ^ np.uint64(0xCBF29CE484222325)
    for j in range(start, stop):
        h = (h ^ np.uint64(data[j])) * np.uint64(0x100000001B3)
    h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


@compiled
def _each(data: np.ndarray, offsets: np.ndarray, seed: np.uint64, out: np.ndarray) -> None:
    for i in range(len(out)):
        out[i] = _fnv1a(data, offsets[i], offsets[i + 1], seed)


def hashes(keys: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Each key's hash (int64), in order. `keys`: Arrow strings (a null hashes as "")."""
    out = np.empty(len(keys), dtype=np.uint64)
    at = 0
    for chunk in keys.chunks if isinstance(keys, pa.ChunkedArray) else (keys,):
        if not len(chunk):
            continue
        if chunk.type != pa.string():
            chunk = chunk.cast(pa.string())
        _, offsets, data = chunk.buffers()
        starts = np.frombuffer(
            offsets, dtype=np.int32, count=len(chunk) + 1, offset=4 * chunk.offset
        )
        text = np.frombuffer(data, dtype=np.uint8) if data is not None else np.empty(0, np.uint8)
        _each(text, starts, _SEED, out[at : at + len(chunk)])
        at += len(chunk)
    return out.view(np.int64)


def hash_one(key: str) -> int:
    """`key`'s hash, as `hashes` gives it (a lookup of one key: no Arrow array made)."""
    # A lone surrogate is no key of an Arrow column (UTF-8 only), but may be asked for.
    data = np.frombuffer(key.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    h = int(_fnv1a(data, 0, len(data), _SEED))
    return h - (1 << 64) if h >= 1 << 63 else h  # as int64, the table's type
