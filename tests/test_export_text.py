"""The exports' column-at-a-time writers against the obvious row-at-a-time ones.

CSV cells must be what Python's `csv` module writes for the same values, JSON what
orjson writes, times what `datetime.isoformat` writes; and the incidents read
straight from a packed evaluation's rows (`truce.store.packed_arrow`) must be the
rows the parsed incidents give, whatever their text holds (escapes, quotes, commas,
line breaks, rows stored as objects, values of an unexpected type)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from truce.formats.exports import FORMATS
from truce.formats.exports.arrow import batch_schema
from truce.formats.exports.columns import INCIDENT_COLUMNS, ExportTable
from truce.formats.exports.csv import csv_chunks
from truce.formats.exports.geojson import ndjson_chunks
from truce.service.exports import source_table
from truce.service.views import Source
from truce.service.visibility import Visibility
from truce.store.key_column import KeySet
from truce.store.packed import INCIDENT_FIELDS, PackedIncidents, incident_doc
from truce.store.users import SYSTEM_USER

TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
# Mostly plain words, as real keys and codes are; sometimes anything at all.
WORD = st.one_of(st.from_regex(r"[a-z0-9:_-]{1,12}", fullmatch=True), TEXT)
NUMBER = st.one_of(
    st.none(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
)
OFFSET = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
MOMENT = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=OFFSET
).map(lambda t: t.isoformat())


def _numbers_as_floats(rows: list[list[str]], numeric: set[int]) -> list[list[Any]]:
    return [[float(c) if k in numeric and c else c for k, c in enumerate(r)] for r in rows]


@st.composite
def incidents(draw: st.DrawFn) -> dict[str, Any]:
    inc = {
        "id": None,
        "key": draw(WORD),
        "report_ids": draw(st.one_of(st.none(), st.lists(WORD, max_size=4))),
        "sources": draw(st.one_of(st.none(), st.lists(WORD, max_size=3))),
        "event_type": draw(st.one_of(st.none(), WORD)),
        "weapon": draw(st.one_of(st.none(), WORD)),
        "observed_at": draw(MOMENT),
        "lon": draw(st.one_of(st.none(), st.floats(-180, 180))),
        "lat": draw(st.one_of(st.none(), st.floats(-90, 90))),
        "precision_m": draw(NUMBER),
        "party": draw(st.one_of(st.none(), WORD)),
        "target": draw(st.one_of(st.none(), WORD)),
        "corroboration": draw(st.integers(0, 50)),
        "grade": draw(st.one_of(st.none(), WORD)),
        "count": draw(NUMBER),
        "fatalities": draw(NUMBER),
        "violations": draw(st.lists(st.from_regex(r"v-[0-9]{1,3}", fullmatch=True), max_size=2)),
        "observed_to": draw(st.one_of(st.none(), MOMENT)),
        "location_precision_m": draw(NUMBER),
        "fatalities_range": draw(
            st.one_of(st.none(), st.fixed_dictionaries({"low": NUMBER, "high": NUMBER}))
        ),
        "direction": draw(st.one_of(st.none(), WORD)),
        "involved": draw(st.one_of(st.none(), st.lists(WORD, max_size=3))),
        "datasets": draw(st.one_of(st.none(), st.lists(WORD, max_size=2))),
    }
    assert tuple(inc) == INCIDENT_FIELDS
    if draw(st.integers(0, 9)) == 0:
        inc["extra"] = "stored as an object"  # not exactly INCIDENT_FIELDS
    return inc


def _everything(items: list[dict[str, Any]]) -> Source:
    vis = Visibility(SYSTEM_USER, {}, KeySet.of(()), set())
    return Source({"incidents": items, "violations": []}, vis, 0, stale=False)


def _batches(src: Source, block_rows: int) -> pa.Table:
    table = source_table(src, "incidents", block_rows)
    return pa.Table.from_batches(list(table.blocks), schema=batch_schema(INCIDENT_COLUMNS))


@settings(max_examples=60, deadline=None)
@given(st.lists(incidents(), max_size=30), st.integers(1, 12), st.sets(st.integers(0, 29)))
def test_packed_rows_read_as_arrow_give_the_parsed_incidents(
    items: list[dict[str, Any]], block_rows: int, published_at: set[int]
) -> None:
    for k, inc in enumerate(items):
        inc["key"] = f"{inc['key']}#{k}"  # keys are unique
    published = {items[k]["key"] for k in published_at if k < len(items)}
    vis = Visibility(SYSTEM_USER, {}, KeySet.of(published), set())
    violations = [
        {"id": v, "key": f"{inc['key']}:{v}", "incident_key": inc["key"]}
        for inc in items
        for v in inc["violations"]
    ]
    packed = PackedIncidents.pack(
        ((inc["key"], incident_doc(inc, None).decode()) for inc in items),
        {k: inc["violations"] for k, inc in enumerate(items) if inc["violations"]},
    )
    as_dicts = Source({"incidents": items, "violations": violations}, vis, 0, stale=False)
    held = Source({"incidents": packed, "violations": violations}, vis, 0, stale=False)
    want, got = _batches(as_dicts, block_rows), _batches(held, block_rows)
    assert got.to_pylist() == want.to_pylist()
    for fmt in FORMATS.values():
        if fmt.chunks is not None:
            tables = [source_table(s, "incidents", block_rows) for s in (as_dicts, held)]
            assert b"".join(fmt.chunks(tables[0])) == b"".join(fmt.chunks(tables[1]))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, list):
        return ";".join(value)
    return str(value)


@settings(max_examples=80, deadline=None)
@given(st.lists(incidents(), min_size=1, max_size=20))
def test_csv_cells_are_what_the_csv_module_writes(items: list[dict[str, Any]]) -> None:
    table = _batches(_everything(items), 7)
    names = [c.name for c in INCIDENT_COLUMNS]
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(
        [[_cell(row[n]) for n in names] for row in table.to_pylist()]
    )
    export = ExportTable("incidents", INCIDENT_COLUMNS, table.to_batches())
    written = b"".join(csv_chunks(export)).decode()
    header, _, body = written.partition("\r\n")
    assert header.split(",") == names
    numeric = {k for k, c in enumerate(INCIDENT_COLUMNS) if c.kind == "number"}
    mine = _numbers_as_floats(list(csv.reader(io.StringIO(body, newline=""))), numeric)
    theirs = _numbers_as_floats(list(csv.reader(io.StringIO(out.getvalue(), newline=""))), numeric)
    assert mine == theirs
    # Quoted only where the csv module quotes (numbers, written differently, have none).
    assert body.count('"') == out.getvalue().count('"')


@settings(max_examples=80, deadline=None)
@given(st.lists(incidents(), min_size=1, max_size=20))
def test_geojson_features_are_what_orjson_writes(items: list[dict[str, Any]]) -> None:
    table = _batches(_everything(items), 5)
    export = ExportTable("incidents", INCIDENT_COLUMNS, table.to_batches())
    lines = b"".join(ndjson_chunks(export)).split(b"\n")
    assert lines[-1] == b""
    for line, row in zip(lines[:-1], table.to_pylist(), strict=True):
        props = {
            k: v.astimezone(UTC).isoformat().replace("+00:00", "Z")
            if isinstance(v, datetime)
            else v
            for k, v in row.items()
        }
        point = None if row["lon"] is None or row["lat"] is None else [row["lon"], row["lat"]]
        want = {
            "type": "Feature",
            "id": row["key"],
            "geometry": point and {"type": "Point", "coordinates": point},
            "properties": props,
        }
        assert orjson.loads(line) == want
        assert orjson.loads(line) == orjson.loads(orjson.dumps(want))
