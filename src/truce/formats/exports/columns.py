"""The columns of an export and the rows made from a user's view of an evaluation.

Every format writes the same columns in the same order (docs/exports.md): the
view's incidents or violations flattened to one row each, times in UTC. A row
is a tuple in column order; lists stay lists (each writer encodes them its
way). Rows come in blocks (lists of rows) so a writer handles one block at a
time and never the whole table.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from typing import Any, Literal

Kind = Literal["str", "int", "number", "bool", "time", "list"]
Row = tuple[Any, ...]
Block = list[Row]

BLOCK_ROWS = 10_000


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    hxl: str  # the HXL hashtag and attributes of the column (HXL 1.1 vocabulary)
    doc: str


def _c(name: str, kind: Kind, hxl: str, doc: str) -> Column:
    return Column(name, kind, hxl, doc)


_PLACE = (
    _c("lon", "number", "#geo+lon", "longitude, WGS84 (EPSG:4326)"),
    _c("lat", "number", "#geo+lat", "latitude, WGS84 (EPSG:4326)"),
    _c("location_precision_m", "number", "#geo+precision", "location uncertainty radius, metres"),
)

INCIDENT_COLUMNS: tuple[Column, ...] = (
    _c("key", "str", "#event+id", "stable key: SOURCE:REPORT_ID of the earliest report"),
    _c("observed_at", "time", "#date+start", "when it happened (start), UTC"),
    _c("observed_to", "time", "#date+end", "end of the time window, UTC; empty when exact"),
    *_PLACE,
    _c("event_type", "str", "#event+type", "shelling, airstrike, armed_clash, ..."),
    _c("weapon", "str", "#event+weapon", "weapon class, when reported"),
    _c("direction", "str", "#event+direction", "attack or mutual"),
    _c("party", "str", "#group+code+party", "the party charged (unattributed when unknown)"),
    _c("target", "str", "#group+code+target", "who or what was hit, when known"),
    _c("involved", "list", "#group+code+involved+list", "parties and groups involved"),
    _c("fatalities", "number", "#affected+killed", "best estimate of people killed"),
    _c("fatalities_low", "number", "#affected+killed+min", "lowest reported figure"),
    _c("fatalities_high", "number", "#affected+killed+max", "highest reported figure"),
    _c("count", "number", "#indicator+num+seen", "weapons or armed personnel seen"),
    _c("corroboration", "int", "#indicator+num+sources", "independent sources"),
    _c("grade", "str", "#meta+grade", "Admiralty grade, e.g. B2"),
    _c("sources", "list", "#meta+source+list", "the sources you may see"),
    _c("report_ids", "list", "#meta+report+list", "SOURCE:REPORT_ID of the reports you may see"),
    _c("datasets", "list", "#meta+dataset+list", "datasets the reports came from"),
    _c("violations", "int", "#indicator+num+violations", "violations you may see"),
    _c("published", "bool", "#status+published", "published by the secretariat"),
)

VIOLATION_COLUMNS: tuple[Column, ...] = (
    _c("key", "str", "#event+id", "stable key: AGREEMENT:RULE:INCIDENT_KEY"),
    _c("incident_key", "str", "#event+id+incident", "the incident's key"),
    _c("rule", "str", "#meta+rule", "the rule's id in the agreement"),
    _c("kind", "str", "#meta+rule+type", "the rule's kind (cease_attacks, no_fly, ...)"),
    _c("observed_at", "time", "#date+start", "the incident's time, UTC"),
    *_PLACE,
    _c("event_type", "str", "#event+type", "the incident's event type"),
    _c("party", "str", "#group+code+party", "the party charged"),
    _c("involved", "list", "#group+code+involved+list", "parties and groups involved"),
    _c("zone", "str", "#loc+code+zone", "the zone the rule concerns, if any"),
    _c("status", "str", "#status+corroboration", "alleged (one source) or corroborated"),
    _c("certainty", "str", "#status+certainty", "certain or possible"),
    _c("measured_m", "number", "#indicator+num+distance", "distance measured, metres"),
    _c("fatalities", "number", "#affected+killed", "the incident's best estimate"),
    _c("evidence", "str", "#description", "why, in words"),
    _c("review", "str", "#status+review", "alleged, disputed, confirmed or dismissed"),
    _c("published", "bool", "#status+published", "published by the secretariat"),
)

COLUMNS = {"incidents": INCIDENT_COLUMNS, "violations": VIOLATION_COLUMNS}


@dataclass(frozen=True)
class ExportTable:
    """What a writer writes: a layer name, its columns and the rows, block by block
    (a one-shot iterator)."""

    layer: str
    columns: tuple[Column, ...]
    blocks: Iterable[Block]

    def index(self, name: str) -> int:
        return [c.name for c in self.columns].index(name)


def utc_text(local: str | None) -> str | None:
    """An ISO 8601 time with offset as UTC with `Z`.

    >>> utc_text("2016-09-13T04:10:00+03:00")
    '2016-09-13T01:10:00Z'
    """
    if not local:
        return None
    return datetime.fromisoformat(local).astimezone(UTC).isoformat().replace("+00:00", "Z")


def _range(inc: dict[str, Any], bound: str) -> Any:
    r = inc.get("fatalities_range")
    return r.get(bound) if r else None


def incident_row(inc: dict[str, Any]) -> Row:
    get = inc.get
    return (
        inc["key"],
        utc_text(inc["observed_at"]),
        utc_text(get("observed_to")),
        inc["lon"],
        inc["lat"],
        get("location_precision_m"),
        inc["event_type"],
        get("weapon"),
        get("direction"),
        get("party"),
        get("target"),
        get("involved") or [],
        get("fatalities"),
        _range(inc, "low"),
        _range(inc, "high"),
        get("count"),
        get("corroboration"),
        get("grade"),
        get("sources") or [],
        get("report_ids") or [],
        get("datasets") or [],
        len(get("violations") or ()),
        get("published"),
    )


def violation_row(v: dict[str, Any], inc: dict[str, Any]) -> Row:
    get = v.get
    return (
        v["key"],
        v["incident_key"],
        v["rule"],
        v["kind"],
        utc_text(v["at"]),
        inc.get("lon"),
        inc.get("lat"),
        inc.get("location_precision_m"),
        inc.get("event_type"),
        get("party"),
        get("involved") or [],
        get("zone"),
        get("status"),
        get("certainty"),
        get("measured_m"),
        inc.get("fatalities"),
        get("evidence"),
        get("review"),
        get("published"),
    )


def incident_rows(incidents: Iterable[dict[str, Any]]) -> Iterator[Row]:
    return map(incident_row, incidents)


def violation_rows(
    violations: Iterable[dict[str, Any]], incidents: Iterable[dict[str, Any]]
) -> Iterator[Row]:
    """Each violation with its incident's place (none when the incident is not among
    `incidents`: then the row has no geometry rather than a made-up one)."""
    by_key = {inc["key"]: inc for inc in incidents}
    return (violation_row(v, by_key.get(v["incident_key"], {})) for v in violations)


def in_blocks(rows: Iterable[Row], size: int = BLOCK_ROWS) -> Iterator[Block]:
    it = iter(rows)
    while block := list(islice(it, size)):
        yield block


def view_table(view: dict[str, Any], what: str, block_rows: int = BLOCK_ROWS) -> ExportTable:
    """The incidents or violations of a user's view of an evaluation as an export table."""
    if what == "incidents":
        rows = incident_rows(view["incidents"])
    else:
        rows = violation_rows(view["violations"], view["incidents"])
    return ExportTable(what, COLUMNS[what], in_blocks(rows, block_rows))


def column_values(block: Sequence[Row], width: int) -> list[tuple[Any, ...]]:
    """A block as columns (the transpose; an empty block gives empty columns)."""
    return list(zip(*block, strict=True)) if block else [() for _ in range(width)]
