"""An agreement's stored evaluation as rows: one per incident, one per violation.

Each row holds its item as JSON without the positional ids (`inc-7`, `v-12`),
which follow from `pos`, its place in the evaluation. A refresh writes only the
rows whose JSON or place changed (and marks the ones gone as removed), all under
one new `generation`; so a process holding generation g brings its copy up to
date by reading the rows written after g (`changes_since`), not the whole
evaluation. Removed rows stay as tombstones (`pos` NULL) until the next refresh
that writes nearly everything anyway.

No value is larger than one incident or violation: the evaluation as one JSON
text (325 MB at 1M incidents) ran into PostgreSQL's 1 GB limit near 3M.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, Table, and_, bindparam, func, select, update

from truce.store.packed import (
    INCIDENT_FIELDS,
    PackedIncidents,
    incident_doc,
    keys_of,
    plain_value,
    violations_by_incident,
)
from truce.store.schema import evaluation_incidents, evaluation_violations

# Fields that follow from positions, rebuilt on load.
INCIDENT_POSITIONAL = frozenset({"id", "violations"})
VIOLATION_POSITIONAL = frozenset({"id", "incident"})
CHUNK = 5_000  # rows per statement
LOAD_ROWS = 16_384  # incident rows fetched at a time when loading


def _doc(item: dict[str, Any], positional: frozenset[str]) -> bytes:
    """The item as stored: the positional fields null (kept, so that they keep their
    place when a load fills them in); an incident as the array of its values
    (`truce.store.packed`)."""
    if positional is INCIDENT_POSITIONAL:
        return incident_doc(item, plain_value)
    doc = item.copy()  # a C-level copy: a comprehension over every key is 4x slower
    for name in positional:
        if name in doc:
            doc[name] = None
    return orjson.dumps(doc, default=plain_value)


def _digest(doc: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(doc, digest_size=8).digest(), "big", signed=True)


@dataclass(frozen=True)
class Plan:
    """What a refresh will write, worked out before taking the write lock: the rows that
    are new, moved or different, and the keys no longer in the evaluation, per table."""

    upserts: dict[str, list[dict[str, Any]]]
    removed: dict[str, list[str]]

    @property
    def changed(self) -> int:
        return sum(len(rows) for rows in self.upserts.values())

    @property
    def removals(self) -> int:
        return sum(len(keys) for keys in self.removed.values())


def compare(
    conn: Connection, agreement_id: str, data: dict[str, Any], kept_incidents: int = 0
) -> Plan:
    """Compare `data`'s incidents and violations with the rows stored (the caller holds
    the agreement's lease, so nobody else writes them meanwhile). `kept_incidents`: the
    rows of the first that many incidents stay as they are, and `data["incidents"]`
    holds the ones after them."""
    upserts: dict[str, list[dict[str, Any]]] = {}
    removed: dict[str, list[str]] = {}
    for table, items, positional, first in (
        (evaluation_incidents, data["incidents"], INCIDENT_POSITIONAL, kept_incidents),
        (evaluation_violations, data["violations"], VIOLATION_POSITIONAL, 0),
    ):
        q = select(table.c.key, table.c.pos, table.c.digest).where(
            table.c.agreement_id == agreement_id, table.c.pos >= first
        )
        before = {key: (pos, digest) for key, pos, digest in conn.execute(q).all()}
        rows = upserts[table.name] = []
        for pos, item in enumerate(items, start=first):
            doc = _doc(item, positional)
            digest = _digest(doc)
            if before.pop(item["key"], None) != (pos, digest):
                rows.append(
                    {
                        "agreement_id": agreement_id,
                        "key": item["key"],
                        "pos": pos,
                        "digest": digest,
                        "doc": doc.decode("utf-8"),
                        **_extra(table, item),
                    }
                )
        removed[table.name] = list(before)  # left over: no longer in the evaluation
    return Plan(upserts, removed)


def _extra(table: Table, item: dict[str, Any]) -> dict[str, Any]:
    if table is evaluation_incidents:
        return {"lon": item.get("lon"), "lat": item.get("lat")}
    return {"incident_key": item.get("incident_key")}


def apply(conn: Connection, agreement_id: str, plan: Plan, generation: int) -> None:
    """Write `plan` (from `compare`) as `generation`, inside the caller's write transaction."""
    for table in (evaluation_incidents, evaluation_violations):
        rows = plan.upserts[table.name]
        if rows:
            # The driver's executemany with one statement text: SQLAlchemy's compiled
            # insert works out every row's parameters in Python, as long again as
            # SQLite's own work (10k rows into 1M: 0.3 s of 0.8 s).
            sql = _upsert_sql(conn, table, [*rows[0], "generation"])
            for chunk in _chunks(rows):
                conn.exec_driver_sql(sql, [(*row.values(), generation) for row in chunk])
        tombstone = (
            update(table)
            .where(table.c.agreement_id == agreement_id, table.c.key == bindparam("k"))
            .values(pos=None, doc=None, digest=None, generation=generation)
        )
        for chunk in _chunks([{"k": key} for key in plan.removed[table.name]]):
            conn.execute(tombstone, chunk)


