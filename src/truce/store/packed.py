"""An evaluation's incidents kept as their stored rows' JSON, compressed, made into
dicts on use.

A server process holds the current evaluation of each agreement. As a million
dicts, its incidents take 2.6 GB (2.5 KB each: the dict, its lists, a new string
for every value); as the JSON of their rows, which stores an incident as the
array of its values in `INCIDENT_FIELDS` order, 240 MB; and as that JSON
compressed `DOCS_PER_BLOCK` rows at a time (`truce.store.packed_codec`), whose
rows are much alike, tens of MB. The readers that need an incident (a page, a stream block, an export
block) decompress and parse just the blocks that hold it; a refresh that changed
a few rows compresses again the few blocks that hold them (`patched`).

The positional fields (`id`, `violations`) are not in the rows: they follow from
the position and from the violations, and are filled in on decoding.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any, overload

import numpy as np
import orjson
import pyarrow as pa

from truce.store.heap import paused_gc
from truce.store.key_column import KeyColumn, KeysBuilder
from truce.store.packed_codec import TRAINING_BLOCKS, BlockCodec

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
BLOCK = 16_384  # positions decoded per step (what one step holds decoded at once)
# Rows per compressed block. A page of a hundred incidents scattered over the
# evaluation decompresses up to a hundred blocks: the fewer rows a block, the less of
# that is thrown away; the dictionary (`packed_codec`) makes up for the small blocks.
DOCS_PER_BLOCK = 8
_DIGEST_BLOCKS = 2048  # blocks decompressed together for `row_digests`
_KEY_CHUNKS = 32  # a continued evaluation's keys are joined into one past this many pieces


def plain_value(value: Any) -> Any:
    """numpy scalars and arrays as Python values (orjson's `default`)."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot store {type(value).__name__} in an evaluation row")


def violations_by_incident(violations: Iterable[Mapping[str, Any]]) -> dict[int, list[str]]:
    """Violations' ids by their incident's position (`inc-N` is position N-1)."""
    out: dict[int, list[str]] = {}
    for v in violations:
        out.setdefault(int(v["incident"][4:]) - 1, []).append(v["id"])
    return out


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


def _block_text(docs: Sequence[str]) -> bytes:
    text = "\n".join(docs)
    # A newline never occurs in orjson's compact output, so it separates the rows.
    if text.count("\n") != len(docs) - 1:
        raise ValueError("a stored evaluation row holds a newline: not compact JSON")
    return text.encode("utf-8")


class PackedIncidents(Sequence[dict[str, Any]]):
    """Incidents in evaluation order as their rows' JSON, compressed `DOCS_PER_BLOCK`
    rows to a block, with their keys and their violations' ids by incident position.
    Immutable: a patch makes a new one sharing the unchanged blocks, so a reader of
    the previous one is not disturbed."""

    __slots__ = ("blocks", "codec", "keys", "review_keys", "violations_at")

    def __init__(
        self,
        keys: KeyColumn,
        blocks: list[bytes],
        violations_at: Mapping[int, list[str]],
        codec: BlockCodec,
        review_keys: Mapping[str, str] | None = None,
    ) -> None:
        """`review_keys`: a visibility class's evaluation (`truce.service.scopes`) gives
        each incident a `review_key` on decoding, its own key unless mapped here (only
        the few that differ are: no row need hold it)."""
        self.keys = keys
        self.blocks = blocks
        self.violations_at = violations_at
        self.codec = codec
        self.review_keys = review_keys

    def with_violations(self, violations_at: Mapping[int, list[str]]) -> PackedIncidents:
        """The same rows with other violations' ids."""
        return PackedIncidents(self.keys, self.blocks, violations_at, self.codec, self.review_keys)

    def with_review_keys(self, review_keys: Mapping[str, str]) -> PackedIncidents:
        """The same rows, each decoded with its `review_key` (`review_keys[key]`, else its
        own key)."""
        return PackedIncidents(self.keys, self.blocks, self.violations_at, self.codec, review_keys)

    @classmethod
    def of_items(
        cls, items: Iterable[Mapping[str, Any]], violations_at: Mapping[int, list[str]]
    ) -> PackedIncidents:
        """From incidents as dicts, in evaluation order; they may be streamed (an
        evaluation computed here, made a block of dicts at a time: `IncidentBlocks`)."""
        return cls.pack(
            ((item["key"], incident_doc(item, plain_value).decode("utf-8")) for item in items),
            violations_at,
        )

    @classmethod
    def pack(
        cls,
        rows: Iterable[tuple[str, str]],
        violations_at: Mapping[int, list[str]],
    ) -> PackedIncidents:
        """From the rows' keys and JSON texts, in evaluation order. The rows may be
        streamed: only the texts of the blocks the dictionary is trained on, then a
        block's worth, are held at a time."""
        keys = KeysBuilder()
        texts: list[bytes] = []  # blocks not compressed yet
        blocks: list[bytes] = []
        docs: list[str] = []
        block_keys: list[str] = []
        codec: BlockCodec | None = None
        for key, doc in rows:
            block_keys.append(key)
            docs.append(doc)
            if len(docs) == DOCS_PER_BLOCK:
                texts.append(_block_text(docs))
                docs = []
                keys.extend(block_keys)
                block_keys = []
                if codec is None and len(texts) == TRAINING_BLOCKS:
                    codec = BlockCodec.trained(texts)
                if codec is not None:
                    blocks.extend(map(codec.compress, texts))
                    texts = []
        if docs:
            texts.append(_block_text(docs))
        if codec is None:
            codec = BlockCodec.trained(texts)
        blocks.extend(map(codec.compress, texts))
        keys.extend(block_keys)
        return cls(keys.build(), blocks, violations_at, codec)

    def __len__(self) -> int:
        return len(self.keys)

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

    def values(self, positions: Sequence[int]) -> Iterator[list[Any]]:
        """The parsed rows (arrays of values, or objects) at `positions`, `BLOCK` at a
        time: each block they fall in is decompressed once per step, and only the rows
        asked for are parsed (a page's rows lie in as many blocks as it has rows)."""
        for start in range(0, len(positions), BLOCK):
            step = positions[start : start + BLOCK]
            if isinstance(step, range) and step.step == 1 and len(step):
                yield self._run(step.start, step.stop)
                continue
            texts: dict[int, list[str]] = {}
            wanted = []
            for k in step:
                b, i = divmod(k, DOCS_PER_BLOCK)
                rows = texts.get(b)
                if rows is None:
                    rows = texts[b] = self._block_docs(b)
                wanted.append(rows[i])
            yield orjson.loads("[" + ",".join(wanted) + "]")

    def _block_docs(self, b: int) -> list[str]:
        return self.codec.decompress(self.blocks[b]).decode("utf-8").split("\n")

    def _run(self, start: int, stop: int) -> list[Any]:
        """The parsed rows start..stop-1: their blocks' texts parsed together, rows and all
        (an export reads every row in order: no row split off and joined again)."""
        first, last = start // DOCS_PER_BLOCK, -(-stop // DOCS_PER_BLOCK)
        texts = self.codec.joined(self.blocks[first:last], b",")
        rows = orjson.loads(b"[" + texts.replace(b"\n", b",") + b"]")
        skip = start - first * DOCS_PER_BLOCK
        return rows[skip : skip + stop - start]  # type: ignore[no-any-return]

    def decode(self, positions: Iterable[int]) -> list[dict[str, Any]]:
        """The incidents at `positions`."""
        rows = list(positions)
        out: list[dict[str, Any]] = []
        at, review_keys = self.violations_at, self.review_keys
        # The collector is paused for large reads only: it is paused for every thread,
        # and a server's pages, fifty at a time, would keep it off for good.
        with paused_gc() if len(rows) > BLOCK else contextlib.nullcontext():
            for start, values in zip(range(0, len(rows), BLOCK), self.values(rows), strict=True):
                for k, value in zip(rows[start : start + BLOCK], values, strict=True):
                    item = (
                        dict(zip(INCIDENT_FIELDS, value, strict=True))
                        if type(value) is list
                        else value
                    )
                    item["id"], item["violations"] = f"inc-{k + 1}", list(at.get(k, ()))
                    if review_keys is not None:
                        key = item["key"]
                        item["review_key"] = review_keys.get(key, key)
                    out.append(item)
        return out

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for start in range(0, len(self), BLOCK):
            yield from self.decode(range(start, min(start + BLOCK, len(self))))

    def row_digests(self) -> np.ndarray:
        """Per position, the 128-bit BLAKE2b digest of the incident's row as two uint64
        columns (n, 2). A row holds everything of its incident but the positional fields,
        so two rows with one digest are the same incident wherever each one sits: an
        evaluation read whole after a refresh moved most rows down is matched to the one
        held before without parsing a row (0.7 s at a million, against 15 s to parse)."""
        blake2b, parts = hashlib.blake2b, []
        for start in range(0, len(self.blocks), _DIGEST_BLOCKS):
            text = self.codec.joined(self.blocks[start : start + _DIGEST_BLOCKS], b"\n")
            rows = text.split(b"\n")
            parts.append(b"".join([blake2b(row, digest_size=16).digest() for row in rows]))
        return np.frombuffer(b"".join(parts), dtype=np.uint64).reshape(-1, 2)

    def violation_counts(self) -> np.ndarray:
        """How many violations each incident has, by position."""
        at = self.violations_at
        counts = np.zeros(len(self), dtype=np.int64)
        where = np.fromiter(at.keys(), dtype=np.int64, count=len(at))
        counts[where] = np.fromiter(map(len, at.values()), dtype=np.int64, count=len(at))
        return counts

    def same_docs(self, other: Sequence[dict[str, Any]]) -> np.ndarray:
        """Per position (of self): the incident there is the very row `other` holds there
        (in a block both share: `patched` compresses again only blocks with a change), so
        what was made of it may be kept. Violations are looked at separately."""
        same = np.zeros(len(self), dtype=bool)
        if isinstance(other, PackedIncidents):
            m = min(len(self), len(other))
            mine, theirs = self.blocks, other.blocks
            shared = [mine[b] is theirs[b] for b in range(min(len(mine), len(theirs)))]
            same[: len(shared) * DOCS_PER_BLOCK] = np.repeat(shared, DOCS_PER_BLOCK)[: len(same)]
            same[m:] = False
        return same

    def patched(
        self, changes: Sequence[tuple[str, int | None, str | None]], count: int
    ) -> tuple[PackedIncidents, int] | None:
        """These incidents with the rows written since (key, new position or None when
        removed, JSON), `count` in all, and the first position that differs; None if the
        rows do not add up (an unchanged row kept its place: had it moved, its new
        position would have been written). Only the blocks with a change are
        compressed again; violations are left to the caller."""
        changed = {key for key, _, _ in changes}
        were = self.keys.is_in(changed)
        gone = np.flatnonzero(were).tolist()
        if not were[count:].all():
            return None  # a row past the new end was neither moved nor removed
        new_docs: dict[int, str | None] = {k: None for k in gone if k < count}
        moved: list[tuple[int, str]] = []
        for key, pos, doc in changes:
            if pos is not None:
                if pos >= count or doc is None:
                    return None
                moved.append((pos, key))
                new_docs[pos] = doc
        keys = self.keys.replaced(count, moved)
        if keys is None:
            return None
        step = DOCS_PER_BLOCK
        n_blocks = -(-count // step)
        # Blocks with a change, and those whose extent changed (at the end).
        touched = {k // step for k in new_docs}
        if count != len(self):
            touched.update(range(min(count, len(self)) // step, n_blocks))
        blocks = self.blocks[:n_blocks]
        blocks += [b""] * (n_blocks - len(blocks))
        for b in sorted(touched):
            lo, hi = b * step, min((b + 1) * step, count)
            held: list[str] = self._block_docs(b) if b < len(self.blocks) else []
            docs: list[str | None] = [*held, *[None] * step][: hi - lo]
            for k in range(lo, hi):
                if k in new_docs:
                    docs[k - lo] = new_docs[k]
            if None in docs:
                return None
            blocks[b] = self.codec.compress(_block_text(docs))  # type: ignore[arg-type]
        first = min([count, len(self), *gone, *(k for k in new_docs)])
        patched = PackedIncidents(keys, blocks, self.violations_at, self.codec, self.review_keys)
        return patched, first

    def continued(
        self, kept: int, rows: Sequence[tuple[str, str]], violations_at: Mapping[int, list[str]]
    ) -> PackedIncidents:
        """The first `kept` of these incidents, then `rows` (key, JSON text): an
        evaluation computed again from position `kept` on. The blocks before it are
        shared (a reader of this one is not disturbed); the rest are compressed again
        with this codec."""
        if not 0 <= kept <= len(self):
            raise IndexError(f"{kept} incidents kept of {len(self)}")
        b0, within = divmod(kept, DOCS_PER_BLOCK)
        docs = [*(self._block_docs(b0)[:within] if within else ()), *(d for _, d in rows)]
        blocks = self.blocks[:b0] + [
            self.codec.compress(_block_text(docs[i : i + DOCS_PER_BLOCK]))
            for i in range(0, len(docs), DOCS_PER_BLOCK)
        ]
        chunks = [*self.keys[:kept].array.chunks, pa.array([k for k, _ in rows], pa.string())]
        column = pa.chunked_array(chunks, pa.string())
        if column.num_chunks > _KEY_CHUNKS:  # one per refresh otherwise, without end
            column = pa.chunked_array([column.combine_chunks()])
        return PackedIncidents(KeyColumn(column), blocks, violations_at, self.codec)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"PackedIncidents(<{len(self)} incidents>)"


def unchanged(items: Sequence[dict[str, Any]], before: Sequence[dict[str, Any]]) -> np.ndarray:
    """Per position of `items`: it holds what `before` held there, the very same object
    (dicts are never changed in place) or, packed, the very same row (`same_docs`)."""
    if isinstance(items, PackedIncidents):
        return items.same_docs(before)
    m = min(len(items), len(before))
    same = np.zeros(len(items), dtype=bool)
    same[:m] = np.fromiter((items[k] is before[k] for k in range(m)), dtype=bool, count=m)
    return same


def position_of(items: Sequence[dict[str, Any]], key: str) -> int | None:
    """Where the incident `key` is, if it is there."""
    keys = keys_of(items)
    if isinstance(keys, KeyColumn):
        return keys.position(key)  # the next key asked is found at once
    return key_positions(items, (key,)).get(key)


def key_positions(items: Sequence[Mapping[str, Any]], wanted: Collection[str]) -> dict[str, int]:
    """Where each of the incidents `wanted` is, for those that are there."""
    keys = keys_of(items)
    if isinstance(keys, KeyColumn):
        wanted = list(wanted)
        at = keys.positions(wanted).tolist()
        return {key: k for key, k in zip(wanted, at, strict=True) if k >= 0}
    return {key: k for k, key in enumerate(keys) if key in wanted}


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
        with paused_gc() if len(positions) > BLOCK else contextlib.nullcontext():
            for values in items.values(positions):
                if values and all(type(v) is list for v in values):
                    by_field = list(zip(*values, strict=True))  # transposed in C
                    for column, i in zip(out, at, strict=True):
                        column.extend(by_field[i])
                    continue
                for column, i, name in zip(out, at, names, strict=True):
                    column.extend([v[i] if type(v) is list else v[name] for v in values])
        return out
    return [[items[k][name] for k in positions] for name in names]


def items_at(items: Sequence[dict[str, Any]], positions: Iterable[int]) -> list[dict[str, Any]]:
    """The items at `positions` (packed ones decoded together)."""
    if isinstance(items, PackedIncidents):
        return items.decode(positions)
    return [items[k] for k in positions]