def _upsert_sql(conn: Connection, table: Table, names: list[str]) -> str:
    """Insert a row of `names` (in that order), or update the one with its key."""
    quote = conn.dialect.identifier_preparer.quote
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    updates = ", ".join(
        f"{quote(n)} = excluded.{quote(n)}" for n in names if n not in ("agreement_id", "key")
    )
    return (
        f"INSERT INTO {quote(table.name)} ({', '.join(map(quote, names))}) "
        f"VALUES ({', '.join([mark] * len(names))}) "
        f"ON CONFLICT (agreement_id, {quote('key')}) DO UPDATE SET {updates}"
    )


def _chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


def load_violations(conn: Connection, agreement_id: str) -> list[dict[str, Any]]:
    """The stored violations in order, with their ids and their incidents' (found by
    key in the incidents' rows, which need not be read for it)."""
    v, i = evaluation_violations, evaluation_incidents
    q = (
        select(v.c.pos, v.c.doc, i.c.pos)
        .join_from(v, i, and_(i.c.agreement_id == v.c.agreement_id, i.c.key == v.c.incident_key))
        .where(v.c.agreement_id == agreement_id, v.c.pos.is_not(None))
    )
    rows = conn.execute(q).all()
    docs: list[str] = [""] * len(rows)
    incident_at = [0] * len(rows)
    for pos, doc, at in rows:
        docs[pos], incident_at[pos] = doc, at
    del rows
    violations = _parse_joined(docs)
    for k, (item, at) in enumerate(zip(violations, incident_at, strict=True)):
        item["id"], item["incident"] = f"v-{k + 1}", f"inc-{at + 1}"  # fresh dicts: in place
    return violations


def load_incidents(
    conn: Connection, agreement_id: str, violations: list[dict[str, Any]]
) -> PackedIncidents:
    """The stored incidents in order, kept as their rows' JSON (`PackedIncidents`), with
    their violations' ids (`violations` as `load_violations` gives them)."""
    t = evaluation_incidents
    q = (
        select(t.c.pos, t.c.key, t.c.doc)
        .where(t.c.agreement_id == agreement_id, t.c.pos.is_not(None))
        .order_by(t.c.pos)
    )
    # Streamed (the covering index gives them in order): a million rows read at once
    # leave their freed texts between the keys kept, which the process never gets back.
    rows = conn.execution_options(yield_per=LOAD_ROWS).execute(q)
    return PackedIncidents.pack(_in_place(rows), violations_by_incident(violations))


def _in_place(rows: Iterable[Any]) -> Iterator[tuple[str, str]]:
    for expected, (pos, key, doc) in enumerate(rows):
        if pos != expected:
            raise RuntimeError(f"stored incident positions skip {expected} (found {pos})")
        yield key, doc


def _parse_joined(docs: list[str]) -> list[dict[str, Any]]:
    # One parse of the joined rows: orjson's per-call overhead, a million times, is not free.
    return orjson.loads("[" + ",".join(docs) + "]")  # type: ignore[no-any-return]


def link(
    incidents: Incidents,
    violations: list[dict[str, Any]],
    *,
    incidents_from: int = 0,
    violations_from: int = 0,
    touched_before: Iterable[str] = (),
) -> tuple[Incidents, list[dict[str, Any]]]:
    """The items with the positional ids put back: `inc-{pos+1}`, `v-{pos+1}`, each
    violation's incident id and each incident's violation ids (in violation order).

    `incidents_from`, `violations_from`: the items before these positions are those of
    the linked evaluation a patch started from, in their places (`patch`), so only
    the ones after them and the ones they refer to are looked at: a refresh that
    adds a few incidents at the end costs a few, not a million. `touched_before`: the
    keys of the incidents the evaluation patched had violations for from `violations_from`
    on (those may have lost one). An item that already
    says all that is reused as it is; the others are new dicts. Items are never
    changed in place: a reader may still hold the previous evaluation. Packed incidents
    (`PackedIncidents`) are never looked at: their ids follow from their positions."""
    id_of = dict(
        zip(
            keys_of(incidents)[incidents_from:]
            if isinstance(incidents, PackedIncidents)
            else [inc["key"] for inc in incidents[incidents_from:]],
            [f"inc-{k}" for k in range(incidents_from + 1, len(incidents) + 1)],
            strict=True,
        )
    )
    # Incidents whose list of violations may differ: those of the violations that
    # changed or moved, and every incident from `incidents_from` on.
    touched = {v["incident_key"] for v in violations[violations_from:]} | id_of.keys()
    touched.update(touched_before)
    by_incident: dict[str, list[str]] = {}
    earlier: dict[str, str] = {}  # ids of incidents before `incidents_from`, if ever needed

    def incident_id(key: str) -> str:
        if key in id_of:
            return id_of[key]
        if not earlier:  # a changed violation of an incident in place: rare, so made late
            earlier.update(
                (key, f"inc-{k + 1}") for k, key in enumerate(keys_of(incidents)[:incidents_from])
            )
        return earlier[key]

    linked_violations = violations[:violations_from]
    for k, v in enumerate(violations):
        key = v["incident_key"]
        if key in touched:
            by_incident.setdefault(key, []).append(f"v-{k + 1}")
        if k < violations_from and key not in id_of:
            continue  # in place, and so is its incident
        _put(linked_violations, k, v, f"v-{k + 1}", "incident", incident_id(key))
    if isinstance(incidents, PackedIncidents):
        at = violations_by_incident(linked_violations)
        return incidents.with_violations(at), linked_violations
    linked_incidents = incidents[:incidents_from]
    for k, inc in enumerate(incidents):
        key = inc["key"]
        if k < incidents_from and key not in touched:
            continue
        _put(linked_incidents, k, inc, f"inc-{k + 1}", "violations", by_incident.get(key, []))
    return linked_incidents, linked_violations


def _put(
    out: list[dict[str, Any]], k: int, item: dict[str, Any], item_id: str, name: str, value: Any
) -> None:
    """`item` as entry k of `out` (which holds entries 0..k-1 at least), saying `item_id`
    and `value` for `name`: itself if it already does, else a new dict."""
    if item.get("id") != item_id or item.get(name) != value:
        item = _with(item, item_id, name, value)
    if k < len(out):
        out[k] = item
    else:
        out.append(item)


def _with(item: dict[str, Any], item_id: str, name: str, value: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"id": item_id}  # first, as in `truce evaluate`'s output
    out.update(item)
    out["id"], out[name] = item_id, value
    return out


Change = tuple[str, int | None, str | None]  # key, pos (None: removed), the row's JSON
Incidents = list[dict[str, Any]] | PackedIncidents


def rows_since(conn: Connection, agreement_id: str, generation: int) -> int:
    """How many incident rows refreshes wrote after `generation` (an index range)."""
    t = evaluation_incidents
    q = select(func.count()).where(t.c.agreement_id == agreement_id, t.c.generation > generation)
    return int(conn.execute(q).scalar_one())


def changes_since(
    conn: Connection, agreement_id: str, generation: int
) -> tuple[list[Change], list[Change]]:
    """The incident and violation rows written by refreshes after `generation`."""

    def read(table: Table) -> list[Change]:
        q = select(table.c.key, table.c.pos, table.c.doc).where(
            table.c.agreement_id == agreement_id, table.c.generation > generation
        )
        return [(key, pos, doc) for key, pos, doc in conn.execute(q).all()]

    return read(evaluation_incidents), read(evaluation_violations)


def patch(items: Any, changes: list[Change], count: int) -> tuple[Any, int] | None:
    """`items` (one table of an evaluation this process holds: dicts, or packed
    incidents) brought up to date with the rows written since, and the first position
    that differs from `items`; None if they do not add up to `count` items (then the
    caller loads the whole table). An unchanged row kept its place: had it moved, its
    new `pos` would have been written. The positional fields are left to `link`."""
    if isinstance(items, PackedIncidents):
        return items.patched(changes, count)
    changed = {key for key, _, _ in changes}
    out: list[dict[str, Any] | None] = [None] * count
    first = min(count, len(items))
    for k, item in enumerate(items):
        if item["key"] in changed:
            first = min(first, k)
        else:
            if k >= count:
                return None
            out[k] = item
    for _key, pos, doc in changes:
        if pos is not None:
            if pos >= count:
                return None
            out[pos] = _parsed(doc)
            first = min(first, pos)
    if any(item is None for item in out):
        return None
    return out, first


def _parsed(doc: str | None) -> dict[str, Any]:
    assert doc is not None, "a row in place has its JSON"
    value = orjson.loads(doc)
    return dict(zip(INCIDENT_FIELDS, value, strict=True)) if isinstance(value, list) else value
